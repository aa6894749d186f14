//! Received shares as oCIS mounts them in its share jail (the virtual "Shares" space): one
//! mount per shared node, named after the node (a second node of the same name gets
//! `name (2)`, as oCIS numbers clashing mount points), with the union of the bits the user
//! holds on it. WebDAV (`dav::resolve`, `dav::jail`), Graph (`me/drives`, `sharedWithMe`) and
//! OCS (`/Shares/{name}`) all ask this one list, so names and ids agree everywhere.

use crate::spaces::{Node, Share, StoreError, StoreResult, UserId};
use crate::state::AppState;

/// oCIS's fixed id of the share jail drive: `{storage}${space}` with both parts this uuid.
pub const SHARE_JAIL: &str =
    "a0ca6a90-a365-4782-871e-d44447bbc668$a0ca6a90-a365-4782-871e-d44447bbc668";

/// One received share as a mount in the share jail.
#[derive(Debug, Clone)]
pub struct Mount {
    /// The oldest unexpired share on the node: its id names the mount.
    pub share: Share,
    /// The shared node.
    pub node: Node,
    /// The mount's name in the jail (unique among the user's mounts).
    pub name: String,
    /// The OCS bits the user holds on the node (every share on it or above it).
    pub bits: u32,
}

impl Mount {
    /// The mount point id oCIS hands out: `{jail}!{share id}`.
    pub fn id(&self) -> String {
        format!("{SHARE_JAIL}!{}", self.share.uid)
    }
}

/// The etag of the jail root (quoted): it changes whenever a mount comes, goes, is renamed or
/// changes below, so that a sync client notices.
pub fn jail_etag(mounts: &[Mount]) -> String {
    use sha1::Digest;
    let mut h = sha1::Sha1::new();
    for m in mounts {
        h.update(m.name.as_bytes());
        h.update([0]);
        h.update(m.node.etag.as_bytes());
    }
    format!("\"{}\"", hex::encode(&h.finalize()[..8]))
}

/// `stem (n).ext` for the n-th node of a clashing name.
fn numbered(name: &str, n: usize) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

/// The user's mounts, oldest share first. A share whose node is gone is skipped.
pub async fn mounts(state: &AppState, user: UserId) -> StoreResult<Vec<Mount>> {
    let store = state.store();
    let now = state.clock().now_ns();
    let mut out: Vec<Mount> = Vec::new();
    for share in store.shares_received(user).await? {
        if share.expired(now) || out.iter().any(|m| m.node.id == share.node) {
            continue;
        }
        let node = match store.node(share.node).await {
            Ok(n) => n,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        let mut name = node.name.clone();
        let mut n = 1;
        while out.iter().any(|m| m.name == name) {
            n += 1;
            name = numbered(&node.name, n);
        }
        let bits = store.received_permissions(user, node.id).await?;
        out.push(Mount {
            share,
            node,
            name,
            bits,
        });
    }
    Ok(out)
}

/// The mount called `name`.
pub async fn by_name(state: &AppState, user: UserId, name: &str) -> StoreResult<Option<Mount>> {
    Ok(mounts(state, user)
        .await?
        .into_iter()
        .find(|m| m.name == name))
}

/// The mount whose id (`{jail}!{share id}`, or the share id alone) is `id`.
pub async fn by_id(state: &AppState, user: UserId, id: &str) -> StoreResult<Option<Mount>> {
    let share = id
        .strip_prefix(SHARE_JAIL)
        .and_then(|r| r.strip_prefix('!'))
        .unwrap_or(id);
    Ok(mounts(state, user)
        .await?
        .into_iter()
        .find(|m| m.share.uid.to_string() == share))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clashing_names_are_numbered_before_the_extension() {
        assert_eq!(numbered("report.pdf", 2), "report (2).pdf");
        assert_eq!(numbered("team", 3), "team (3)");
        assert_eq!(numbered(".profile", 2), ".profile (2)");
    }
}
