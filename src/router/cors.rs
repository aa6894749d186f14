//! CORS for browser clients on other origins (ownCloud Web, Uppy), SPEC §8, driven by
//! `config.cors_origins`. A preflight from an allowed origin is answered here with 204 (before
//! any authentication: browsers send preflights without credentials); every other response to
//! an allowed origin carries the allow-origin and expose-headers fields.
//! <https://fetch.spec.whatwg.org/#http-cors-protocol>

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::http::headers::{CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_EXPOSE_HEADERS};
use crate::state::AppState;

/// How a request's `Origin` relates to the configured origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginMatch {
    /// Listed explicitly: echo it and allow credentials.
    Listed(HeaderValue),
    /// Allowed only through `*`: answer `*`, no credentials (the Fetch standard forbids both).
    Wildcard,
    /// Not allowed (or no `Origin`): no CORS fields.
    Denied,
}

/// Decide how `origin` is treated under `allowed` (pure; see the table test).
pub fn match_origin(allowed: &[String], origin: Option<&HeaderValue>) -> OriginMatch {
    let Some(origin) = origin else {
        return OriginMatch::Denied;
    };
    let Ok(text) = origin.to_str() else {
        return OriginMatch::Denied;
    };
    let text = text.trim_end_matches('/');
    if allowed
        .iter()
        .any(|a| a != "*" && a.trim_end_matches('/').eq_ignore_ascii_case(text))
    {
        OriginMatch::Listed(origin.clone())
    } else if allowed.iter().any(|a| a == "*") {
        OriginMatch::Wildcard
    } else {
        OriginMatch::Denied
    }
}

fn allow_origin(headers: &mut HeaderMap, m: &OriginMatch) {
    match m {
        OriginMatch::Listed(origin) => {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        OriginMatch::Wildcard => {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        OriginMatch::Denied => {}
    }
    headers.append(VARY, HeaderValue::from_static("Origin"));
}

/// Middleware: see the module doc.
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let m = match_origin(&state.config().cors_origins, req.headers().get(ORIGIN));
    if m == OriginMatch::Denied {
        return next.run(req).await;
    }
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = if preflight {
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        h.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(CORS_ALLOW_METHODS),
        );
        h.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(CORS_ALLOW_HEADERS),
        );
        h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        res
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    allow_origin(h, &m);
    h.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(CORS_EXPOSE_HEADERS),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_matching_table() {
        let hv = |s: &'static str| HeaderValue::from_static(s);
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let web = "https://web.example";
        let rows: Vec<(Vec<String>, Option<HeaderValue>, OriginMatch)> = vec![
            (list(&[]), Some(hv(web)), OriginMatch::Denied),
            (list(&[web]), None, OriginMatch::Denied),
            (list(&[web]), Some(hv(web)), OriginMatch::Listed(hv(web))),
            (
                list(&["https://web.example/"]),
                Some(hv(web)),
                OriginMatch::Listed(hv(web)),
            ),
            (
                list(&[web]),
                Some(hv("https://evil.example")),
                OriginMatch::Denied,
            ),
            (
                list(&["*"]),
                Some(hv("https://any.example")),
                OriginMatch::Wildcard,
            ),
            (
                list(&["*", web]),
                Some(hv(web)),
                OriginMatch::Listed(hv(web)),
            ),
            (
                list(&[web]),
                Some(hv("https://web.example.evil")),
                OriginMatch::Denied,
            ),
        ];
        for (allowed, origin, want) in rows {
            assert_eq!(
                match_origin(&allowed, origin.as_ref()),
                want,
                "{allowed:?} {origin:?}"
            );
        }
    }
}
