//! The OCS envelope (`{"ocs":{"meta":{…},"data":…}}`), its version rules (v1 answers
//! statuscode 100 and HTTP 200, v2 mirrors the status), the two wire formats, and `OcsError`.
//! <https://doc.owncloud.com/server/next/developer_manual/core/apis/ocs-capabilities.html>,
//! research/ocis-spec.md §5.1.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use super::value::{Value, map, s};
use crate::auth::{AuthError, add_challenges};
use crate::http::headers::OCS_API_VERSION;

/// OCS API version, from the `/ocs/v1.php` or `/ocs/v2.php` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcsVersion {
    /// `v1.php`: success statuscode 100, HTTP 200 for OCS-level errors.
    V1,
    /// `v2.php`: success statuscode 200, HTTP status mirrors the OCS code.
    V2,
}

impl OcsVersion {
    /// Parse the path segment (`v1.php`, `v2.php`).
    pub fn parse(segment: &str) -> Option<Self> {
        match segment {
            "v1.php" => Some(OcsVersion::V1),
            "v2.php" => Some(OcsVersion::V2),
            _ => None,
        }
    }

    fn ok_code(self) -> i64 {
        match self {
            OcsVersion::V1 => 100,
            OcsVersion::V2 => 200,
        }
    }

    fn header(self) -> HeaderValue {
        match self {
            OcsVersion::V1 => HeaderValue::from_static("1"),
            OcsVersion::V2 => HeaderValue::from_static("2"),
        }
    }
}

/// Response format: `?format=json` gives JSON, anything else XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// One-line `text/xml`.
    Xml,
}

impl Format {
    /// From the request's query string (pure; `format=json` exactly selects JSON).
    pub fn from_query(query: Option<&str>) -> Self {
        let json = query.is_some_and(|q| {
            url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "format" && v == "json")
        });
        if json { Format::Json } else { Format::Xml }
    }
}

/// Render a full envelope.
fn render(
    version: OcsVersion,
    format: Format,
    http: StatusCode,
    meta: Value,
    data: Option<Value>,
) -> Response {
    let (body, content_type) = match format {
        Format::Json => {
            let mut ocs = vec![("meta", meta)];
            ocs.extend(data.map(|d| ("data", d)));
            let doc = map([("ocs", Value::Map(ocs))]);
            (
                serde_json::to_string(&doc).expect("OCS values serialise"),
                "application/json; charset=utf-8",
            )
        }
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ocs><meta>");
            meta.write_xml(&mut out);
            out.push_str("</meta>");
            if let Some(d) = data {
                out.push_str("<data>");
                d.write_xml(&mut out);
                out.push_str("</data>");
            }
            out.push_str("</ocs>");
            (out, "text/xml; charset=utf-8")
        }
    };
    let mut res = (http, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(OCS_API_VERSION, version.header());
    res
}

/// A successful OCS answer carrying `data`.
pub fn ok(version: OcsVersion, format: Format, data: Value) -> Response {
    let meta = map([
        ("status", s("ok")),
        ("statuscode", Value::Int(version.ok_code())),
        ("message", s("OK")),
    ]);
    render(version, format, StatusCode::OK, meta, Some(data))
}

/// Why an OCS request failed.
#[derive(Debug, thiserror::Error)]
pub enum OcsError {
    /// Credentials missing or wrong.
    #[error(transparent)]
    Unauthorized(#[from] AuthError),
    /// No such OCS endpoint.
    #[error("not found")]
    NotFound,
    /// Bad parameters (OCS 400).
    #[error("{0}")]
    Invalid(String),
    /// Not allowed (OCS 403).
    #[error("{0}")]
    Forbidden(String),
    /// No such share, file or recipient (OCS 404 with a reason).
    #[error("{0}")]
    Missing(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::spaces::StoreError),
}

impl OcsError {
    /// The response in `version` and `format` (the one OCS error table).
    pub fn respond(self, version: OcsVersion, format: Format) -> Response {
        // (HTTP status, OCS statuscode, message); SPEC §2 asks for a real 401 on both versions.
        let level = |status: StatusCode| match version {
            OcsVersion::V1 => StatusCode::OK,
            OcsVersion::V2 => status,
        };
        let (http, code, message) = match &self {
            OcsError::Unauthorized(e) if e.status().is_server_error() => {
                return crate::http::with_cause(e.status(), &self);
            }
            OcsError::Store(e) => return crate::http::store_failure(e),
            OcsError::Invalid(m) => (level(StatusCode::BAD_REQUEST), 400, m.as_str()),
            OcsError::Forbidden(m) => (level(StatusCode::FORBIDDEN), 403, m.as_str()),
            OcsError::Missing(m) => (level(StatusCode::NOT_FOUND), 404, m.as_str()),
            OcsError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, 997, "Unauthorised"),
            OcsError::NotFound => (
                match version {
                    OcsVersion::V1 => StatusCode::OK,
                    OcsVersion::V2 => StatusCode::NOT_FOUND,
                },
                998,
                "Not Found",
            ),
        };
        let meta = map([
            ("status", s("error")),
            ("statuscode", Value::Int(code)),
            ("message", s(message)),
        ]);
        let mut res = render(version, format, http, meta, None);
        if http == StatusCode::UNAUTHORIZED {
            add_challenges(res.headers_mut());
        }
        crate::http::note_cause(&mut res, &self);
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_query_table() {
        let rows = [
            (None, Format::Xml),
            (Some(""), Format::Xml),
            (Some("format=json"), Format::Json),
            (Some("a=b&format=json"), Format::Json),
            (Some("format=xml"), Format::Xml),
            (Some("format=JSON"), Format::Xml),
            (Some("formatjson"), Format::Xml),
        ];
        for (q, want) in rows {
            assert_eq!(Format::from_query(q), want, "{q:?}");
        }
    }

    /// A full disk behind an OCS call is 507, as on WebDAV and tus, on both versions.
    #[test]
    fn a_full_store_is_507_on_both_versions() {
        for version in [OcsVersion::V1, OcsVersion::V2] {
            let e = OcsError::Store(crate::spaces::StoreError::StorageFull("ENOSPC".into()));
            let res = e.respond(version, Format::Json);
            assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
        }
    }

    #[test]
    fn version_segments() {
        assert_eq!(OcsVersion::parse("v1.php"), Some(OcsVersion::V1));
        assert_eq!(OcsVersion::parse("v2.php"), Some(OcsVersion::V2));
        assert_eq!(OcsVersion::parse("v3.php"), None);
    }
}
