//! What dav-server's answers lack for ownCloud clients (SPEC §5): `OC-ETag`, `OC-FileId`,
//! `OC-Checksum`, `OC-Perm`, `X-OC-MTime: accepted`, `Content-Disposition`, the precise status
//! of failures dav-server can only call 500, and Sabre XML bodies on empty error answers.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::error::{DavError, sabre_body};
use super::headers::{OC_CHECKSUM, OC_ETAG, OC_FILEID, OC_PERM, X_OC_MTIME, XML_CONTENT_TYPE};
use super::href::escape;
use super::propfind_xml::permissions;
use super::request_ctx::ReqCtx;
use super::resolve::Target;
use crate::spaces::{Mtime, Node, SpacePath};
use crate::state::AppState;

/// What the dispatcher learnt before dav-server ran.
#[derive(Debug, Default)]
pub struct Extra {
    /// The node of a GET/HEAD.
    pub node: Option<Node>,
    /// The request carried `X-OC-Mtime` (PUT).
    pub mtime_sent: bool,
    /// The space path of a COPY/MOVE destination.
    pub destination: Option<SpacePath>,
    /// `X-OC-Mtime` of a COPY/MOVE, applied to the destination afterwards.
    pub copy_mtime: Option<Mtime>,
}

fn insert(h: &mut HeaderMap, name: http::HeaderName, v: &str) {
    if let Ok(v) = HeaderValue::from_str(v) {
        h.insert(name, v);
    }
}

/// `ETag`, `OC-ETag`, `OC-FileId`, `OC-Perm` of a node.
fn node_headers(h: &mut HeaderMap, target: &Target, node: &Node) {
    let etag = node.quoted_etag();
    insert(h, header::ETAG, &etag);
    insert(h, OC_ETAG, &etag);
    insert(h, OC_FILEID, &target.space.id.resource(node.id).to_string());
    insert(h, OC_PERM, permissions(target.role, node.is_folder()));
}

/// `HEAD` on a folder: 200 with its etag (webdavclient3's `check()` relies on it).
pub fn folder_head(target: &Target, node: &Node) -> Response {
    let mut res = Response::new(Body::empty());
    node_headers(res.headers_mut(), target, node);
    insert(
        res.headers_mut(),
        header::LAST_MODIFIED,
        &node.mtime.http_date(),
    );
    res
}

/// Add the ownCloud headers to dav-server's answer and give errors a Sabre body.
pub async fn decorate(
    state: &AppState,
    method: &Method,
    target: &Target,
    ctx: &ReqCtx,
    extra: Extra,
    mut res: Response,
) -> Response {
    let outcome = ctx.take_outcome();
    let status = res.status();
    if status.is_success() {
        match method.as_str() {
            "PUT" | "MKCOL" => {
                if ctx.put.commit_checks_only && outcome.replaced {
                    // dav-server was told there was no file (it answered 201 with a length).
                    *res.status_mut() = StatusCode::NO_CONTENT;
                    res.headers_mut().remove(header::CONTENT_LENGTH);
                }
                let h = res.headers_mut();
                if let Some(n) = &outcome.node {
                    node_headers(h, target, n);
                    insert(h, header::LAST_MODIFIED, &n.mtime.http_date());
                }
                if extra.mtime_sent {
                    insert(h, X_OC_MTIME, "accepted");
                }
            }
            "GET" | "HEAD" => {
                let h = res.headers_mut();
                if let Some(n) = &extra.node {
                    node_headers(h, target, n);
                    if let Some(sha1) = &n.checksums.sha1 {
                        insert(h, OC_CHECKSUM, &format!("SHA1:{sha1}"));
                    }
                    if method == Method::GET {
                        insert(
                            h,
                            header::CONTENT_DISPOSITION,
                            &format!(
                                "attachment; filename*=UTF-8''{}; filename=\"{}\"",
                                escape(&n.name),
                                n.name.replace(['"', '\\'], "_")
                            ),
                        );
                    }
                }
            }
            "COPY" | "MOVE" => {
                if let (Some(dest), Some(mtime)) = (&extra.destination, extra.copy_mtime) {
                    let store = state.store();
                    if let Ok(n) = store.resolve(target.space_uuid(), dest).await
                        && store.set_mtime(n.id, mtime).await.is_ok()
                    {
                        insert(res.headers_mut(), X_OC_MTIME, "accepted");
                    }
                }
            }
            "PROPPATCH" if status == StatusCode::MULTI_STATUS => return dav_prefix(res).await,
            _ => {}
        }
        return res;
    }
    if let Some(e) = &outcome.error {
        e.note_on(&mut res);
    }
    // A recorded failure decides the status when dav-server could only say 500 or 409, and
    // always when it is a failure of the server (a lock check that could not read the locks
    // reached dav-server as "locked").
    let (status, message) = match outcome.error {
        Some(e)
            if status.is_server_error()
                || status == StatusCode::CONFLICT
                || e.status().is_server_error() =>
        {
            (e.status(), e.to_string())
        }
        Some(DavError::ChecksumMismatch) => (
            StatusCode::BAD_REQUEST,
            DavError::ChecksumMismatch.to_string(),
        ),
        _ => (status, status.canonical_reason().unwrap_or("").to_string()),
    };
    // dav-server marks most empty answers with `Content-Length: 0`, but not all: a failed
    // MOVE streams an empty body without length or type (an error document has a type).
    let empty = match res.headers().get(header::CONTENT_LENGTH) {
        Some(v) => v == "0",
        None => !res.headers().contains_key(header::CONTENT_TYPE),
    };
    if status.is_client_error() || status.is_server_error() {
        *res.status_mut() = status;
        if empty && method != Method::HEAD {
            let body = if status.is_server_error() && status != StatusCode::INSUFFICIENT_STORAGE {
                sabre_body(status, "Internal Server Error")
            } else {
                sabre_body(status, &message)
            };
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(XML_CONTENT_TYPE),
            );
            h.remove(header::CONTENT_LENGTH);
            let (parts, _) = res.into_parts();
            return Response::from_parts(parts, Body::from(body));
        }
    }
    res
}

/// dav-server writes its PROPPATCH multistatus with the `D:` prefix; ownCloud's clients match
/// the literal `d:` that oCIS writes (owncloud-sdk reads `d:multistatus`, Web `d:error`), so
/// the (small) document is re-prefixed.
async fn dav_prefix(res: Response) -> Response {
    use http_body_util::BodyExt;
    let (mut parts, body) = res.into_parts();
    let Ok(collected) = body.collect().await else {
        return Response::from_parts(parts, Body::empty());
    };
    let xml = String::from_utf8_lossy(&collected.to_bytes())
        .replace("<D:", "<d:")
        .replace("</D:", "</d:")
        .replace("xmlns:D=", "xmlns:d=");
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(xml))
}
