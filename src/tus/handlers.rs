//! axum glue: the upload resource `/data/{token}` (`PATCH`, `HEAD`, `DELETE`, `OPTIONS`, and
//! `POST` with `X-HTTP-Method-Override`) and [`create_upload`] for the dav dispatcher. Every
//! answer, errors included, carries `Tus-Resumable`, `Tus-Extension` and the CORS expose list
//! (SPEC §3).

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::header::{
    ACCESS_CONTROL_EXPOSE_HEADERS, ALLOW, CACHE_CONTROL, ETAG, IF_MATCH, LAST_MODIFIED, LOCATION,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::error::TusError;
use super::headers::{
    MTIME_ACCEPTED, TUS_EXTENSION, TUS_RESUMABLE, TUS_VERSION, UPLOAD_CONCAT, UPLOAD_DEFER_LENGTH,
    UPLOAD_EXPIRES, UPLOAD_LENGTH, UPLOAD_METADATA, UPLOAD_OFFSET, VERSION,
};
use super::metadata::{Metadata, parse_mtime, upload_info};
use super::options_headers;
use super::parse::{self, Concat, Length};
use super::receive::PatchRequest;
use super::service::{Creation, Creator, Progress};
use super::state::TusState;
use crate::auth::Principal;
use crate::http::headers::{CORS_EXPOSE_HEADERS, OC_ETAG, OC_FILEID, OC_PERM, X_OC_MTIME};
use crate::http::if_header::submitted_tokens;
use crate::spaces::{ConcatRole, Role, Space, SpacePath, Upload, UploadGrant};

/// Where a tus creation goes: resolved by the dav dispatcher from the POSTed folder URL.
#[derive(Debug, Clone)]
pub struct CreateTarget {
    /// The space.
    pub space: Space,
    /// The folder the POST addressed.
    pub folder: SpacePath,
    /// The requesting user's role in the space.
    pub role: Role,
    /// What allows the upload (a link, received shares, or the role).
    pub grant: UploadGrant,
}

/// The upload resource routes.
pub fn routes() -> Router<TusState> {
    Router::new().route("/data/{token}", any(upload))
}

fn hv(s: impl ToString) -> HeaderValue {
    HeaderValue::try_from(s.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Add the headers every tus answer carries.
fn decorate(state: &TusState, res: &mut Response) {
    let h = res.headers_mut();
    h.insert(TUS_RESUMABLE, HeaderValue::from_static(VERSION));
    h.insert(TUS_EXTENSION, state.tus().extension_header().clone());
    if !h.contains_key(ACCESS_CONTROL_EXPOSE_HEADERS) {
        h.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(CORS_EXPOSE_HEADERS),
        );
    }
}

fn error_response(state: &TusState, e: &TusError) -> Response {
    let status = e.status();
    // The body (a fixed text, or nothing) is for the client; the cause for the log, where the
    // observe middleware writes it for a refusal (423, 507, ...) or a failure.
    let mut res = (status, e.body()).into_response();
    crate::http::note_cause(&mut res, e);
    match e {
        TusError::UnsupportedVersion => {
            res.headers_mut()
                .insert(TUS_VERSION, HeaderValue::from_static(VERSION));
        }
        TusError::MethodNotAllowed => {
            res.headers_mut().insert(
                ALLOW,
                HeaderValue::from_static("PATCH, HEAD, DELETE, OPTIONS, POST"),
            );
        }
        _ => {}
    }
    decorate(state, &mut res);
    res
}

fn finish(state: &TusState, result: Result<Response, TusError>) -> Response {
    match result {
        Ok(mut res) => {
            decorate(state, &mut res);
            res
        }
        Err(e) => error_response(state, &e),
    }
}

/// Headers describing where an upload stands, and the completion headers of SPEC §4.
fn progress_headers(h: &mut HeaderMap, p: &Progress) {
    h.insert(UPLOAD_OFFSET, hv(p.session.offset));
    h.insert(UPLOAD_EXPIRES, hv(p.session.expires_secs()));
    if let Some(c) = &p.completion {
        let etag = hv(c.node.quoted_etag());
        h.insert(OC_FILEID, hv(&c.file_id));
        h.insert(ETAG, etag.clone());
        h.insert(OC_ETAG, etag);
        h.insert(OC_PERM, hv(c.permissions));
        h.insert(LAST_MODIFIED, hv(c.node.mtime.http_date()));
        if c.mtime_accepted {
            h.insert(X_OC_MTIME, HeaderValue::from_static(MTIME_ACCEPTED));
        }
    }
}

async fn upload(
    State(state): State<TusState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    let method = parse::effective_method(req.method(), req.headers());
    let result = match method {
        Method::PATCH => patch_upload(&state, &token, req).await,
        Method::HEAD => head_upload(&state, &token, req.headers()).await,
        Method::DELETE => delete_upload(&state, &token, req.headers()).await,
        Method::OPTIONS => {
            let mut res = StatusCode::NO_CONTENT.into_response();
            res.headers_mut().extend(options_headers(state.config()));
            Ok(res)
        }
        _ => Err(TusError::MethodNotAllowed),
    };
    finish(&state, result)
}

fn patch_request(
    state: &TusState,
    headers: &HeaderMap,
    offset: u64,
) -> Result<PatchRequest, TusError> {
    let length = match parse::upload_length(headers)? {
        Some(Length::Known(n)) => Some(n),
        Some(Length::Deferred) | None => None,
    };
    Ok(PatchRequest {
        offset,
        length,
        content_length: parse::content_length(headers),
        checksum: parse::upload_checksum(headers, &state.tus().settings().algorithms)?,
        lock_tokens: submitted_tokens(headers),
    })
}

/// The most of a refused request's body that is read and dropped before the answer.
const DRAIN_LIMIT: usize = 64 << 20;
/// How long the drain waits for the next piece of the body: a client that streams slowly
/// gets its answer rather than waiting for the body's end.
const DRAIN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// `e`, once the rest of a body refused for want of room is read (up to [`DRAIN_LIMIT`], while
/// it keeps arriving). A server that answers while the client is still sending and then closes
/// makes the client see a broken connection instead of the 507 (tus clients retry a broken
/// connection blindly). Other refusals answer at once: a 409 or 423 must not wait for a body
/// that the client may still be streaming.
async fn drained<S, E>(mut body: S, e: TusError) -> TusError
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    use futures::StreamExt;
    if !matches!(e, TusError::StorageFull(_) | TusError::QuotaExceeded) {
        return e;
    }
    let mut read = 0;
    while read <= DRAIN_LIMIT {
        match tokio::time::timeout(DRAIN_WAIT, body.next()).await {
            Ok(Some(Ok(chunk))) => read += chunk.len(),
            _ => break,
        }
    }
    e
}

async fn patch_upload(state: &TusState, token: &str, req: Request) -> Result<Response, TusError> {
    let svc = state.tus();
    // The one signature check of this request.
    let upload = svc.verify_token(token)?;
    let headers = req.headers();
    parse::tus_resumable(headers)?;
    if !parse::is_offset_stream(headers) {
        return Err(TusError::WrongContentType);
    }
    let offset = parse::upload_offset(headers)?;
    let preq = patch_request(state, headers, offset)?;
    let mut body = req.into_body().into_data_stream();
    let progress = match svc.patch(upload, preq, &mut body).await {
        Ok(p) => p,
        Err(e) => return Err(drained(body, e).await),
    };
    let mut res = StatusCode::NO_CONTENT.into_response();
    progress_headers(res.headers_mut(), &progress);
    Ok(res)
}

async fn head_upload(
    state: &TusState,
    token: &str,
    headers: &HeaderMap,
) -> Result<Response, TusError> {
    parse::tus_resumable_if_present(headers)?;
    let s = state.tus().head(token).await?;
    let mut res = StatusCode::OK.into_response();
    let h = res.headers_mut();
    h.insert(UPLOAD_OFFSET, hv(s.offset));
    match s.length {
        Some(l) => h.insert(UPLOAD_LENGTH, hv(l)),
        None => h.insert(UPLOAD_DEFER_LENGTH, HeaderValue::from_static("1")),
    };
    if !s.metadata.is_empty() {
        h.insert(UPLOAD_METADATA, hv(&s.metadata));
    }
    if let Some(concat) = concat_header(state, &s) {
        h.insert(UPLOAD_CONCAT, hv(concat));
    }
    h.insert(UPLOAD_EXPIRES, hv(s.expires_secs()));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `Upload-Concat` of a HEAD answer (concatenation extension): `partial`, or `final;` with the
/// parts' upload URLs (path-only, freshly signed).
fn concat_header(state: &TusState, s: &Upload) -> Option<String> {
    match &s.concat {
        ConcatRole::None => None,
        ConcatRole::Partial => Some("partial".into()),
        ConcatRole::Final(parts) => {
            let urls: Vec<String> = parts
                .iter()
                .map(|id| {
                    let part = Upload {
                        id: *id,
                        ..s.clone()
                    };
                    format!("/data/{}", state.tus().token(&part))
                })
                .collect();
            Some(format!("final;{}", urls.join(" ")))
        }
    }
}

async fn delete_upload(
    state: &TusState,
    token: &str,
    headers: &HeaderMap,
) -> Result<Response, TusError> {
    parse::tus_resumable_if_present(headers)?;
    state.tus().terminate(token).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The header checks of a creation, in the order of SPEC §3's table.
fn creation(state: &TusState, headers: &HeaderMap) -> Result<Creation, TusError> {
    parse::tus_resumable(headers)?;
    let concat = parse::upload_concat(headers)?;
    let is_final = matches!(concat, Some(Concat::Final(_)));
    let length = parse::upload_length(headers)?;
    if length.is_none() && !is_final {
        return Err(TusError::MissingLength);
    }
    if let Some(Length::Known(n)) = length
        && n > state.tus().settings().max_size
    {
        return Err(TusError::TooLarge);
    }
    let metadata = Metadata::parse(
        headers
            .get(UPLOAD_METADATA)
            .map(|v| {
                v.to_str()
                    .map_err(|_| TusError::InvalidMetadata("not ASCII".into()))
            })
            .transpose()?,
    )?;
    let mut info = upload_info(&metadata, concat != Some(Concat::Partial))?;
    // The desktop client (owncloudcmd 2.11) sends the mtime only as `X-OC-Mtime` on the POST;
    // the metadata `mtime` wins when both are given.
    if let Some(info) = &mut info
        && info.mtime.is_none()
        && let Some(v) = headers.get(X_OC_MTIME).and_then(|v| v.to_str().ok())
    {
        info.mtime = Some(parse_mtime(v).ok_or(TusError::InvalidMtime)?);
    }
    let if_match = headers
        .get(IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_string()
        })
        .filter(|v| !v.is_empty());
    Ok(Creation {
        length,
        metadata,
        info,
        concat,
        if_match,
        lock_tokens: submitted_tokens(headers),
    })
}

/// tus creation (`POST` on a folder URL, SPEC §3), with creation-with-upload when the body is
/// `application/offset+octet-stream`. Called by the dav dispatcher with the authenticated user
/// and the resolved folder.
pub async fn create_upload(
    state: &TusState,
    principal: &Principal,
    target: CreateTarget,
    req: Request,
) -> Response {
    let mut location = None;
    let result = create(state, principal, target, req, &mut location).await;
    let mut res = finish(state, result);
    if let Some(loc) = location {
        res.headers_mut().insert(LOCATION, hv(loc));
    }
    res
}

async fn create(
    state: &TusState,
    principal: &Principal,
    target: CreateTarget,
    req: Request,
    location: &mut Option<String>,
) -> Result<Response, TusError> {
    let headers = req.headers();
    let creation = creation(state, headers)?;
    let with_upload = parse::is_offset_stream(headers);
    let creator = Creator {
        user: principal.user.id,
        space: target.space,
        folder: target.folder,
        role: target.role,
        grant: target.grant,
    };
    let svc = state.tus();
    if with_upload {
        let offset = parse::creation_offset(headers)?;
        if let Some(n) = svc.completes_in_request(&creation, offset, parse::content_length(headers))
        {
            let preq = patch_request(state, headers, offset)?;
            let base = crate::http::base_url(state, headers);
            let body = req.into_body().into_data_stream();
            let whole = svc.create_whole(&creator, creation, preq, n, body).await;
            if let Some(s) = &whole.session {
                *location = Some(format!("{base}/data/{}", svc.token(s)));
            }
            let mut res = StatusCode::CREATED.into_response();
            progress_headers(res.headers_mut(), &whole.result?);
            return Ok(res);
        }
    }
    let progress = match svc.create(&creator, creation).await {
        Ok(p) => p,
        // A creation-with-upload refused for want of room still reads its body (see drained).
        Err(e) if with_upload => return Err(drained(req.into_body().into_data_stream(), e).await),
        Err(e) => return Err(e),
    };
    let base = crate::http::base_url(state, headers);
    *location = Some(format!("{base}/data/{}", svc.token(&progress.session)));
    let progress = if with_upload && !progress.session.done {
        let offset = parse::creation_offset(headers)?;
        let preq = patch_request(state, headers, offset)?;
        let body: Body = req.into_body();
        let mut body = body.into_data_stream();
        match svc.append(progress.session, preq, &mut body).await {
            Ok(p) => p,
            Err(e) => return Err(drained(body, e).await),
        }
    } else {
        progress
    };
    let mut res = StatusCode::CREATED.into_response();
    let h = res.headers_mut();
    progress_headers(h, &progress);
    if !with_upload && progress.completion.is_none() {
        h.remove(UPLOAD_OFFSET);
    }
    Ok(res)
}
