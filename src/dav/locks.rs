//! WebDAV lock plumbing over the lock records and rules of the storage core
//! ([`crate::spaces::LockRecord`], [`crate::spaces::lock_rules`]; [`super::lock_system::DbLocks`]
//! is dav-server's `DavLockSystem` on them): the `If` check of the dispatcher and the lock
//! question of the handlers that bypass dav-server. Locks name paths, expire by their timeout
//! and survive restarts.

use http::HeaderMap;

use super::headers::IF;
use crate::http::if_header::{self, submitted_tokens};
use crate::spaces::{LockHolder, SpacePath, StoreError};
use crate::state::AppState;

/// Whether the request's `If` headers follow RFC 4918 §10.4 (absent is fine).
pub fn check_if(headers: &HeaderMap) -> Result<(), if_header::BadIf> {
    for v in headers.get_all(IF) {
        let v = v.to_str().map_err(|_| if_header::BadIf("not ASCII"))?;
        if_header::parse(v)?;
    }
    Ok(())
}

/// Whether `path` in `space` is locked by a lock the request (by its `If`/`Lock-Token`
/// headers) does not hold. A database failure is an error (a 5xx), never "locked".
pub async fn is_locked_for(
    state: &AppState,
    space: uuid::Uuid,
    path: &SpacePath,
    headers: &HeaderMap,
) -> Result<bool, StoreError> {
    let holder = LockHolder::with_tokens(submitted_tokens(headers));
    Ok(state
        .store()
        .lock_conflict(space, path, &holder)
        .await?
        .is_some())
}
