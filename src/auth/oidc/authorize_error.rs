//! How the authorization endpoint fails: an HTML page for what must not be redirected (an
//! unknown client or redirect URI, a stale form, throttling), else an OAuth error sent to the
//! client's redirect URI (RFC 6749 §4.1.2.1). One `match` maps each case to its answer.

use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use super::signin_page;
use crate::spaces::StoreError;

/// Why an authorization request failed.
#[derive(Debug)]
pub(super) enum AuthorizeError {
    /// Unknown `client_id`: page, no redirect.
    UnknownClient,
    /// `redirect_uri` missing or not registered: page, no redirect.
    BadRedirectUri,
    /// A protocol error reported to the client (OAuth 2.0 §4.1.2.1 codes).
    ToClient {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: &'static str,
    },
    /// The form's CSRF token or cookie is missing, stale or forged.
    Csrf,
    /// Too many failed sign-ins; seconds to wait.
    Throttled(u64),
    /// The built-in provider is off.
    Disabled,
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for AuthorizeError {
    fn from(e: StoreError) -> Self {
        AuthorizeError::Store(e)
    }
}

impl IntoResponse for AuthorizeError {
    fn into_response(self) -> Response {
        let page = |status: StatusCode, title: &str, msg: &str| {
            (status, Html(signin_page::error(title, msg))).into_response()
        };
        match self {
            AuthorizeError::UnknownClient => page(
                StatusCode::BAD_REQUEST,
                "Unknown application",
                "The application that sent you here is not registered with this server.",
            ),
            AuthorizeError::BadRedirectUri => page(
                StatusCode::BAD_REQUEST,
                "Invalid redirect address",
                "The application asked to return to an address that is not registered for it.",
            ),
            AuthorizeError::ToClient {
                redirect_uri,
                state,
                error,
                description,
            } => redirect(
                StatusCode::FOUND,
                &redirect_uri,
                &[
                    ("error", Some(error)),
                    ("error_description", Some(description)),
                    ("state", state.as_deref()),
                ],
            ),
            AuthorizeError::Csrf => page(
                StatusCode::BAD_REQUEST,
                "Sign-in expired",
                "This sign-in form has expired. Go back to the application and sign in again.",
            ),
            AuthorizeError::Throttled(secs) => {
                let mut res = page(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many attempts",
                    &format!(
                        "Too many failed sign-in attempts. Wait {} minutes, then try again.",
                        secs.div_ceil(60)
                    ),
                );
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                res
            }
            AuthorizeError::Disabled => StatusCode::NOT_FOUND.into_response(),
            AuthorizeError::Store(e) => crate::http::store_failure(&e),
        }
    }
}

/// `uri` with the query parameters appended (the fragment, if any, stays last).
pub(super) fn redirect(status: StatusCode, uri: &str, params: &[(&str, Option<&str>)]) -> Response {
    let target = match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    if let Some(v) = v {
                        q.append_pair(k, v);
                    }
                }
            }
            url.to_string()
        }
        Err(_) => uri.to_string(),
    };
    let mut res = status.into_response();
    if let Ok(v) = HeaderValue::from_str(&target) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
