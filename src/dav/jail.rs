//! The root of oCIS's share jail (`/dav/spaces/{SHARE_JAIL}/`): a read-only collection whose
//! members are the folders shared with the requester, by name (research/ocis-spec.md §1). Below
//! a member, [`super::resolve`] serves the shared folder itself.

use std::fmt::Write;

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use quick_xml::escape::partial_escape;
use sha1::Digest;

use super::error::DavError;
use super::headers::{NS_DAV, NS_OC, XML_CONTENT_TYPE};
use super::href::href;
use super::propfind_xml::permissions;
use super::resolve::{DavUrl, SHARE_JAIL};
use crate::sharing::access::{SHARE, role_for};
use crate::spaces::{Node, ResourceId, SpacePath, User};
use crate::state::AppState;

/// The folders shared with `user`, one per name (the first share of a name wins, as
/// [`super::resolve`] resolves it), with the user's bits on each.
async fn members(state: &AppState, user: &User) -> Result<Vec<(Node, u32)>, DavError> {
    let store = state.store();
    let now = state.clock().now_ns();
    let mut out: Vec<(Node, u32)> = Vec::new();
    for share in store.shares_received(user.id).await? {
        if share.expired(now) {
            continue;
        }
        let node = store.node(share.node).await?;
        if node.is_folder() && !out.iter().any(|(n, _)| n.name == node.name) {
            let bits = store.received_permissions(user.id, node.id).await?;
            out.push((node, bits));
        }
    }
    Ok(out)
}

fn prop_response(out: &mut String, href: &str, props: &str) {
    let _ = write!(
        out,
        "<d:response><d:href>{href}</d:href><d:propstat><d:prop>{props}</d:prop>\
         <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
    );
}

/// `PROPFIND` on the jail root: the root, and with `Depth: 1` its members.
pub async fn propfind(
    state: &AppState,
    user: &User,
    url: &DavUrl,
    headers: &HeaderMap,
) -> Result<Response, DavError> {
    let depth = headers
        .get("depth")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("1");
    let members = members(state, user).await?;
    let mut etag = sha1::Sha1::new();
    let mut size = 0u64;
    for (n, _) in &members {
        etag.update(n.etag.as_bytes());
        size += n.size;
    }
    let etag = hex::encode(&etag.finalize()[..8]);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"{NS_DAV}\" \
         xmlns:oc=\"{NS_OC}\">"
    );
    let root = format!(
        "<d:resourcetype><d:collection/></d:resourcetype><d:displayname>Shares</d:displayname>\
         <d:getetag>\"{etag}\"</d:getetag><oc:id>{SHARE_JAIL}</oc:id>\
         <oc:fileid>{SHARE_JAIL}</oc:fileid><oc:spaceid>{SHARE_JAIL}</oc:spaceid>\
         <oc:permissions></oc:permissions><oc:size>{size}</oc:size>"
    );
    prop_response(
        &mut out,
        &href(&url.prefix, &SpacePath::root(), true),
        &root,
    );
    if depth != "0" {
        for (n, bits) in &members {
            let rid = ResourceId {
                space: state.store().space_id(n.space),
                node: n.id,
            };
            let letters = format!(
                "S{}{}",
                if bits & SHARE != 0 { "R" } else { "" },
                permissions(role_for(*bits), true)
            );
            let name = partial_escape(&n.name);
            let props = format!(
                "<d:resourcetype><d:collection/></d:resourcetype>\
                 <d:displayname>{name}</d:displayname><d:getetag>{}</d:getetag>\
                 <d:getlastmodified>{}</d:getlastmodified><oc:id>{rid}</oc:id>\
                 <oc:fileid>{rid}</oc:fileid><oc:permissions>{letters}</oc:permissions>\
                 <oc:size>{}</oc:size>",
                n.quoted_etag(),
                n.mtime.http_date(),
                n.size
            );
            let rel = SpacePath::parse(&format!("/{}", n.name))?;
            prop_response(&mut out, &href(&url.prefix, &rel, true), &props);
        }
    }
    out.push_str("</d:multistatus>");
    let mut res = (StatusCode::MULTI_STATUS, out).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XML_CONTENT_TYPE),
    );
    Ok(res)
}
