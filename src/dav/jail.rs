//! The root of oCIS's share jail (`/dav/spaces/{SHARE_JAIL}/`): a read-only collection whose
//! members are the files and folders shared with the requester, by mount name
//! (research/ocis-spec.md §1, [`crate::sharing::mounts`]). Below a member, [`super::resolve`]
//! serves the shared item itself. A tus creation on the root names its mount in `filename`
//! (as a sync client uploads into the Shares space): [`upload_target`].

use std::fmt::Write;

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use quick_xml::escape::partial_escape;

use super::error::DavError;
use super::headers::{NS_DAV, NS_OC, XML_CONTENT_TYPE};
use super::href::href;
use super::propfind_xml::mime_type;
use super::public::{metadata_filename, set_metadata_filename};
use super::resolve::{SHARE_JAIL, Target, resolve};
use super::url_parse::DavUrl;
use crate::sharing::access::received_letters;
use crate::sharing::mounts::{by_name, jail_etag, mounts};
use crate::spaces::{ResourceId, SpacePath, User};
use crate::state::AppState;

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
    let members = mounts(state, user.id).await?;
    let etag = jail_etag(&members);
    let size: u64 = members.iter().map(|m| m.node.size).sum();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"{NS_DAV}\" \
         xmlns:oc=\"{NS_OC}\">"
    );
    let root = format!(
        "<d:resourcetype><d:collection/></d:resourcetype><d:displayname>Shares</d:displayname>\
         <d:getetag>{etag}</d:getetag><oc:id>{SHARE_JAIL}</oc:id>\
         <oc:fileid>{SHARE_JAIL}</oc:fileid><oc:spaceid>{SHARE_JAIL}</oc:spaceid>\
         <oc:permissions></oc:permissions><oc:size>{size}</oc:size>"
    );
    prop_response(
        &mut out,
        &href(&url.prefix, &SpacePath::root(), true),
        &root,
    );
    if depth != "0" {
        for m in &members {
            let n = &m.node;
            let rid = ResourceId {
                space: state.store().space_id(n.space),
                node: n.id,
            };
            let folder = n.is_folder();
            let letters = received_letters(m.bits, folder);
            let name = partial_escape(&m.name);
            let kind = if folder {
                "<d:resourcetype><d:collection/></d:resourcetype>".to_string()
            } else {
                format!(
                    "<d:resourcetype/><d:getcontentlength>{}</d:getcontentlength>\
                     <d:getcontenttype>{}</d:getcontenttype>",
                    n.size,
                    partial_escape(n.content_type.as_deref().unwrap_or(mime_type(&n.name)))
                )
            };
            let props = format!(
                "{kind}<d:displayname>{name}</d:displayname><d:getetag>{}</d:getetag>\
                 <d:getlastmodified>{}</d:getlastmodified><oc:id>{rid}</oc:id>\
                 <oc:fileid>{rid}</oc:fileid><oc:name>{name}</oc:name>\
                 <oc:permissions>{letters}</oc:permissions><oc:size>{}</oc:size>\
                 <oc:shareid>{}</oc:shareid>",
                n.quoted_etag(),
                n.mtime.http_date(),
                n.size,
                m.share.uid,
            );
            let rel = SpacePath::parse(&format!("/{}", m.name))?;
            prop_response(&mut out, &href(&url.prefix, &rel, folder), &props);
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

/// A tus creation on the jail root: the first segment of `filename` names the mount. Into a
/// folder mount, the rest of `filename` is the path below it; a file mount can only be
/// replaced, under its own name. Anything else is refused (nothing can be created in the
/// jail itself).
pub async fn upload_target(
    state: &AppState,
    user: &User,
    url: DavUrl,
    headers: &mut HeaderMap,
) -> Result<Target, DavError> {
    let name = metadata_filename(headers).ok_or(DavError::ReadOnly)?;
    let path = SpacePath::parse(&name).map_err(|_| DavError::InvalidPath(name.clone()))?;
    let comps = path.components();
    let first = comps.first().ok_or(DavError::ReadOnly)?;
    let mount = by_name(state, user.id, first)
        .await?
        .ok_or(DavError::ReadOnly)?;
    let rest = comps[1..].join("/");
    if mount.node.is_folder() {
        set_metadata_filename(headers, &rest);
        let url = DavUrl {
            rest: SpacePath::parse(&format!("/{first}"))?,
            ..url
        };
        return resolve(state, user, url).await;
    }
    if !rest.is_empty() {
        return Err(DavError::ReadOnly);
    }
    set_metadata_filename(headers, &mount.node.name);
    let url = DavUrl {
        rest: SpacePath::parse(&format!("/{first}"))?,
        ..url
    };
    let mut target = resolve(state, user, url).await?;
    // The file's folder receives the upload; the name was checked above.
    target.url.rest = SpacePath::root();
    Ok(target)
}
