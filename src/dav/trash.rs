//! The trash bin over WebDAV (issue 11, reva's `trashbin.go` wire shape):
//! `/{remote.php/}dav/spaces/trash-bin/{sid}/…` for any space, and the legacy
//! `/{remote.php/}dav/trash-bin/{user}/…` for the requester's personal space (owncloud-sdk).
//!
//! Below the root: `{key}` names a deleted subtree (its top node's uuid), `{key}/{path}` a node
//! inside it. `PROPFIND` lists (Depth 0 or 1), `MOVE` restores to `Destination`, `DELETE`
//! purges an item or (on the root) empties the bin. A space the requester is not a member of
//! is 404; restoring and purging need an editor or manager (else 403).

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use percent_encoding::percent_decode_str;

use super::error::DavError;
use super::headers::{DEPTH, DESTINATION, OC_ETAG, OC_FILEID, OVERWRITE};
use super::href::{escape, href};
use super::multistatus::{Multistatus, Prop, principal, propfind_request, text};
use super::propfind_req::{Depth, parse_depth};
use super::propfind_xml::mime_type;
use super::resolve::resolve;
use super::url_parse::{destination_path, parse_url};
use crate::http::if_header::submitted_tokens;
use crate::spaces::{
    LockHolder, Mtime, NodeId, RestoreTo, Role, Space, SpaceId, SpacePath, StoreError, TrashItem,
    User,
};
use crate::state::AppState;

/// How the segment after a trash root names the space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyed {
    /// By space id `{sid}`.
    Space,
    /// By the requester's user name (or id): the personal space.
    User,
}

/// The trash roots, each with how it names its space.
pub const ROOTS: [&str; 4] = [
    "/remote.php/dav/spaces/trash-bin",
    "/dav/spaces/trash-bin",
    "/remote.php/dav/trash-bin",
    "/dav/trash-bin",
];

/// Methods served below a trash root.
const ALLOW: &str = "OPTIONS, PROPFIND, MOVE, DELETE";

/// A parsed trash URL.
struct TrashUrl {
    /// Decoded prefix up to and including the space key.
    prefix: String,
    keyed: Keyed,
    key: String,
    /// The item and the path below it, if any.
    item: Option<(NodeId, SpacePath)>,
}

fn decode(s: &str) -> Result<String, DavError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| DavError::InvalidPath(s.into()))
}

fn parse(raw: &str) -> Result<TrashUrl, DavError> {
    let (root, after) = ROOTS
        .iter()
        .find_map(|r| raw.strip_prefix(r).map(|a| (*r, a)))
        .ok_or(DavError::NotFound)?;
    let keyed = if root.contains("/spaces/") {
        Keyed::Space
    } else {
        Keyed::User
    };
    let mut segs = after.split('/').filter(|s| !s.is_empty());
    let key = decode(segs.next().ok_or(DavError::MethodNotAllowed)?)?;
    let item = match segs.next() {
        None => None,
        Some(k) => {
            let id = uuid::Uuid::parse_str(&decode(k)?).map_err(|_| DavError::NotFound)?;
            let rest = segs.map(decode).collect::<Result<Vec<_>, _>>()?.join("/");
            Some((NodeId(id), SpacePath::parse(&rest)?))
        }
    };
    Ok(TrashUrl {
        prefix: format!("{root}/{key}"),
        keyed,
        key,
        item,
    })
}

/// The space a trash URL names and the requester's role in it; 404 when not a member.
async fn space_of(
    state: &AppState,
    user: &User,
    url: &TrashUrl,
) -> Result<(Space, Role), DavError> {
    let store = state.store();
    let uuid = match url.keyed {
        Keyed::Space => {
            let sid: SpaceId = url.key.parse().map_err(|_| DavError::NotFound)?;
            if sid.storage != store.storage_id() {
                return Err(DavError::NotFound);
            }
            sid.space
        }
        Keyed::User
            if url.key.eq_ignore_ascii_case(&user.name) || url.key == user.id.to_string() =>
        {
            user.id.0
        }
        Keyed::User => return Err(DavError::NotFound),
    };
    let space = store.space(uuid).await.map_err(|e| match e {
        StoreError::NotFound => DavError::NotFound,
        e => e.into(),
    })?;
    let role = store.role(uuid, user.id).await?.ok_or(DavError::NotFound)?;
    Ok((space, role))
}

/// The handler of every trash URL.
pub async fn handle(State(state): State<AppState>, req: Request) -> Response {
    if req.method() == Method::OPTIONS {
        let mut res = StatusCode::NO_CONTENT.into_response();
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
        return res;
    }
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
    let url = parse(req.uri().path())?;
    let (space, role) = space_of(state, user, &url).await?;
    match req.method().as_str() {
        "PROPFIND" => list(state, &space, &url, req).await,
        "MOVE" | "DELETE" if !role.can_write() => Err(DavError::ReadOnly),
        "MOVE" => restore(state, user, &space, &url, req).await,
        "DELETE" => {
            let store = state.store();
            match &url.item {
                None => {
                    store.empty_trash(space.id.space).await?;
                }
                Some((key, rel)) => store.purge(space.id.space, *key, rel).await?,
            }
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(DavError::MethodNotAllowed),
    }
}

/// `Mon, 02 Jan 2006 15:04:05 +0000`, the RFC 1123 form with a numeric zone reva sends.
fn datetime(ns: i64) -> String {
    Mtime(ns).http_date().replace(" GMT", " +0000")
}

fn item_props(space: &Space, item: &TrashItem) -> Vec<Prop> {
    let n = &item.node;
    let name = item.location.name().unwrap_or_default();
    let mut props: Vec<Prop> = vec![
        (
            "http://owncloud.org/ns",
            "trashbin-original-filename",
            text(name),
        ),
        (
            "http://owncloud.org/ns",
            "trashbin-original-location",
            text(item.location.to_string().trim_start_matches('/')),
        ),
        (
            "http://owncloud.org/ns",
            "trashbin-delete-datetime",
            datetime(item.deleted_at),
        ),
        (
            "http://owncloud.org/ns",
            "trashbin-delete-timestamp",
            Mtime(item.deleted_at).unix_secs().to_string(),
        ),
        (
            "http://owncloud.org/ns",
            "spaceid",
            text(&space.id.to_string()),
        ),
        ("http://owncloud.org/ns", "size", n.size.to_string()),
    ];
    if n.is_folder() {
        props.push(("DAV:", "resourcetype", "<d:collection/>".into()));
        props.push(("DAV:", "getcontenttype", "httpd/unix-directory".into()));
    } else {
        props.push(("DAV:", "resourcetype", String::new()));
        props.push(("DAV:", "getcontentlength", n.size.to_string()));
        let mime = n
            .content_type
            .as_deref()
            .unwrap_or_else(|| mime_type(&n.name));
        props.push(("DAV:", "getcontenttype", text(mime)));
    }
    props
}

/// The href of a trash item (`rel` below the item's key).
fn item_href(url: &TrashUrl, key: NodeId, rel: &SpacePath, folder: bool) -> String {
    let mut h = href(&url.prefix, &SpacePath::root(), true);
    h.push_str(&escape(&key.to_string()));
    for c in rel.components() {
        h.push('/');
        h.push_str(&escape(c));
    }
    if folder {
        h.push('/');
    }
    h
}

async fn list(
    state: &AppState,
    space: &Space,
    url: &TrashUrl,
    req: Request,
) -> Result<Response, DavError> {
    let depth = parse_depth(
        req.headers().get(DEPTH).and_then(|v| v.to_str().ok()),
        false,
    )?;
    let request = propfind_request(req).await?;
    let store = state.store();
    let mut ms = Multistatus::default();
    match &url.item {
        None => {
            let root = [("DAV:", "resourcetype", "<d:collection/>".to_string())];
            ms.response(
                &href(&url.prefix, &SpacePath::root(), true),
                &request,
                &root,
            );
            if depth == Depth::One {
                for item in store.trash_items(space.id.space).await? {
                    let h = item_href(url, item.key, &SpacePath::root(), item.node.is_folder());
                    ms.response(&h, &request, &item_props(space, &item));
                }
            }
        }
        Some((key, rel)) => {
            let item = store.trash_item(space.id.space, *key, rel).await?;
            let folder = item.node.is_folder();
            ms.response(
                &item_href(url, *key, rel, folder),
                &request,
                &item_props(space, &item),
            );
            if depth == Depth::One && folder {
                for child in store.children(item.node.id).await? {
                    let rel = rel.child(&child.name)?;
                    let c = TrashItem {
                        location: item.location.child(&child.name)?,
                        node: child,
                        ..item.clone()
                    };
                    let h = item_href(url, *key, &rel, c.node.is_folder());
                    ms.response(&h, &request, &item_props(space, &c));
                }
            }
        }
    }
    Ok(ms.finish())
}

/// `Overwrite` (RFC 4918 §10.6): `T` (the default) or `F`.
fn overwrite(req: &Request) -> Result<bool, DavError> {
    match req
        .headers()
        .get(OVERWRITE)
        .map(|v| v.to_str().map(str::trim))
    {
        None => Ok(true),
        Some(Ok(v)) if v.eq_ignore_ascii_case("t") => Ok(true),
        Some(Ok(v)) if v.eq_ignore_ascii_case("f") => Ok(false),
        Some(_) => Err(DavError::InvalidArgument("Overwrite must be T or F".into())),
    }
}

async fn restore(
    state: &AppState,
    user: &User,
    space: &Space,
    url: &TrashUrl,
    req: Request,
) -> Result<Response, DavError> {
    let (key, rel) = url.item.as_ref().ok_or(DavError::MethodNotAllowed)?;
    let overwrite = overwrite(&req)?;
    let raw = {
        let text = |name| {
            req.headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let value = text(DESTINATION).ok_or_else(|| DavError::InvalidPath("Destination".into()))?;
        let public = state.config().public_url.as_ref();
        destination_path(value, text(header::HOST), public)?
    };
    let durl = parse_url(&raw).ok_or(DavError::CrossSpace)??;
    let dest = resolve(state, user, durl).await?;
    if dest.space.id != space.id {
        return Err(DavError::CrossSpace);
    }
    let path = dest.path();
    if path.is_root() {
        return Err(DavError::ReadOnly);
    }
    let store = state.store();
    let done = store
        .restore(
            space.id.space,
            *key,
            rel,
            RestoreTo {
                dest: &path,
                overwrite,
                by: Some(user.id),
                holder: &LockHolder::with_tokens(submitted_tokens(req.headers())),
            },
        )
        .await?;
    let status = if done.replaced {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::CREATED
    };
    let mut res = status.into_response();
    let h = res.headers_mut();
    let etag = done.node.quoted_etag();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v.clone());
        h.insert(OC_ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&space.id.resource(done.node.id).to_string()) {
        h.insert(OC_FILEID, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trash_urls_name_space_item_and_path() {
        let u = parse("/dav/spaces/trash-bin/a%24b/").unwrap();
        assert_eq!(
            (u.prefix.as_str(), u.key.as_str()),
            ("/dav/spaces/trash-bin/a$b", "a$b")
        );
        assert!(u.item.is_none());
        let id = uuid::Uuid::new_v4();
        let u = parse(&format!("/remote.php/dav/trash-bin/alice/{id}/a%20b/c")).unwrap();
        assert_eq!(u.keyed, Keyed::User);
        let (key, rel) = u.item.unwrap();
        assert_eq!((key.0, rel.to_string()), (id, "/a b/c".to_string()));
        assert!(matches!(
            parse("/dav/spaces/trash-bin/x/not-a-uuid"),
            Err(DavError::NotFound)
        ));
        assert!(matches!(
            parse("/dav/trash-bin/"),
            Err(DavError::MethodNotAllowed)
        ));
    }

    #[test]
    fn delete_datetime_has_a_numeric_zone() {
        assert_eq!(datetime(0), "Thu, 01 Jan 1970 00:00:00 +0000");
    }
}
