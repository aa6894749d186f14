//! [`OcsRequest`]: an authenticated OCS API request, taken apart once for every handler: the
//! version (from the `v1.php`/`v2.php` segment) and format (`?format=`) of its envelope, the
//! requester, the public base URL, and the parameters (query string, then a form body; a later
//! value of a name wins). A request that fails any of that is answered here, in the envelope
//! the client asked for, so handlers start from a principal and end in [`OcsRequest::answer`].

use std::collections::HashMap;

use axum::RequestExt;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::value::Value;
use super::{Format, OcsError, OcsVersion, negotiate, ok};
use crate::auth::{AuthError, Principal, authenticate};
use crate::state::AppState;

/// See the module doc.
pub struct OcsRequest {
    /// The envelope's version.
    pub version: OcsVersion,
    /// The envelope's format.
    pub format: Format,
    /// Who asks.
    pub principal: Principal,
    /// The public base URL (SPEC §1), for links in answers.
    pub base: String,
    /// Query and form parameters, in order.
    pub params: Vec<(String, String)>,
}

impl OcsRequest {
    /// The last value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parameter `name` is `true` or `1`.
    pub fn flag(&self, name: &str) -> bool {
        self.param(name).is_some_and(|v| v == "true" || v == "1")
    }

    /// The handler's result in the envelope.
    pub fn answer(&self, result: Result<Value, OcsError>) -> Response {
        match result {
            Ok(v) => ok(self.version, self.format, v),
            Err(e) => e.respond(self.version, self.format),
        }
    }
}

impl FromRequest<AppState> for OcsRequest {
    type Rejection = Response;

    async fn from_request(mut req: Request, state: &AppState) -> Result<Self, Response> {
        let Path(segments) = req
            .extract_parts::<Path<HashMap<String, String>>>()
            .await
            .map_err(IntoResponse::into_response)?;
        let api = segments.get("api").map_or("", String::as_str);
        let Some((version, format)) = negotiate(api, req.uri()) else {
            return Err(StatusCode::NOT_FOUND.into_response());
        };
        let principal = match authenticate(state, req.headers()).await {
            Ok(Some(p)) => p,
            Ok(None) => return Err(OcsError::from(AuthError::Missing).respond(version, format)),
            Err(e) => return Err(OcsError::from(e).respond(version, format)),
        };
        let base = crate::http::base_url(state, req.headers());
        let query = req.uri().query().unwrap_or("").to_string();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        params.extend(url::form_urlencoded::parse(&body).into_owned());
        Ok(OcsRequest {
            version,
            format,
            principal,
            base,
            params,
        })
    }
}
