//! Whole-folder DELETE and COPY as single core calls.
//!
//! dav-server deletes and copies a folder member by member, one storage transaction each.
//! When a request carries no conditions (`If`, `If-Match`, `If-Unmodified-Since`) and no live
//! lock touches the affected tree, the outcome cannot differ per member, so one
//! `Store::delete`, or one `Store::copy` with the dead properties and the requested mtime
//! ([`crate::spaces::CopySpec`]), does it in one transaction. Everything else (a locked tree
//! included) still goes through dav-server, which answers per member as RFC 4918 wants.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::error::DavError;
use super::headers::{DEPTH, IF, OVERWRITE, X_OC_MTIME};

use super::resolve::Target;
use crate::spaces::{CopyDepth, CopySpec, Mtime, Overwrite, SpacePath, StoreError};
use crate::state::AppState;

fn conditional(headers: &HeaderMap) -> bool {
    [IF, header::IF_MATCH, header::IF_UNMODIFIED_SINCE]
        .iter()
        .any(|h| headers.contains_key(h))
}

/// Whether a live lock applies to `path` or lies below it.
async fn touched_by_lock(
    state: &AppState,
    space: uuid::Uuid,
    path: &SpacePath,
) -> Result<bool, DavError> {
    let store = state.store();
    let along = store.locks_along(space, path).await?;
    if !crate::spaces::applying(&along, path).is_empty() {
        return Ok(true);
    }
    Ok(!store.locks_below(space, path).await?.is_empty())
}

/// Whether `path` is an existing folder.
async fn is_folder(
    state: &AppState,
    space: uuid::Uuid,
    path: &SpacePath,
) -> Result<bool, DavError> {
    match state.store().resolve(space, path).await {
        Ok(n) => Ok(n.is_folder()),
        Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// DELETE of an unlocked folder: `None` when dav-server must handle the request.
pub async fn delete_folder(
    state: &AppState,
    target: &Target,
    headers: &HeaderMap,
) -> Result<Option<Response>, DavError> {
    let (space, path) = (target.space_uuid(), target.path());
    if conditional(headers)
        || path.is_root()
        || !is_folder(state, space, &path).await?
        || touched_by_lock(state, space, &path).await?
    {
        return Ok(None);
    }
    state.store().delete(space, &path).await?;
    Ok(Some(StatusCode::NO_CONTENT.into_response()))
}

/// COPY of a whole folder (`Depth: infinity`, `Overwrite: T`) onto an unlocked destination
/// in the same space, dead properties included: `None` when dav-server must handle it.
pub async fn copy_folder(
    state: &AppState,
    target: &Target,
    dest: &SpacePath,
    headers: &HeaderMap,
    mtime: Option<Mtime>,
) -> Result<Option<Response>, DavError> {
    let (space, from) = (target.space_uuid(), target.path());
    let text = |h| headers.get(h).and_then(|v: &HeaderValue| v.to_str().ok());
    let deep = text(DEPTH).is_none_or(|d| d.trim().eq_ignore_ascii_case("infinity"));
    let overwrite = text(OVERWRITE).is_none_or(|o| o.trim().eq_ignore_ascii_case("t"));
    if conditional(headers)
        || !deep
        || !overwrite
        || dest.is_root()
        || dest.starts_with(&from)
        || !is_folder(state, space, &from).await?
        || touched_by_lock(state, space, dest).await?
    {
        return Ok(None);
    }
    let spec = CopySpec {
        overwrite: Overwrite::Replace,
        depth: CopyDepth::Whole,
        dead_props: true,
        mtime,
    };
    let replaced = match state.store().copy(space, &from, dest, &spec).await {
        Ok((_, replaced)) => replaced,
        Err(StoreError::ParentMissing) => return Err(DavError::ParentMissing),
        Err(e) => return Err(e.into()),
    };
    let status = if replaced {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::CREATED
    };
    let mut res = status.into_response();
    if mtime.is_some() {
        res.headers_mut()
            .insert(X_OC_MTIME, HeaderValue::from_static("accepted"));
    }
    Ok(Some(res))
}
