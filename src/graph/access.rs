//! A caller's access to a space through Graph: which space an id names for them (and their
//! role in it), and whether that role may manage it. Shared by the drive and permission
//! endpoints.

use super::GraphError;
use crate::auth::Principal;
use crate::spaces::{Role, Space, SpaceId, SpaceKind, StoreError};
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
