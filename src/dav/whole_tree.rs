//! Whole-folder DELETE and COPY as single core calls.
//!
//! dav-server deletes and copies a folder member by member, one storage transaction each.
//! When a request carries no conditions (`If`, `If-Match`, `If-Unmodified-Since`) and no live
//! lock touches the affected tree, the outcome cannot differ per member, so one
//! `Store::copy` with the dead properties and the requested mtime ([`crate::spaces::CopySpec`])
//! does it in one transaction. A folder DELETE is one core call whether locks touch the tree or
//! not: the lock check (holding the token of an `If: (<token>)` header) and the move to the
//! trash share one transaction. Everything else (other conditions, a refused lock check) still
//! goes through dav-server, which answers per member as RFC 4918 wants.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::error::DavError;
use super::headers::{DEPTH, IF, OVERWRITE, X_OC_MTIME};
use crate::http::if_header::{self, Condition, Tagged};

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

/// The token of an `If` header of the one form clients send with a DELETE of what they
/// locked, `(<token>)` (no tag, one list, one positive state token); `Err` for any other
/// form, which dav-server evaluates.
fn single_token(headers: &HeaderMap) -> Result<Option<String>, ()> {
    let Some(value) = headers.get(IF) else {
        return Ok(None);
    };
    let tagged = value
        .to_str()
        .ok()
        .and_then(|v| if_header::parse(v).ok())
        .ok_or(())?;
    match tagged.as_slice() {
        [Tagged { tag: None, lists }] => match lists.as_slice() {
            [list] => match list.as_slice() {
                [Condition::Token { not: false, token }] => Ok(Some(token.clone())),
                _ => Err(()),
            },
            _ => Err(()),
        },
        _ => Err(()),
    }
}

/// DELETE of a folder as one core call ([`crate::spaces::Store::delete_holding`]): the lock
/// check (with the token of an `If: (<token>)` header) and the move to the trash in one
/// transaction. `None` when dav-server must handle the request: other conditions, or a
/// refusal (a lock in the way, a token naming no lock), which dav-server answers as RFC 4918
/// wants (nothing was changed).
pub async fn delete_folder(
    state: &AppState,
    target: &Target,
    user: &str,
    headers: &HeaderMap,
) -> Result<Option<Response>, DavError> {
    let (space, path) = (target.space_uuid(), target.path());
    let Ok(token) = single_token(headers) else {
        return Ok(None);
    };
    if [header::IF_MATCH, header::IF_UNMODIFIED_SINCE]
        .iter()
        .any(|h| headers.contains_key(h))
        || path.is_root()
        || !is_folder(state, space, &path).await?
    {
        return Ok(None);
    }
    let tokens: Vec<String> = token.iter().cloned().collect();
    match state
        .store()
        .delete_holding(space, &path, user, &tokens, token.as_deref())
        .await
    {
        Ok(_) => Ok(Some(StatusCode::NO_CONTENT.into_response())),
        Err(StoreError::Locked | StoreError::PreconditionFailed | StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
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
