//! How OCS sees shares: a requester's path (their personal space, or `/Shares/{name}` for what
//! they received) resolved to a node with their rights, and the share element ownCloud 10 and
//! reva render.

use super::access::role_bits;
use super::dates::format_ocs;
use crate::ocs::OcsError;
use crate::ocs::value::{Value, map, s};
use crate::spaces::{Node, Share, ShareKind, SpacePath, StoreError, UserId};
use crate::state::AppState;

/// Where a requester's path points, and what they may do there.
pub(super) struct Located {
    pub space: uuid::Uuid,
    pub node: Node,
    /// The requester's OCS bits on it.
    pub bits: u32,
}

pub(super) fn missing(what: &str) -> OcsError {
    OcsError::Missing(format!("{what} not found"))
}

pub(super) fn store_missing(what: &'static str) -> impl Fn(StoreError) -> OcsError {
    move |e| match e {
        StoreError::NotFound => missing(what),
        e => OcsError::Store(e),
    }
}

/// The requester's path: `/Shares/{name}/…` inside a received share, else their personal space.
pub(super) async fn locate(
    state: &AppState,
    user: UserId,
    path: &str,
) -> Result<Located, OcsError> {
    let store = state.store();
    let p = SpacePath::parse(path).map_err(|e| OcsError::Invalid(e.to_string()))?;
    let comps = p.components();
    if comps.first().map(String::as_str) == Some(super::SHARES_FOLDER) && comps.len() >= 2 {
        let (share, root) = received_named(state, user, &comps[1])
            .await?
            .ok_or_else(|| missing("path"))?;
        let root_path = store.path_of(&root).await?;
        let rest = SpacePath::parse(&format!("/{}", comps[2..].join("/")))
            .map_err(|e| OcsError::Invalid(e.to_string()))?;
        let node = store
            .resolve(share.space, &root_path.join(&rest))
            .await
            .map_err(store_missing("path"))?;
        let bits = store.received_permissions(user, node.id).await?;
        return Ok(Located {
            space: share.space,
            node,
            bits,
        });
    }
    let node = store
        .resolve(user.0, &p)
        .await
        .map_err(store_missing("path"))?;
    let role = store
        .role(user.0, user)
        .await?
        .ok_or_else(|| missing("path"))?;
    Ok(Located {
        space: user.0,
        node,
        bits: role_bits(role),
    })
}

/// The received share shown as `/Shares/{name}`, with its node.
pub(super) async fn received_named(
    state: &AppState,
    user: UserId,
    name: &str,
) -> Result<Option<(Share, Node)>, OcsError> {
    let now = state.clock().now_ns();
    for share in state.store().shares_received(user).await? {
        if share.expired(now) {
            continue;
        }
        let node = state.store().node(share.node).await?;
        if node.name == name {
            return Ok(Some((share, node)));
        }
    }
    Ok(None)
}

pub(super) fn kind_code(k: ShareKind) -> i64 {
    match k {
        ShareKind::User => 0,
        ShareKind::Group => 1,
        ShareKind::Link => 3,
    }
}

/// The share element as ownCloud 10 and reva render it.
pub(super) async fn element(
    state: &AppState,
    base: &str,
    viewer: UserId,
    share: &Share,
) -> Result<Value, OcsError> {
    let store = state.store();
    let node = store.node(share.node).await?;
    let owner = store.user(share.created_by).await?;
    let space = store.space(share.space).await?;
    let file_owner = store
        .user(space.owner)
        .await
        .unwrap_or_else(|_| owner.clone());
    let received = share.created_by != viewer && store.role(share.space, viewer).await?.is_none();
    let path = if received {
        format!("/{}/{}", super::SHARES_FOLDER, node.name)
    } else {
        store.path_of(&node).await?.to_string()
    };
    let (with, with_name) = match (share.kind, share.grantee) {
        (ShareKind::User, Some(id)) => {
            let u = store.user(UserId(id)).await?;
            (u.name, u.display_name)
        }
        (ShareKind::Group, Some(id)) => {
            let g = store.group(id).await?;
            (g.name, g.display_name)
        }
        _ => (String::new(), String::new()),
    };
    let rid = crate::spaces::ResourceId {
        space: store.space_id(share.space),
        node: node.id,
    }
    .to_string();
    let parent = match node.parent {
        Some(p) => crate::spaces::ResourceId {
            space: store.space_id(share.space),
            node: p,
        }
        .to_string(),
        None => String::new(),
    };
    let token = share.token.clone().unwrap_or_default();
    let url = if token.is_empty() {
        String::new()
    } else {
        format!("{base}/s/{token}")
    };
    Ok(map([
        ("id", s(share.id.to_string())),
        ("share_type", Value::Int(kind_code(share.kind))),
        ("uid_owner", s(&owner.name)),
        ("displayname_owner", s(&owner.display_name)),
        ("permissions", Value::Int(i64::from(share.permissions))),
        ("stime", Value::Int(share.created_at / 1_000_000_000)),
        ("parent", s("")),
        (
            "expiration",
            s(share.expires_at.map(format_ocs).unwrap_or_default()),
        ),
        ("token", s(token)),
        ("uid_file_owner", s(&file_owner.name)),
        ("displayname_file_owner", s(&file_owner.display_name)),
        ("path", s(&path)),
        (
            "item_type",
            s(if node.is_folder() { "folder" } else { "file" }),
        ),
        (
            "mimetype",
            s(if node.is_folder() {
                "httpd/unix-directory".to_string()
            } else {
                node.content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".into())
            }),
        ),
        ("storage_id", s(store.space_id(share.space).to_string())),
        ("storage", Value::Int(0)),
        ("item_source", s(&rid)),
        ("file_source", s(&rid)),
        ("file_parent", s(parent)),
        ("file_target", s(&path)),
        ("share_with", s(&with)),
        ("share_with_displayname", s(&with_name)),
        ("mail_send", Value::Int(0)),
        ("name", s(share.name.clone().unwrap_or_default())),
        ("url", s(url)),
        ("state", Value::Int(0)),
    ]))
}

/// Whether `user` may see and manage `share`: its creator, or a manager of its space.
pub(super) async fn manages(
    state: &AppState,
    user: UserId,
    share: &Share,
) -> Result<bool, OcsError> {
    if share.created_by == user {
        return Ok(true);
    }
    Ok(state.store().role(share.space, user).await? == Some(crate::spaces::Role::Manager))
}
