//! Our PROPFIND (SPEC §5): one storage query per listing (plus one each for dead properties,
//! favorites, locks and quota when asked for), 200 and 404 propstats, quoted etags, streamed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt;

use super::error::DavError;
use super::headers::{
    DEPTH, NS_DAV, NS_OC, NS_SABRE, PREFER, PREFERENCE_APPLIED, XML_CONTENT_TYPE,
};
use super::propfind_req::{Depth, PropRequest, parse_body, parse_depth, prefers_minimal};
use super::propfind_xml::{At, Dir, Entry, LinkProps, Listing, Renderer};
use super::resolve::Target;
use crate::spaces::{Mtime, Node, NodeId, NodeScope, SpacePath, Store, User};
use crate::state::AppState;

/// Largest PROPFIND body accepted.
const MAX_BODY: usize = 1 << 20;
/// Bytes collected before a chunk of the answer is sent.
const CHUNK: usize = 64 << 10;
/// Children read per query: bounds the rows held while a large folder streams out.
const PAGE: u32 = 512;

/// Whether any requested property needs the given lookup.
fn wants(req: &PropRequest, ns: &str, names: &[&str]) -> bool {
    match req {
        PropRequest::AllProp(_) | PropRequest::PropName => true,
        PropRequest::Prop(list) => list
            .iter()
            .any(|p| p.ns == ns && names.contains(&p.name.as_str())),
    }
}

fn wants_dead(req: &PropRequest) -> bool {
    match req {
        PropRequest::AllProp(_) | PropRequest::PropName => true,
        PropRequest::Prop(list) => list
            .iter()
            .any(|p| !super::propfind_xml::is_live(&p.ns, &p.name)),
    }
}

/// Answer a PROPFIND on `target` for `user`.
pub async fn handle(
    state: &AppState,
    target: &Target,
    user: &User,
    public_base: String,
    req: Request,
) -> Result<Response, DavError> {
    let headers = req.headers().clone();
    let depth = parse_depth(
        headers.get(DEPTH).and_then(|v| v.to_str().ok()),
        state.config().propfind_depth_infinity,
    )?;
    let minimal = prefers_minimal(
        headers
            .get_all(PREFER)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    let body = read_body(req.into_body()).await?;
    let request = parse_body(&body)?;

    let store = state.store();
    let space = target.space_uuid();
    let node = store.resolve(space, &target.path()).await?;
    // A shared file's root (file link, received file share) is the folder holding the file,
    // as in oCIS: listed, it holds the shared file and nothing else.
    let only = target.only;
    let link = match (&target.url.key, target.url.root.is_public()) {
        (Some(token), true) => {
            let share = store.share_by_token(token).await?;
            let shared = store.node(share.node).await?;
            Some(LinkProps {
                permissions: share.permissions,
                item_type: if shared.is_folder() { "folder" } else { "file" },
                owner: store.user(share.created_by).await?.display_name,
                created: Mtime(share.created_at),
                expires: share.expires_at.map(Mtime),
            })
        }
        _ => None,
    };
    let depth = match depth {
        Depth::Infinity if only.is_some() => Depth::One,
        d => d,
    };
    let scope = match depth {
        Depth::Zero => NodeScope::Node {
            id: node.id,
            children: false,
        },
        Depth::One => NodeScope::Node {
            id: node.id,
            children: true,
        },
        Depth::Infinity => NodeScope::Space(space),
    };
    let listing = Listing {
        space: target.space.clone(),
        role: target.role,
        prefix: target.url.prefix.clone(),
        base: target.base.clone(),
        public_base,
        request,
        minimal,
        dead: HashMap::new(),
        favorites: HashSet::new(),
        locks: Vec::new(),
        now: Mtime(store.clock().now_ns()),
        quota: None,
        link,
        received: target
            .access
            .filter(|_| !target.url.root.is_public())
            .map(|a| a.0),
    };
    let walk = Walk {
        store: store.clone(),
        user: user.clone(),
        scope,
        rest: target.url.rest.clone(),
        root: node,
        depth,
        only,
    };
    Ok(stream(listing, walk, minimal))
}

/// What a streamed listing visits: the addressed resource, then (breadth first, as
/// `Depth` asks) the children of each listed folder, read page by page.
struct Walk {
    store: Store,
    /// The requester, for `oc:favorite`.
    user: User,
    /// The nodes the listing covers, for the per-listing lookups.
    scope: NodeScope,
    rest: SpacePath,
    root: Node,
    depth: Depth,
    /// For a file link's root: the one child the listing shows.
    only: Option<NodeId>,
}

/// Fill in what the requested properties need beyond the nodes, one query each: dead
/// properties, favorites, locks and quota.
async fn lookups(listing: &mut Listing, walk: &Walk) -> Result<(), DavError> {
    let (store, request) = (&walk.store, &listing.request);
    let space = listing.space.id.space;
    if wants_dead(request) {
        listing.dead = store.dead_props(walk.scope).await?;
    }
    if wants(request, NS_OC, &["favorite"]) {
        listing.favorites = store.favorites(walk.user.id, walk.scope).await?;
    }
    if wants(request, NS_DAV, &["lockdiscovery"]) {
        listing.locks = store.locks_of_space(space).await?;
    }
    if wants(request, NS_DAV, &["quota-available-bytes"]) {
        listing.quota = Some(store.quota(space).await?);
    }
    Ok(())
}

/// Where the body goes: full chunks are sent while later rows are still being read.
type Sender = tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>;

/// Send `buf` as one chunk and start a fresh one; `false` when the client is gone.
async fn send(tx: &Sender, buf: &mut String) -> bool {
    let chunk = std::mem::replace(buf, String::with_capacity(CHUNK + 4096));
    tx.send(Ok(Bytes::from(chunk))).await.is_ok()
}

/// Render the listing into `tx`: the prologue goes out at once, then the addressed resource
/// (after the lookups), then a chunk whenever [`CHUNK`] bytes are ready. Only one page of
/// rows and one chunk are held at a time.
async fn produce(mut listing: Listing, walk: Walk, tx: &Sender) -> Result<(), DavError> {
    let mut buf = String::with_capacity(CHUNK + 4096);
    let mut r = Renderer::default();
    let _ = write!(
        buf,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<d:multistatus xmlns:d=\"{NS_DAV}\" \
         xmlns:s=\"{NS_SABRE}\" xmlns:oc=\"{NS_OC}\">"
    );
    if !send(tx, &mut buf).await {
        return Ok(());
    }
    lookups(&mut listing, &walk).await?;
    let root = Entry {
        at: At::Listed(&walk.rest),
        node: &walk.root,
    };
    r.response(&mut buf, &listing, &root);
    if !send(tx, &mut buf).await {
        return Ok(());
    }
    let mut folders = VecDeque::new();
    if walk.depth != Depth::Zero && walk.root.is_folder() {
        folders.push_back((Dir::new(&listing.prefix, walk.rest.clone()), walk.root.id));
    }
    while let Some((dir, id)) = folders.pop_front() {
        let mut after: Option<String> = None;
        loop {
            let page = walk.store.children_page(id, after.as_deref(), PAGE).await?;
            for c in page
                .iter()
                .filter(|c| walk.only.is_none_or(|id| id == c.id))
            {
                let e = Entry {
                    at: At::Child(&dir),
                    node: c,
                };
                r.response(&mut buf, &listing, &e);
                if walk.depth == Depth::Infinity && c.is_folder() {
                    let rel = dir.rel.child(&c.name)?;
                    folders.push_back((Dir::new(&listing.prefix, rel), c.id));
                }
                if buf.len() >= CHUNK && !send(tx, &mut buf).await {
                    return Ok(());
                }
            }
            if page.len() < PAGE as usize {
                break;
            }
            after = page.last().map(|n| n.name.clone());
        }
    }
    buf.push_str("</d:multistatus>");
    send(tx, &mut buf).await;
    Ok(())
}

fn stream(listing: Listing, walk: Walk, minimal: bool) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        if let Err(e) = produce(listing, walk, &tx).await {
            // The status line is gone: cut the body off so the client sees a failure.
            tracing::error!(error = %e, "propfind listing failed mid-stream");
            let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
        }
    });
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut res = Response::new(Body::from_stream(body));
    *res.status_mut() = StatusCode::MULTI_STATUS;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XML_CONTENT_TYPE),
    );
    h.insert(header::VARY, HeaderValue::from_static("Prefer"));
    if minimal {
        h.insert(
            PREFERENCE_APPLIED,
            HeaderValue::from_static("return=minimal"),
        );
    }
    res
}

/// A PROPFIND body, read whole (up to its limit) even where the answer does not depend on it:
/// a server that answers without reading the body closes the connection, and a client that
/// already reuses it (the desktop client does) sees a network error instead of the next answer.
pub(super) async fn read_body(body: axum::body::Body) -> Result<bytes::Bytes, DavError> {
    Ok(http_body_util::Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| DavError::MalformedXml(e.to_string()))?
        .to_bytes())
}
