//! The axum side of WebDAV: every URL of the three roots (SPEC §1) comes here. We
//! authenticate, resolve the space, then route: `OPTIONS` and `PROPFIND` are ours, `POST` is
//! tus creation, the rest goes to dav-server over [`SpacesFs`] and [`DbLocks`] and is then
//! decorated with the ownCloud headers.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Response};
use dav_server::DavHandler;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::decorate::{Extra, decorate, folder_head};
use super::error::DavError;
use super::fs::SpacesFs;
use super::headers::{
    ALLOW, DAV, DAV_CLASSES, DESTINATION, LOCK_TOKEN, MS_AUTHOR_VIA, OC_CHECKSUM, OVERWRITE,
    UPLOAD_CHECKSUM, X_OC_MTIME,
};
use super::href;
use super::jail;
use super::lock_system::DbLocks;
use super::locks;
use super::propfind;
use super::public;
use super::request_ctx::{
    PutParams, ReqCtx, parse_mtime, parse_oc_checksum, parse_upload_checksum,
};
use super::resolve::{SHARE_JAIL, Target, resolve};
use super::url_parse::{destination_path, parse_url};
use super::whole_tree;
use crate::auth::{Principal, authenticate};
use crate::spaces::{SpacePath, UploadGrant, User};
use crate::state::AppState;
use crate::tus::{self, TusState};

/// dav-server's read buffer: 1 MiB makes GET about 45 % faster than its 16 KiB default
/// (research/dav-server.md §4).
const READ_BUF: usize = 1 << 20;

/// What a tus creation on `target` is allowed through, for the upload to honour on every
/// later request (`spaces::upload_grant`): the link, the received shares on the folder (or
/// shared file) it went through, or the requester's role.
async fn upload_grant(
    state: &AppState,
    target: &Target,
    need: u32,
) -> Result<UploadGrant, DavError> {
    if let Some(share) = target.link {
        return Ok(UploadGrant::Link { share, need });
    }
    if target.access.is_none() {
        return Ok(UploadGrant::Member);
    }
    let node = match target.only {
        Some(file) => file,
        None => {
            state
                .store()
                .resolve(target.space_uuid(), &target.base)
                .await?
                .id
        }
    };
    Ok(UploadGrant::Share { node, need })
}

/// The handler of every WebDAV route.
pub async fn dispatch(State(state): State<TusState>, req: Request) -> Response {
    match serve(&state, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn is_write(m: &Method) -> bool {
    matches!(
        m.as_str(),
        "PUT" | "DELETE" | "MKCOL" | "COPY" | "MOVE" | "LOCK" | "UNLOCK" | "PATCH"
    )
}

async fn serve(state: &TusState, req: Request) -> Result<Response, DavError> {
    if req.method().as_str() == "REPORT" {
        return Ok(super::report::handle(state, req).await);
    }
    let mut url = parse_url(req.uri().path()).ok_or(DavError::NotFound)??;
    if req.method() == Method::OPTIONS {
        // A link's Basic credentials name no user: public roots answer without checking them.
        let none = HeaderMap::new();
        let h = if url.root.is_public() {
            &none
        } else {
            req.headers()
        };
        return Ok(options(state, h).await);
    }
    let (mut parts, body) = req.into_parts();
    let principal = if url.root.is_public() {
        Principal {
            user: public::open(state, &mut url, &parts.headers).await?,
        }
    } else {
        match Principal::from_request_parts(&mut parts, state).await {
            Ok(p) => p,
            Err(rejection) => return Ok(rejection.into_response()),
        }
    };
    let target = if url.key.as_deref() == Some(SHARE_JAIL) && url.rest.is_root() {
        match parts.method.as_str() {
            "PROPFIND" => {
                super::propfind::read_body(body).await?;
                return jail::propfind(state, &principal.user, &url, &parts.headers).await;
            }
            "POST" => jail::upload_target(state, &principal.user, url, &mut parts.headers).await?,
            _ => return Err(DavError::ReadOnly),
        }
    } else {
        resolve(state, &principal.user, url).await?
    };
    let method = parts.method.clone();
    let need = public::narrow(state, &target, &method, &mut parts.headers, &mut parts.uri).await?;
    let mut req = Request::from_parts(parts, body);
    if req.method() != Method::POST {
        // dav-server ignores an `If` it cannot parse; a conditional request must not run
        // unconditionally (tus creation keeps its own answers, SPEC §3).
        locks::check_if(req.headers())?;
    }
    let method = req.method().clone();
    match method.as_str() {
        "POST" => {
            let t = tus::CreateTarget {
                space: target.space.clone(),
                folder: target.path(),
                role: target.role,
                grant: upload_grant(state, &target, need).await?,
            };
            return Ok(tus::create_upload(state, &principal, t, req).await);
        }
        "PROPFIND" => {
            let base = crate::http::base_url(state, req.headers());
            return propfind::handle(state, &target, &principal.user, base, req).await;
        }
        _ => {}
    }
    if is_write(&method) && !target.role.can_write() {
        return Err(DavError::ReadOnly);
    }
    if matches!(method.as_str(), "PUT" | "MKCOL" | "LOCK") {
        // The one name rule (spaces::path::check_name), as for every name that enters.
        target.url.rest.check_new()?;
    }
    let mut extra = Extra::default();
    // Every method that writes content (PUT, and LOCK on an unmapped URL) passes its lock
    // tokens to the core's commit.
    let mut put = PutParams {
        lock_tokens: crate::http::if_header::submitted_tokens(req.headers()),
        ..PutParams::default()
    };
    match method.as_str() {
        "PUT" => {
            if req.headers().contains_key(header::CONTENT_RANGE) {
                return Err(DavError::PartialPut);
            }
            put = put_params(req.headers())?;
            put.commit_checks_only = commit_checks_only(req.headers(), state.store().inline_max());
            extra.mtime_sent = put.mtime.is_some();
        }
        "GET" | "HEAD" => {
            let node = state
                .store()
                .resolve(target.space_uuid(), &target.path())
                .await?;
            if node.is_folder() && method == Method::HEAD {
                return Ok(folder_head(&target, &node));
            }
            extra.node = Some(node);
        }
        "COPY" | "MOVE" => {
            let dest = rewrite_destination(state, &principal.user, &target, &mut req).await?;
            if let Some(v) = req.headers().get(X_OC_MTIME).and_then(|v| v.to_str().ok()) {
                extra.copy_mtime = Some(parse_mtime(v)?);
            }
            if method.as_str() == "COPY"
                && let Some(res) =
                    whole_tree::copy_folder(state, &target, &dest, req.headers(), extra.copy_mtime)
                        .await?
            {
                return Ok(res);
            }
            extra.destination = Some(dest);
        }
        "UNLOCK" => bracket_lock_token(req.headers_mut()),
        "DELETE" => {
            if let Some(res) =
                whole_tree::delete_folder(state, &target, &principal.user.name, req.headers())
                    .await?
            {
                return Ok(res);
            }
        }
        _ => {}
    }
    let ctx = ReqCtx {
        user: principal.user.clone(),
        space: target.space_uuid(),
        role: target.role,
        base: target.base.clone(),
        put,
        move_onto: match method.as_str() {
            "MOVE" => extra.destination.clone(),
            _ => None,
        },
        outcome: Arc::new(Mutex::new(Default::default())),
    };
    let store = state.store();
    let dav = DavHandler::builder()
        .filesystem(Box::new(SpacesFs {
            store: store.clone(),
        }))
        .locksystem(Box::new(DbLocks::new(
            store,
            &ctx,
            target.url.prefix.clone(),
        )))
        .strip_prefix(target.url.prefix.clone())
        .read_buf_size(READ_BUF)
        .autoindex(false)
        .hide_symlinks(true)
        .build_handler();
    let res = dav
        .handle_guarded(req, principal.user.name.clone(), ctx.clone())
        .await
        .map(Body::new);
    Ok(decorate(state, &method, &target, &ctx, extra, res).await)
}

fn put_params(h: &HeaderMap) -> Result<PutParams, DavError> {
    let text = |name| h.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let mtime = text(X_OC_MTIME).map(parse_mtime).transpose()?;
    let checksum = match (text(OC_CHECKSUM), text(UPLOAD_CHECKSUM)) {
        (Some(v), _) => Some(parse_oc_checksum(v)?),
        (None, Some(v)) => Some(parse_upload_checksum(v)?),
        (None, None) => None,
    };
    Ok(PutParams {
        mtime,
        checksum,
        lock_tokens: crate::http::if_header::submitted_tokens(h),
        commit_checks_only: false,
    })
}

/// Whether a PUT can leave every check to its commit: a body the commit stores inline
/// (declared by `Content-Length`, so it is read before anything is checked anyway, see
/// `SpacesFs::open_write`) with no condition on the target's state. The commit checks, in its
/// transaction, what dav-server's lookups of the target and its locks would have checked first
/// (a folder there: 403; no parent: 409; a lock: 423; the quota: 507), and without an `If`
/// header no lock token is submitted, so every lock on the path refuses the PUT, as dav-server's
/// check does. Those two lookups were two of the six statements of a small PUT.
fn commit_checks_only(h: &HeaderMap, inline_max: u64) -> bool {
    const CONDITIONS: [&str; 5] = [
        "if",
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
    ];
    let small = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n <= inline_max);
    small && !CONDITIONS.iter().any(|c| h.contains_key(*c))
}

/// `Lock-Token` must be a Coded-URL (`<…>`); some clients (webdav npm) send it bare.
fn bracket_lock_token(h: &mut HeaderMap) {
    if let Some(v) = h.get(LOCK_TOKEN).and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if !v.starts_with('<')
            && let Ok(fixed) = HeaderValue::from_str(&format!("<{v}>"))
        {
            h.insert(LOCK_TOKEN, fixed);
        }
    }
}

/// Point `Destination` at the request's own prefix so dav-server sees one namespace: a
/// destination in the same space under another root is rewritten; another space or another
/// server is 502. A root as destination never reaches dav-server (whose paths cannot express
/// the root's parent): it exists, so `Overwrite: F` is 412, and replacing it is 403.
async fn rewrite_destination(
    state: &AppState,
    user: &User,
    target: &Target,
    req: &mut Request,
) -> Result<SpacePath, DavError> {
    // Owned before the first await: a borrow of the request would make the future !Send.
    let (raw, keep) = {
        let text = |name| {
            req.headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let value = text(DESTINATION).ok_or_else(|| DavError::InvalidPath("Destination".into()))?;
        let public = state.config().public_url.as_ref();
        let raw = destination_path(value, text(header::HOST), public)?;
        let keep = text(OVERWRITE).is_some_and(|o| o.trim().eq_ignore_ascii_case("f"));
        (raw, keep)
    };
    let durl = parse_url(&raw).ok_or(DavError::CrossSpace)??;
    let dest = match resolve(state, user, durl).await {
        Ok(t) => t,
        Err(DavError::NotFound) => return Err(DavError::CrossSpace),
        Err(e) => return Err(e),
    };
    if dest.space.id != target.space.id || !dest.path().starts_with(&target.base) {
        return Err(DavError::CrossSpace);
    }
    let full = dest.path();
    full.check_new()?;
    let rel = &full.components()[target.base.components().len()..];
    if rel.is_empty() {
        return Err(if keep {
            DavError::PreconditionFailed
        } else {
            DavError::DestinationIsRoot
        });
    }
    let mut path = href::escape(&target.url.prefix);
    for c in rel {
        path.push('/');
        path.push_str(&href::escape(c));
    }
    if raw.ends_with('/') {
        path.push('/');
    }
    let v = HeaderValue::from_str(&path).map_err(|_| DavError::InvalidPath(path.clone()))?;
    req.headers_mut().insert(DESTINATION, v);
    Ok(full)
}

/// `OPTIONS` (SPEC §5): answered without credentials; wrong credentials get 401.
async fn options(state: &AppState, headers: &HeaderMap) -> Response {
    let mut res = match authenticate(state, headers).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    };
    let h = res.headers_mut();
    h.insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    h.insert(DAV, HeaderValue::from_static(DAV_CLASSES));
    h.insert(MS_AUTHOR_VIA, HeaderValue::from_static("DAV"));
    for (k, v) in tus::options_headers(state.config()).iter() {
        h.insert(k.clone(), v.clone());
    }
    res
}
