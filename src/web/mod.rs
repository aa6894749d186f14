//! ownCloud Web served by spacedav (issue 10): the unpacked Web build named by
//! `web.assets_path` at `/` in history mode, its generated `/config.json`, and without a build
//! a short landing page at `/`.
//!
//! History mode as oCIS's web service does it (research/web-and-oidc.md §3, §6.1): the three
//! HTML entry points get `<base href="/">`, and every unknown path that is neither an API path
//! nor under an asset folder answers `index.html`, so that `/s/{token}`, `/f/{id}` and
//! `/files/...` open in Web. API paths never fall back: a typo there must stay a 404.

mod assets;
mod config_json;
mod landing;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{Method, StatusCode};
use tower_http::compression::CompressionLayer;

use crate::state::AppState;

pub use assets::{AssetsError, cache_control, check_assets, inject_base};

/// Path prefixes owned by APIs; they never answer Web's `index.html`.
pub const API_PREFIXES: &[&str] = &[
    "/remote.php",
    "/dav",
    "/webdav",
    "/ocs",
    "/graph",
    "/data",
    "/api",
    "/auth-app",
    "/.well-known",
    "/status.php",
    "/status",
    "/konnect",
    "/signin",
    "/oauth",
    "/oidc",
    "/app",
];

/// Whether `path` belongs to an API (a whole-segment prefix match: `/status` but not `/statusx`).
pub fn is_api_path(path: &str) -> bool {
    API_PREFIXES.iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The routes of this module. The fallback (every path no other module claims) lives here,
/// so the whole router has exactly one. Responses are compressed (gzip or brotli, as the
/// browser asks) for text-like content types.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/config.json", get(config_json::config_json))
        .fallback(fallback)
        .layer(CompressionLayer::new())
}

/// Web's page for `req` (the app resolves its own routes such as `/f/{id}`), or 404.
pub async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if is_api_path(&path) || !matches!(*req.method(), Method::GET | Method::HEAD) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match &state.config().web_assets_path {
        Some(dir) => assets::serve(dir, req).await,
        None if path == "/" => landing::landing(&state, req.headers()).await,
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_table() {
        let rows = [
            ("/remote.php/dav/spaces/x", true),
            ("/dav/spaces/x", true),
            ("/graph/v1.0/me", true),
            ("/status.php", true),
            ("/status", true),
            ("/.well-known/openid-configuration", true),
            ("/api/v0/settings/values-list", true),
            ("/data/abc", true),
            ("/", false),
            ("/files/spaces/personal/admin", false),
            ("/s/token", false),
            ("/f/some-id", false),
            ("/statusx", false),
            ("/database", false),
            ("/index.html", false),
        ];
        for (path, api) in rows {
            assert_eq!(is_api_path(path), api, "{path}");
        }
    }
}
