//! `REPORT` (issue 11, reva's `report.go` wire shape) on any WebDAV root: `oc:filter-files`
//! with `<oc:favorite>1</oc:favorite>` lists the requester's favorites, `oc:search-files`
//! finds names (case-insensitive substring) in every space the requester may read. Both
//! answer a multistatus with the properties of the request's `d:prop`, rendered like PROPFIND.
//!
//! `oc:pattern` is a plain term (owncloud-sdk) or Web's KQL: its `name:"*term*"` and
//! `scope:<fileid>` parts are used, other terms (tags, mtime, media type) are ignored.

use std::collections::{HashMap, HashSet};

use axum::extract::Request;
use axum::response::Response;
use http::{HeaderValue, header};
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::error::DavError;
use super::headers::{NS_DAV, NS_OC};
use super::multistatus::{Multistatus, read_body};
use super::propfind_req::{PropName, PropRequest};
use super::propfind_xml::{At, Entry, Listing, Renderer};
use crate::spaces::{Found, Mtime, NodeId, ResourceId, SpacePath, User};
use crate::state::AppState;

/// Largest `oc:limit` accepted; anything above (or below 1) is refused with 400.
pub const MAX_LIMIT: i64 = 10_000;
/// `oc:limit` when the request has none (owncloud-sdk's default).
const DEFAULT_LIMIT: usize = 30;

/// What a REPORT asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// `oc:filter-files` with the favorite rule.
    Favorites(Vec<PropName>),
    /// `oc:search-files`.
    Search {
        /// Requested properties.
        props: Vec<PropName>,
        /// The raw `oc:pattern`.
        pattern: String,
        /// `oc:limit`.
        limit: usize,
    },
}

fn bad(e: impl std::fmt::Display) -> DavError {
    DavError::MalformedXml(e.to_string())
}

/// Parse a REPORT body.
pub fn parse(body: &[u8]) -> Result<Report, DavError> {
    let mut reader = NsReader::from_reader(body);
    reader.config_mut().trim_text(true);
    let (mut stack, mut props) = (Vec::<(String, String)>::new(), Vec::new());
    let (mut root, mut favorite, mut pattern, mut limit) = (None, false, None, None);
    loop {
        let (res, ev) = reader.read_resolved_event().map_err(bad)?;
        let ns = match res {
            ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
            _ => String::new(),
        };
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                match stack.len() {
                    0 => root = Some((ns.clone(), local.clone())),
                    2 if stack[1] == (NS_DAV.into(), "prop".into()) => {
                        props.push(PropName::new(&ns, &local))
                    }
                    _ => {}
                }
                if matches!(ev, Event::Start(_)) {
                    stack.push((ns, local));
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(bad)?.trim().to_string();
                match stack.last().map(|(n, l)| (n.as_str(), l.as_str())) {
                    Some((NS_OC, "favorite")) => favorite = text == "1" || text == "true",
                    Some((NS_OC, "pattern")) => pattern = Some(text),
                    Some((NS_OC, "limit")) => limit = Some(text),
                    _ => {}
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match root {
        Some((ns, l)) if ns == NS_OC && l == "filter-files" => {
            if !favorite {
                return Err(DavError::InvalidArgument(
                    "oc:filter-files needs the rule <oc:favorite>1</oc:favorite>".into(),
                ));
            }
            Ok(Report::Favorites(props))
        }
        Some((ns, l)) if ns == NS_OC && l == "search-files" => {
            let limit = match limit {
                None => DEFAULT_LIMIT,
                Some(s) => match s.parse::<i64>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => n as usize,
                    _ => {
                        return Err(DavError::InvalidArgument(format!(
                            "oc:limit must be a whole number from 1 to {MAX_LIMIT}"
                        )));
                    }
                },
            };
            Ok(Report::Search {
                props,
                pattern: pattern.unwrap_or_default(),
                limit,
            })
        }
        _ => Err(DavError::InvalidArgument(
            "unsupported report: expected oc:filter-files or oc:search-files".into(),
        )),
    }
}

/// The name term and the scope of a search pattern (plain text or Web's KQL).
pub fn terms(pattern: &str) -> (String, Option<String>) {
    let quoted = |key: &str| -> Option<String> {
        let start = pattern.find(key)? + key.len();
        let rest = &pattern[start..];
        let v = match rest.strip_prefix('"') {
            Some(r) => r.split('"').next().unwrap_or(""),
            None => rest.split([' ', ')']).next().unwrap_or(""),
        };
        Some(v.to_string())
    };
    let scope = quoted("scope:");
    let name = if pattern.contains("name:") || pattern.contains("scope:") {
        quoted("name:").unwrap_or_default()
    } else {
        pattern.to_string()
    };
    (name.trim_matches('*').trim().to_string(), scope)
}

/// Answer a REPORT on any WebDAV URL (the URL itself only picks the href form).
pub async fn handle(state: &AppState, req: Request) -> Response {
    use axum::response::IntoResponse;
    let (principal, req) = match super::multistatus::principal(state, req).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let base = crate::http::base_url(state, req.headers());
    match answer(state, &principal.user, base, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn answer(
    state: &AppState,
    user: &User,
    public_base: String,
    req: Request,
) -> Result<Response, DavError> {
    let path = req.uri().path().to_string();
    let report = parse(&read_body(req).await?)?;
    let store = state.store();
    let (props, found, total) = match report {
        Report::Favorites(props) => {
            let found = store.favorite_nodes(user.id).await?;
            let n = found.len();
            (props, found, n)
        }
        Report::Search {
            props,
            pattern,
            limit,
        } => {
            let (term, scope) = terms(&pattern);
            let scope = match scope {
                Some(id) => Some(scope_of(state, &id).await?),
                None => None,
            };
            let mut result = store
                .search_names(
                    user.id,
                    &term,
                    if scope.is_some() { usize::MAX } else { limit },
                )
                .await?;
            if let Some((space, base)) = &scope {
                result
                    .hits
                    .retain(|f| f.node.space == *space && f.path.starts_with(base));
                result.total = result.hits.len();
                result.hits.truncate(limit);
            }
            (props, result.hits, result.total)
        }
    };
    let mut res = render(state, user, &path, public_base, props, &found).await?;
    let range = format!("rows 0-{}/{total}", found.len().saturating_sub(1));
    if let Ok(v) = HeaderValue::from_str(&range) {
        res.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    Ok(res)
}

/// The space and path of a `scope:` file id (a folder to search below).
async fn scope_of(state: &AppState, id: &str) -> Result<(uuid::Uuid, SpacePath), DavError> {
    let rid: ResourceId = id
        .parse()
        .map_err(|_| DavError::InvalidArgument(format!("scope {id}")))?;
    let node = state.store().node(rid.node).await?;
    Ok((node.space, state.store().live_path(&node).await?))
}

async fn render(
    state: &AppState,
    user: &User,
    path: &str,
    public_base: String,
    props: Vec<PropName>,
    found: &[Found],
) -> Result<Response, DavError> {
    let store = state.store();
    let dav = if path.starts_with("/remote.php/") {
        "/remote.php/dav"
    } else {
        "/dav"
    };
    let own_files = path.starts_with(&format!("{dav}/files/")) || path.contains("/webdav");
    let request = if props.is_empty() {
        PropRequest::AllProp(Vec::new())
    } else {
        PropRequest::Prop(props)
    };
    let favorites: HashSet<NodeId> = store
        .favorite_nodes(user.id)
        .await?
        .into_iter()
        .map(|f| f.node.id)
        .collect();
    let mut listings: HashMap<uuid::Uuid, Listing> = HashMap::new();
    let mut renderer = Renderer::default();
    let mut ms = Multistatus::default();
    let mut buf = String::new();
    for f in found {
        let space = f.node.space;
        if let std::collections::hash_map::Entry::Vacant(slot) = listings.entry(space) {
            let s = store.space(space).await?;
            let role = store
                .role(space, user.id)
                .await?
                .ok_or(DavError::NotFound)?;
            let prefix = if own_files && space == user.id.0 {
                format!("{dav}/files/{}", user.name)
            } else {
                format!("{dav}/spaces/{}", s.id)
            };
            slot.insert(Listing {
                space: s,
                role,
                prefix,
                base: SpacePath::root(),
                public_base: public_base.clone(),
                request: request.clone(),
                minimal: false,
                dead: HashMap::new(),
                favorites: favorites.clone(),
                locks: Vec::new(),
                now: Mtime(store.clock().now_ns()),
                quota: None,
                link: None,
                received: None,
            });
        }
        let listing = &listings[&space];
        let entry = Entry {
            at: At::Listed(&f.path),
            node: &f.node,
        };
        renderer.response(&mut buf, listing, &entry);
    }
    ms.raw(&buf);
    Ok(ms.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(inner: &str, root: &str) -> String {
        format!(
            r#"<?xml version="1.0"?><oc:{root} xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><d:getetag/><oc:fileid/></d:prop>{inner}</oc:{root}>"#
        )
    }

    #[test]
    fn reports_parse_with_their_properties() {
        let fav = body(
            "<oc:filter-rules><oc:favorite>1</oc:favorite></oc:filter-rules>",
            "filter-files",
        );
        assert_eq!(
            parse(fav.as_bytes()).unwrap(),
            Report::Favorites(vec![
                PropName::new(NS_DAV, "getetag"),
                PropName::new(NS_OC, "fileid")
            ])
        );
        let search = body(
            "<oc:search><oc:pattern>Rep</oc:pattern><oc:limit>8</oc:limit></oc:search>",
            "search-files",
        );
        assert!(
            matches!(parse(search.as_bytes()).unwrap(), Report::Search { limit: 8, ref pattern, .. } if pattern == "Rep")
        );
        for limit in ["-1", "0", "99999999999", "x"] {
            let b = body(
                &format!(
                    "<oc:search><oc:pattern>a</oc:pattern><oc:limit>{limit}</oc:limit></oc:search>"
                ),
                "search-files",
            );
            assert!(
                matches!(parse(b.as_bytes()), Err(DavError::InvalidArgument(_))),
                "{limit}"
            );
        }
        assert!(parse(b"<d:foo xmlns:d=\"DAV:\"/>").is_err());
    }

    #[test]
    fn kql_patterns_give_name_and_scope() {
        assert_eq!(terms("report"), ("report".into(), None));
        assert_eq!(terms("name:\"*Rep*\""), ("Rep".into(), None));
        assert_eq!(
            terms("name:\"*a b*\" AND scope:s$x!n"),
            ("a b".into(), Some("s$x!n".into()))
        );
    }
}
