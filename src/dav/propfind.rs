//! Our PROPFIND (SPEC §5): one storage query per listing (plus one each for dead properties,
//! favorites, locks and quota when asked for), 200 and 404 propstats, quoted etags, streamed.

use std::collections::{HashMap, HashSet};

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
use super::locks::{self, LockRow};
use super::propfind_req::{Depth, PropRequest, parse_body, parse_depth, prefers_minimal};
use super::propfind_xml::{Entry, Listing, render_response};
use super::props::{self, DeadProp, Scope};
use super::resolve::Target;
use crate::spaces::{Node, NodeId, Quota, SpacePath, User};
use crate::state::AppState;

/// Largest PROPFIND body accepted.
const MAX_BODY: usize = 1 << 20;
/// Bytes collected before a chunk of the answer is sent.
const CHUNK: usize = 64 << 10;

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
    let body = http_body_util::Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| DavError::MalformedXml(e.to_string()))?
        .to_bytes();
    let request = parse_body(&body)?;

    let store = state.store();
    let space = target.space_uuid();
    let node = store.resolve(space, &target.path()).await?;
    let mut entries = vec![(target.url.rest.clone(), node.clone())];
    let scope = match depth {
        Depth::Zero => Scope::Node {
            id: node.id,
            children: false,
        },
        Depth::One => {
            if node.is_folder() {
                for c in store.children(node.id).await? {
                    entries.push((target.url.rest.child(&c.name)?, c));
                }
            }
            Scope::Node {
                id: node.id,
                children: true,
            }
        }
        Depth::Infinity => {
            let mut i = 0;
            while i < entries.len() {
                if entries[i].1.is_folder() {
                    let (rel, id) = (entries[i].0.clone(), entries[i].1.id);
                    for c in store.children(id).await? {
                        entries.push((rel.child(&c.name)?, c));
                    }
                }
                i += 1;
            }
            Scope::Space(space)
        }
    };
    let db = store.db();
    let dead: HashMap<NodeId, Vec<DeadProp>> = if wants_dead(&request) {
        props::for_scope(db, scope).await?
    } else {
        HashMap::new()
    };
    let favorites: HashSet<NodeId> = if wants(&request, NS_OC, &["favorite"]) {
        props::favorites(db, user, scope).await?
    } else {
        HashSet::new()
    };
    let lock_rows: Vec<LockRow> = if wants(&request, NS_DAV, &["lockdiscovery"]) {
        locks::of_space(db, space)
            .await
            .map_err(|e| DavError::Internal(e.into()))?
    } else {
        Vec::new()
    };
    let quota: Option<Quota> = if wants(&request, NS_DAV, &["quota-available-bytes"]) {
        Some(store.quota(space).await?)
    } else {
        None
    };
    let listing = Listing {
        space: target.space.clone(),
        role: target.role,
        prefix: target.url.prefix.clone(),
        base: target.base.clone(),
        public_base,
        request,
        minimal,
        dead,
        favorites,
        locks: lock_rows,
        quota,
    };
    Ok(stream(listing, entries, minimal))
}

fn stream(listing: Listing, entries: Vec<(SpacePath, Node)>, minimal: bool) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let mut buf = String::with_capacity(CHUNK + 4096);
        buf.push_str(&format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<d:multistatus xmlns:d=\"{NS_DAV}\" \
             xmlns:s=\"{NS_SABRE}\" xmlns:oc=\"{NS_OC}\">"
        ));
        for (rel, node) in &entries {
            render_response(&mut buf, &listing, &Entry { rel, node });
            if buf.len() >= CHUNK {
                let chunk = std::mem::replace(&mut buf, String::with_capacity(CHUNK + 4096));
                if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                    return;
                }
            }
        }
        buf.push_str("</d:multistatus>");
        let _ = tx.send(Ok(Bytes::from(buf))).await;
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
