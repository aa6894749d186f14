//! Small multistatus answers for the recovery endpoints (trash bin, versions, meta): each
//! resource is a fixed set of computed properties, rendered for what the request asked for
//! (named properties in a 200 and a 404 propstat, allprop, propname). Large listings of
//! spaces go through `propfind` instead.

use std::fmt::Write;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt;

use super::error::DavError;
use super::headers::{NS_DAV, NS_OC, NS_SABRE, XML_CONTENT_TYPE};
use super::propfind_req::{PropName, PropRequest, parse_body};
use super::xml_write::{element_with, empty_element, propstat};
use crate::auth::Principal;
use crate::state::AppState;

/// Largest request body read by these endpoints.
const MAX_BODY: usize = 1 << 20;

/// One computed property: namespace, name and its inner XML (already escaped).
pub type Prop = (&'static str, &'static str, String);

/// Authenticate the request; the rejection is the response to send.
pub async fn principal(state: &AppState, req: Request) -> Result<(Principal, Request), Response> {
    use axum::extract::FromRequestParts;
    use axum::response::IntoResponse;
    let (mut parts, body) = req.into_parts();
    match Principal::from_request_parts(&mut parts, state).await {
        Ok(p) => Ok((p, Request::from_parts(parts, body))),
        Err(rejection) => Err(rejection.into_response()),
    }
}

/// Read a request body of at most 1 MiB.
pub async fn read_body(req: Request) -> Result<bytes::Bytes, DavError> {
    Ok(http_body_util::Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| DavError::MalformedXml(e.to_string()))?
        .to_bytes())
}

/// Read and parse a PROPFIND body (empty: allprop; an empty `<d:prop/>` too, as reva does).
pub async fn propfind_request(req: Request) -> Result<PropRequest, DavError> {
    let body = read_body(req).await?;
    Ok(match parse_body(&body)? {
        PropRequest::Prop(list) if list.is_empty() => PropRequest::AllProp(Vec::new()),
        other => other,
    })
}

/// Whether `request` names `ns:name` (allprop and propname do not).
pub fn names(request: &PropRequest, ns: &str, name: &str) -> bool {
    matches!(request, PropRequest::Prop(list) if list.iter().any(|p| p.ns == ns && p.name == name))
}

/// A multistatus document being built.
pub struct Multistatus(String);

impl Default for Multistatus {
    fn default() -> Self {
        let mut s = String::with_capacity(4096);
        let _ = write!(
            s,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<d:multistatus xmlns:d=\"{NS_DAV}\" \
             xmlns:s=\"{NS_SABRE}\" xmlns:oc=\"{NS_OC}\">"
        );
        Multistatus(s)
    }
}

impl Multistatus {
    /// Append the `<d:response>` of a resource at the (escaped) `href` with `props`.
    pub fn response(&mut self, href: &str, request: &PropRequest, props: &[Prop]) {
        let (mut found, mut missing) = (String::new(), String::new());
        let push = |buf: &mut String, (ns, name, value): &Prop| {
            element_with(buf, ns, name, |b| {
                b.push_str(value);
                true
            });
        };
        match request {
            PropRequest::AllProp(_) => props.iter().for_each(|p| push(&mut found, p)),
            PropRequest::PropName => {
                for (ns, name, _) in props {
                    empty_element(&mut found, ns, name);
                }
            }
            PropRequest::Prop(list) => {
                for PropName { ns, name } in list {
                    match props.iter().find(|(n, m, _)| n == ns && m == name) {
                        Some(p) => push(&mut found, p),
                        None => empty_element(&mut missing, ns, name),
                    }
                }
            }
        }
        self.0.push_str("<d:response><d:href>");
        self.0.push_str(href);
        self.0.push_str("</d:href>");
        // The 200 propstat always comes first, as reva writes it: owncloud-sdk and Web read
        // only the first one.
        propstat(&mut self.0, &found, "200 OK");
        if !missing.is_empty() {
            propstat(&mut self.0, &missing, "404 Not Found");
        }
        self.0.push_str("</d:response>");
    }

    /// Append complete `<d:response>` elements rendered elsewhere.
    pub fn raw(&mut self, responses: &str) {
        self.0.push_str(responses);
    }

    /// The 207 response.
    pub fn finish(mut self) -> Response {
        self.0.push_str("</d:multistatus>");
        let mut res = Response::new(Body::from(self.0));
        *res.status_mut() = StatusCode::MULTI_STATUS;
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(XML_CONTENT_TYPE),
        );
        res
    }
}

/// `text` escaped for XML content.
pub fn text(s: &str) -> String {
    quick_xml::escape::partial_escape(s).into_owned()
}
