//! oCIS's share jail as Graph drives (research/ocis-spec.md §7): the `virtual` drive "Shares"
//! (id [`SHARE_JAIL`], always listed: the desktop client finds received shares through it) and
//! one `mountpoint` drive per received share (id `{jail}!{share id}`, `root.remoteItem` = the
//! shared item, which Web opens as a share space), the drive items of `sharedWithMe`, and
//! `GET /drives/{jail}/items/{mount id}`, where Web reads a share space's permissions.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::drive_item::item;
use super::item_shares::permission;
use super::{GraphError, rfc3339};
use crate::auth::Principal;
use crate::sharing::SHARE_JAIL;
use crate::sharing::mounts::{Mount, jail_etag, mounts};
use crate::spaces::{Mtime, UserId};
use crate::state::AppState;

/// The permissions `user` received on the mount's node (every unexpired share on it).
async fn received_permissions(
    state: &AppState,
    base: &str,
    user: UserId,
    mount: &Mount,
) -> Result<Vec<Value>, GraphError> {
    let now = Mtime::now().0;
    let mut out = Vec::new();
    for s in state.store().shares_received(user).await? {
        if s.node == mount.node.id && !s.expired(now) {
            out.push(permission(state, base, &s).await?);
        }
    }
    Ok(out)
}

/// The shared item as `remoteItem`: its own id and drive, and the permissions received on it.
async fn remote_item(
    state: &AppState,
    base: &str,
    user: UserId,
    mount: &Mount,
) -> Result<Value, GraphError> {
    let store = state.store();
    let mut remote = item(state, &mount.node).await?;
    let space = store.space(mount.node.space).await?;
    let sid = store.space_id(mount.node.space);
    remote["rootId"] = json!(format!("{sid}!{}", space.id.space));
    remote["driveAlias"] = json!(space.alias);
    remote["webDavUrl"] = json!(format!(
        "{base}/dav/spaces/{}",
        remote["id"].as_str().unwrap_or_default()
    ));
    remote["permissions"] = json!(received_permissions(state, base, user, mount).await?);
    Ok(remote)
}

/// A received share as a `sharedWithMe` drive item in the jail.
pub(super) async fn received_item(
    state: &AppState,
    base: &str,
    user: UserId,
    mount: &Mount,
) -> Result<Value, GraphError> {
    let node = &mount.node;
    let remote = remote_item(state, base, user, mount).await?;
    let mut v = json!({
        "id": mount.id(),
        "name": mount.name,
        "size": node.size,
        "eTag": node.quoted_etag(),
        "lastModifiedDateTime": rfc3339(node.mtime),
        "parentReference": {"driveId": SHARE_JAIL, "driveType": "virtual", "id": SHARE_JAIL},
        "@UI.Hidden": false,
        "@client.synchronize": true,
        "@libre.graph.permissions.actions": super::item_roles::actions(mount.bits),
    });
    if node.is_folder() {
        v["folder"] = json!({});
    } else {
        v["file"] = remote["file"].clone();
    }
    v["remoteItem"] = remote;
    Ok(v)
}

/// The `virtual` drive "Shares" (as oCIS lists it: no quota, no owner; its root's etag
/// follows the mounts).
fn virtual_drive(base: &str, all: &[Mount]) -> Value {
    let mut d = json!({
        "id": SHARE_JAIL,
        "driveType": "virtual",
        "driveAlias": "virtual/shares",
        "name": "Shares",
        "root": {
            "id": SHARE_JAIL,
            "eTag": jail_etag(all),
            "webDavUrl": format!("{base}/dav/spaces/{SHARE_JAIL}"),
        },
        "webUrl": format!("{base}/f/{SHARE_JAIL}"),
    });
    if let Some(latest) = all.iter().map(|m| m.node.mtime).max() {
        d["lastModifiedDateTime"] = json!(rfc3339(latest));
    }
    d
}

/// The `mountpoint` drive of one received share.
async fn mountpoint_drive(
    state: &AppState,
    base: &str,
    user: UserId,
    mount: &Mount,
) -> Result<Value, GraphError> {
    let id = mount.id();
    let owner = state.store().space(mount.node.space).await?.owner;
    let remote = remote_item(state, base, user, mount).await?;
    let perms = remote["permissions"].clone();
    Ok(json!({
        "id": id,
        "driveType": "mountpoint",
        "driveAlias": format!("mountpoint/{}", mount.name.to_lowercase()),
        "name": mount.name,
        "owner": {"user": {"id": owner.to_string(), "displayName": ""}},
        "root": {
            "id": id,
            "eTag": mount.node.quoted_etag(),
            "webDavUrl": format!("{base}/dav/spaces/{id}"),
            "remoteItem": remote,
            "permissions": perms,
        },
        "webUrl": format!("{base}/f/{id}"),
        "lastModifiedDateTime": rfc3339(mount.node.mtime),
    }))
}

/// The share jail's drives for `user`: the virtual one, then one per mount.
pub(super) async fn drives(
    state: &AppState,
    base: &str,
    user: UserId,
) -> Result<Vec<Value>, GraphError> {
    let all = mounts(state, user).await?;
    let mut out = vec![virtual_drive(base, &all)];
    for m in &all {
        out.push(mountpoint_drive(state, base, user, m).await?);
    }
    Ok(out)
}

/// The jail drive `id` (the virtual drive or a mount point), if it is one of `user`'s.
pub(super) async fn drive(
    state: &AppState,
    base: &str,
    user: UserId,
    id: &str,
) -> Result<Option<Value>, GraphError> {
    if !id.starts_with(SHARE_JAIL) {
        return Ok(None);
    }
    let all = drives(state, base, user).await?;
    all.into_iter()
        .find(|d| d["id"] == id)
        .map(Some)
        .ok_or(GraphError::ItemNotFound)
}

/// `GET /drives/{jail}/items/{mount id}`: the received share as a drive item.
pub(super) async fn mount_item(
    State(state): State<AppState>,
    p: Principal,
    headers: http::HeaderMap,
    Path((sid, id)): Path<(String, String)>,
) -> Result<Response, GraphError> {
    let base = crate::http::base_url(&state, &headers);
    if sid != SHARE_JAIL {
        return Err(GraphError::ItemNotFound);
    }
    let all = mounts(&state, p.user.id).await?;
    let mount = all
        .iter()
        .find(|m| m.id() == id)
        .ok_or(GraphError::ItemNotFound)?;
    Ok(Json(received_item(&state, &base, p.user.id, mount).await?).into_response())
}
