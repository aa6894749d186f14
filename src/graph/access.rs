//! A caller's access through Graph: which space an id names for them (and their role in it),
//! whether that role may manage it (shared by the drive and permission endpoints), and which
//! item a drive and resource id name, what the caller may grant on it and which of its shares
//! they may change (the item permission endpoints).

use uuid::Uuid;

use super::{GraphError, parse_body};
use crate::auth::Principal;
use crate::sharing::access::{READ, SHARE};
use crate::spaces::{Node, ResourceId, Role, Share, Space, SpaceId, SpaceKind, StoreError, UserId};
use crate::state::AppState;

/// The space `sid` names and the caller's role in it; 404 when it does not exist or the caller
/// has no role (admins see every space, as managers).
pub(super) async fn space_for(
    state: &AppState,
    p: &Principal,
    sid: &str,
) -> Result<(Space, Role), GraphError> {
    let sid: SpaceId = sid.parse().map_err(|_| GraphError::ItemNotFound)?;
    if sid.storage != state.store().storage_id() {
        return Err(GraphError::ItemNotFound);
    }
    let space = match state.store().space(sid.space).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Err(GraphError::ItemNotFound),
        Err(e) => return Err(e.into()),
    };
    let role = state.store().granted_role(sid.space, p.user.id).await?;
    let role = if p.user.is_admin {
        Some(Role::Manager)
    } else {
        role
    };
    match role {
        Some(r) if !space.disabled || r == Role::Manager => Ok((space, r)),
        _ => Err(GraphError::ItemNotFound),
    }
}

/// `p` may manage `space`: a manager of a project space (or an admin).
pub(super) fn require_manager(space: &Space, role: Role) -> Result<(), GraphError> {
    if role != Role::Manager {
        return Err(GraphError::AccessDenied(
            "only space managers may do this".into(),
        ));
    }
    if space.kind != SpaceKind::Project {
        return Err(GraphError::InvalidRequest(
            "personal spaces cannot be changed this way".into(),
        ));
    }
    Ok(())
}

/// The item `rid` in drive `sid` and what the requester may grant on it; 404 when they cannot
/// read it.
pub(super) async fn item(
    state: &AppState,
    user: UserId,
    sid: &str,
    rid: &str,
) -> Result<(Node, u32), GraphError> {
    let store = state.store();
    // A drive id may come as its root's resource id (`{sid}!{root}`: a mount point's
    // `remoteItem.rootId`, which Web uses as the drive of a share space).
    let sid = sid.split_once('!').map_or(sid, |(d, _)| d);
    let sid: SpaceId = sid.parse().map_err(|_| GraphError::ItemNotFound)?;
    let rid: ResourceId = rid.parse().map_err(|_| GraphError::ItemNotFound)?;
    if sid != rid.space || sid.storage != store.storage_id() {
        return Err(GraphError::ItemNotFound);
    }
    let node = match store.node(rid.node).await {
        Ok(n) if n.space == sid.space => n,
        Ok(_) | Err(StoreError::NotFound) => return Err(GraphError::ItemNotFound),
        Err(e) => return Err(e.into()),
    };
    let bits = crate::sharing::ocs::sharer_bits(state, user, &node)
        .await
        .map_err(|_| GraphError::Internal("share rights".into()))?;
    if bits & READ == 0 {
        return Err(GraphError::ItemNotFound);
    }
    Ok((node, bits))
}

/// Refuse what the requester may not grant.
pub(super) fn may_grant(node: &Node, mine: u32, bits: u32) -> Result<(), GraphError> {
    if node.parent.is_none() {
        return Err(GraphError::AccessDenied(
            "a space root cannot be shared".into(),
        ));
    }
    if mine & SHARE == 0 || bits & !mine != 0 {
        return Err(GraphError::AccessDenied(
            "cannot grant more permissions than you have".into(),
        ));
    }
    Ok(())
}

/// What `createLink` and `invite` start from: the item (`sid`, `rid`), the parsed body, and the
/// bits the body asks for (`bits_of` the body and whether the item is a folder), refused when
/// the requester may not grant them.
pub(super) async fn grant<B: serde::de::DeserializeOwned>(
    state: &AppState,
    p: &Principal,
    (sid, rid): (&str, &str),
    body: &[u8],
    bits_of: impl FnOnce(&B, bool) -> Result<u32, GraphError>,
) -> Result<(Node, B, u32), GraphError> {
    let (node, mine) = item(state, p.user.id, sid, rid).await?;
    let b: B = parse_body(body)?;
    let bits = bits_of(&b, node.is_folder())?;
    may_grant(&node, mine, bits)?;
    Ok((node, b, bits))
}

/// The share `pid` on the item, if the requester created it or manages its space.
pub(super) async fn owned(
    state: &AppState,
    p: &Principal,
    sid: &str,
    rid: &str,
    pid: &str,
) -> Result<(Node, u32, Share), GraphError> {
    let (node, mine) = item(state, p.user.id, sid, rid).await?;
    let uid = Uuid::parse_str(pid).map_err(|_| GraphError::ItemNotFound)?;
    let share = match state.store().share_by_uid(uid).await {
        Ok(s) if s.node == node.id => s,
        Ok(_) | Err(StoreError::NotFound) => return Err(GraphError::ItemNotFound),
        Err(e) => return Err(e.into()),
    };
    let manager = state.store().role(share.space, p.user.id).await? == Some(Role::Manager);
    if share.created_by != p.user.id && !manager {
        return Err(GraphError::ItemNotFound);
    }
    Ok((node, mine, share))
}
