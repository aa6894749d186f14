//! Parsed WebDAV URL → (space, path, role) for the three WebDAV roots of SPEC §1: `resolve`
//! looks the space key ([`super::url_parse`] splits the URL) up and checks membership: a space
//! the requester is not a member of is reported as not found.

use super::error::DavError;
use super::url_parse::{DavUrl, Root};
use crate::sharing::{Access, access::role_for, mounts};
use crate::spaces::{
    NodeId, ResourceId, Role, Share, Space, SpaceId, SpacePath, StoreError, User, UserId,
};
use crate::state::AppState;

/// A resolved WebDAV URL: where in which space, with which role.
#[derive(Debug, Clone)]
pub struct Target {
    /// The space.
    pub space: Space,
    /// The requester's role in it.
    pub role: Role,
    /// The folder the prefix addresses (the root, or the folder of a `{rid}`).
    pub base: SpacePath,
    /// The parsed URL.
    pub url: DavUrl,
    /// When access comes through a share or link: its OCS bits, which narrow `role`.
    pub access: Option<Access>,
    /// For a shared file (a file link or a received file share): the file, the one thing
    /// below `base` the request may see or change.
    pub only: Option<NodeId>,
    /// For a public link: its share id (a tus upload made through it honours it for its
    /// whole life, `spaces::upload_grant`).
    pub link: Option<i64>,
}

impl Target {
    /// The space uuid.
    pub fn space_uuid(&self) -> uuid::Uuid {
        self.space.id.space
    }

    /// The addressed path from the space root.
    pub fn path(&self) -> SpacePath {
        self.base.join(&self.url.rest)
    }
}

fn not_found(e: StoreError) -> DavError {
    match e {
        StoreError::NotFound => DavError::NotFound,
        other => other.into(),
    }
}

pub use crate::sharing::SHARE_JAIL;

/// Look up the space of `url` and the requester's role in it (or, for a resource the
/// requester does not hold a role on, the shares they received on it or above it).
pub async fn resolve(state: &AppState, user: &User, url: DavUrl) -> Result<Target, DavError> {
    let store = state.store();
    if url.root.is_public() {
        let token = url.key.clone().ok_or(DavError::NotFound)?;
        let link = crate::sharing::public::lookup(state, &token)
            .await
            .map_err(|_| DavError::NotFound)?;
        return public_target(state, &link, url).await;
    }
    if url.root == Root::Spaces
        && url
            .key
            .as_deref()
            .is_some_and(|k| k.starts_with(SHARE_JAIL))
    {
        return jail_target(state, user, url).await;
    }
    let (space_id, base, node) = match (url.root, url.key.as_deref()) {
        (Root::Spaces, Some(key)) if key.contains('!') => {
            let rid: ResourceId = key.parse().map_err(|_| DavError::NotFound)?;
            if rid.space.storage != store.storage_id() {
                return Err(DavError::NotFound);
            }
            let node = store.node(rid.node).await.map_err(not_found)?;
            if node.space != rid.space.space || !node.is_folder() {
                return Err(DavError::NotFound);
            }
            let base = store.path_of(&node).await?;
            (rid.space.space, base, Some(node.id))
        }
        (Root::Spaces, Some(key)) => {
            let sid: SpaceId = key.parse().map_err(|_| DavError::NotFound)?;
            if sid.storage != store.storage_id() {
                return Err(DavError::NotFound);
            }
            (sid.space, SpacePath::root(), None)
        }
        // The signed-in user's own files (what clients address nearly always) need no lookup.
        (Root::Files, Some(name)) if name.to_lowercase() == user.name.to_lowercase() => {
            (user.id.0, SpacePath::root(), None)
        }
        (Root::Files, Some(name)) => {
            let owner = match store.user_by_name(name).await {
                Ok(u) => u,
                Err(StoreError::NotFound) => match uuid::Uuid::parse_str(name) {
                    Ok(id) => store.user(UserId(id)).await.map_err(not_found)?,
                    Err(_) => return Err(DavError::NotFound),
                },
                Err(e) => return Err(e.into()),
            };
            (owner.id.0, SpacePath::root(), None)
        }
        _ => (user.id.0, SpacePath::root(), None),
    };
    let (space, role) = store
        .space_with_role(space_id, user.id)
        .await
        .map_err(not_found)?;
    let (role, access) = match role {
        Some(role) => (role, None),
        None => {
            let node = node.ok_or(DavError::NotFound)?;
            let bits = store.received_permissions(user.id, node).await?;
            if bits == 0 {
                return Err(DavError::NotFound);
            }
            (role_for(bits), Some(Access(bits)))
        }
    };
    Ok(Target {
        space,
        role,
        base,
        url,
        access,
        only: None,
        link: None,
    })
}

/// A received share, in the jail by name (`{jail}/{mount name}/…`) or by its mount id
/// (`{jail}!{share id}/…`, the `webDavUrl` of its `mountpoint` drive). A folder mount
/// addresses the folder; a file mount addresses the folder holding the file, showing and
/// accepting nothing but the file (under its mount name in the jail), as a file link does.
async fn jail_target(state: &AppState, user: &User, url: DavUrl) -> Result<Target, DavError> {
    let store = state.store();
    let key = url.key.as_deref().unwrap_or_default();
    let comps = url.rest.components().to_vec();
    let (mount, prefix, rest) = if key == SHARE_JAIL {
        let name = comps.first().ok_or(DavError::NotFound)?;
        let mount = mounts::by_name(state, user.id, name)
            .await?
            .ok_or(DavError::NotFound)?;
        if mount.node.is_folder() {
            let prefix = format!("{}/{}", url.prefix, name);
            (mount, prefix, &comps[1..])
        } else if comps.len() == 1 {
            (mount, url.prefix.clone(), &comps[..])
        } else {
            return Err(DavError::NotFound);
        }
    } else {
        let mount = mounts::by_id(state, user.id, key)
            .await?
            .ok_or(DavError::NotFound)?;
        let file_itself = comps.is_empty() || (comps.len() == 1 && comps[0] == mount.node.name);
        if !mount.node.is_folder() && !file_itself {
            return Err(DavError::NotFound);
        }
        (mount, url.prefix.clone(), &comps[..])
    };
    let node_path = store.path_of(&mount.node).await?;
    let (base, rest, only) = if mount.node.is_folder() {
        (
            node_path,
            SpacePath::parse(&format!("/{}", rest.join("/")))?,
            None,
        )
    } else {
        // The file under its own name below its folder (a jail name may carry a number).
        let rest = if rest.is_empty() {
            SpacePath::root()
        } else {
            SpacePath::parse(&format!("/{}", mount.node.name))?
        };
        let parent = node_path.parent().ok_or(DavError::NotFound)?;
        (parent, rest, Some(mount.node.id))
    };
    let url = DavUrl {
        prefix,
        rest,
        ..url
    };
    Ok(Target {
        space: store.space(mount.node.space).await.map_err(not_found)?,
        role: role_for(mount.bits),
        base,
        url,
        access: Some(Access(mount.bits)),
        only,
        link: None,
    })
}

/// The target of a public link: a folder link addresses the folder; a file link addresses
/// the folder holding it, and nothing in it but the file.
pub async fn public_target(
    state: &AppState,
    link: &Share,
    url: DavUrl,
) -> Result<Target, DavError> {
    let store = state.store();
    let node = store.node(link.node).await.map_err(not_found)?;
    let path = store.path_of(&node).await?;
    let only = (!node.is_folder()).then_some(node.id);
    let base = if node.is_folder() {
        path
    } else {
        let rest = url.rest.components();
        if !(rest.is_empty() || (rest.len() == 1 && rest[0] == node.name)) {
            return Err(DavError::NotFound);
        }
        path.parent().ok_or(DavError::NotFound)?
    };
    Ok(Target {
        space: store.space(link.space).await.map_err(not_found)?,
        role: role_for(link.permissions),
        base,
        url,
        access: Some(Access(link.permissions)),
        only,
        link: Some(link.id),
    })
}
