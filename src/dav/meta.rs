//! Resources by id (issue 11, reva's `meta.go` and `versions.go` wire shapes):
//! `PROPFIND /{remote.php/}dav/meta/{fileid}` answers `oc:meta-path-for-user` (how Web opens
//! a private link); `…/meta/{fileid}/v` lists a file's versions, `GET …/v/{key}` returns one,
//! `COPY …/v/{key}` restores it. And `GET /f/{fileid}`, the private link itself.
//!
//! A node the requester cannot read, or one in the trash, is 404 everywhere here.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, Method, StatusCode, header};
use tokio_util::io::ReaderStream;

use super::error::DavError;
use super::headers::{DEPTH, OC_ETAG, OC_FILEID};
use super::href::{escape, href};
use super::multistatus::{Multistatus, Prop, principal, propfind_request, text};
use super::propfind_req::{Depth, parse_depth};
use super::propfind_xml::{mime_type, permissions};
use crate::http::if_header::submitted_tokens;
use crate::spaces::{
    LockHolder, Node, ResourceId, Role, Space, SpacePath, StoreError, User, Version,
};
use crate::state::AppState;

/// The meta roots.
pub const ROOTS: [&str; 2] = ["/remote.php/dav/meta", "/dav/meta"];
/// The private link route.
pub const PRIVATE_LINK: &str = "/f/{id}";

const NS_OC: &str = "http://owncloud.org/ns";

/// A live node the requester may read, addressed by its resource id.
struct Located {
    rid: ResourceId,
    node: Node,
    path: SpacePath,
    space: Space,
    role: Role,
}

fn not_found(e: StoreError) -> DavError {
    match e {
        StoreError::NotFound => DavError::NotFound,
        e => e.into(),
    }
}

/// Look up `id` for `user`: 404 for a malformed id, another installation's, a node of a
/// space the user is not a member of, or a node in the trash.
async fn locate(state: &AppState, user: &User, id: &str) -> Result<Located, DavError> {
    let store = state.store();
    let rid: ResourceId = id.parse().map_err(|_| DavError::NotFound)?;
    if rid.space.storage != store.storage_id() {
        return Err(DavError::NotFound);
    }
    let node = store.node(rid.node).await.map_err(not_found)?;
    if node.space != rid.space.space {
        return Err(DavError::NotFound);
    }
    let role = store
        .role(node.space, user.id)
        .await?
        .ok_or(DavError::NotFound)?;
    let path = store.live_path(&node).await.map_err(not_found)?;
    let space = store.space(node.space).await.map_err(not_found)?;
    Ok(Located {
        rid,
        node,
        path,
        space,
        role,
    })
}

/// The handler of every meta URL.
pub async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let (principal, req) = match principal(&state, req).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    match serve(&state, &principal.user, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn serve(state: &AppState, user: &User, req: Request) -> Result<Response, DavError> {
    let raw = req.uri().path().to_string();
    let (root, after) = ROOTS
        .iter()
        .find_map(|r| raw.strip_prefix(r).map(|a| (*r, a)))
        .ok_or(DavError::NotFound)?;
    let segs: Vec<&str> = after.split('/').filter(|s| !s.is_empty()).collect();
    let method = req.method().clone();
    match (segs.as_slice(), method.as_str()) {
        ([id], "PROPFIND") => {
            let at = locate(state, user, id).await?;
            meta_propfind(root, &at, req).await
        }
        ([id, "v"], "PROPFIND") => {
            let at = locate(state, user, id).await?;
            list_versions(state, root, &at, req).await
        }
        ([id, "v", key], "GET" | "HEAD" | "COPY") => {
            let (at, version) = version_of(state, user, id, key).await?;
            if method.as_str() == "COPY" {
                restore_version(state, &at, &version, req).await
            } else {
                download(state, &at, &version, method == Method::HEAD).await
            }
        }
        ([], _) | ([_], _) | ([_, "v"], _) | ([_, "v", _], _) => Err(DavError::MethodNotAllowed),
        _ => Err(DavError::NotFound),
    }
}

/// `oc:meta-path-for-user` and the ids, as reva answers them.
async fn meta_propfind(root: &str, at: &Located, req: Request) -> Result<Response, DavError> {
    let request = propfind_request(req).await?;
    let id = at.rid.to_string();
    let folder = at.node.is_folder();
    let mut props: Vec<Prop> = vec![
        (NS_OC, "meta-path-for-user", text(&at.path.to_string())),
        (NS_OC, "id", text(&id)),
        (NS_OC, "fileid", text(&id)),
        (NS_OC, "spaceid", text(&at.space.id.to_string())),
        (NS_OC, "name", text(&at.node.name)),
        (NS_OC, "permissions", permissions(at.role, folder).into()),
        (
            "DAV:",
            "resourcetype",
            if folder {
                "<d:collection/>".into()
            } else {
                String::new()
            },
        ),
    ];
    if let Some(p) = at.node.parent {
        props.push((
            NS_OC,
            "file-parent",
            text(&at.space.id.resource(p).to_string()),
        ));
    }
    let mut ms = Multistatus::default();
    ms.response(
        &format!("{}/", escape(&format!("{root}/{id}"))),
        &request,
        &props,
    );
    Ok(ms.finish())
}

fn version_props(at: &Located, v: &Version) -> Vec<Prop> {
    let mime = at
        .node
        .content_type
        .as_deref()
        .unwrap_or_else(|| mime_type(&at.node.name));
    vec![
        ("DAV:", "getcontentlength", v.size.to_string()),
        ("DAV:", "getlastmodified", v.mtime.http_date()),
        ("DAV:", "getetag", text(&format!("\"{}\"", v.etag))),
        ("DAV:", "getcontenttype", text(mime)),
        ("DAV:", "resourcetype", String::new()),
        (NS_OC, "fileid", text(&at.rid.to_string())),
        (NS_OC, "name", text(&v.id.to_string())),
    ]
}

async fn list_versions(
    state: &AppState,
    root: &str,
    at: &Located,
    req: Request,
) -> Result<Response, DavError> {
    let depth = parse_depth(
        req.headers().get(DEPTH).and_then(|v| v.to_str().ok()),
        false,
    )?;
    let request = propfind_request(req).await?;
    let base = format!("{root}/{}/v", at.rid);
    let mut ms = Multistatus::default();
    let collection = [("DAV:", "resourcetype", "<d:collection/>".to_string())];
    ms.response(
        &href(&base, &SpacePath::root(), true),
        &request,
        &collection,
    );
    if depth == Depth::One {
        for v in state.store().versions(at.node.id).await? {
            let h = format!("{}/{}", escape(&base), v.id);
            ms.response(&h, &request, &version_props(at, &v));
        }
    }
    Ok(ms.finish())
}

/// The version `key` addressed through `id`, which is its file or (as ownCloud Web sends
/// it when restoring) the file's parent folder; 404 unless the requester may read the file.
async fn version_of(
    state: &AppState,
    user: &User,
    id: &str,
    key: &str,
) -> Result<(Located, Version), DavError> {
    let via = locate(state, user, id).await?;
    let key = uuid::Uuid::parse_str(key).map_err(|_| DavError::NotFound)?;
    let (node, version) = state.store().version(key).await.map_err(not_found)?;
    if node.id != via.node.id && node.parent != Some(via.node.id) {
        return Err(DavError::NotFound);
    }
    let rid = via.space.id.resource(node.id);
    let at = locate(state, user, &rid.to_string()).await?;
    Ok((at, version))
}

async fn download(
    state: &AppState,
    at: &Located,
    v: &Version,
    head: bool,
) -> Result<Response, DavError> {
    let mime = at
        .node
        .content_type
        .as_deref()
        .unwrap_or_else(|| mime_type(&at.node.name));
    let body = if head {
        Body::empty()
    } else {
        let reader = state.store().read_version(v).await?;
        Body::from_stream(ReaderStream::new(reader))
    };
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(v.size));
    if let Ok(m) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, m);
    }
    if let Ok(e) = HeaderValue::from_str(&format!("\"{}\"", v.etag)) {
        h.insert(header::ETAG, e);
    }
    if let Ok(d) = HeaderValue::from_str(&v.mtime.http_date()) {
        h.insert(header::LAST_MODIFIED, d);
    }
    Ok(res)
}

/// Restore a version. Like reva, the `Destination` is not consulted: the version's own file
/// is restored (ownCloud Web sends an URL of its own making there).
async fn restore_version(
    state: &AppState,
    at: &Located,
    v: &Version,
    req: Request,
) -> Result<Response, DavError> {
    if !at.role.can_write() {
        return Err(DavError::ReadOnly);
    }
    let holder = LockHolder::with_tokens(submitted_tokens(req.headers()));
    let node = state
        .store()
        .restore_version(v.id, Some(at.node.version), &holder)
        .await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    if let Ok(e) = HeaderValue::from_str(&node.quoted_etag()) {
        h.insert(header::ETAG, e.clone());
        h.insert(OC_ETAG, e);
    }
    if let Ok(f) = HeaderValue::from_str(&at.rid.to_string()) {
        h.insert(OC_FILEID, f);
    }
    Ok(res)
}

/// `GET /f/{fileid}`: the private link. When this process serves ownCloud Web
/// (`web.assets_path`), it is Web's own `/f/` route: Web's page, which signs the user in and
/// resolves the id itself (`/dav/meta/{id}`). Otherwise it redirects to the resource's WebDAV
/// URL, for the requester.
pub async fn private_link(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    if state.config().web_assets_path.is_some() {
        return crate::web::fallback(State(state), req).await;
    }
    let base = crate::http::base_url(&state, req.headers());
    let (principal, _req) = match principal(&state, req).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let at = match locate(&state, &principal.user, &id).await {
        Ok(at) => at,
        Err(e) => return e.into_response(),
    };
    let dav = href(
        &format!("/dav/spaces/{}", at.space.id),
        &at.path,
        at.node.is_folder(),
    );
    Redirect::to(&format!("{base}{dav}")).into_response()
}
