//! The files of an unpacked ownCloud Web build: the HTML entry points with `<base href="/">`
//! injected, everything else through `tower_http`'s `ServeDir` (ranges, `Last-Modified`,
//! content types), and the cache policy: hashed bundles are immutable for a year, the entry
//! points and `config.json` are revalidated on every load so that an upgrade shows at once.

use std::path::Path;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The HTML files that get `<base href="/">` (oCIS's web service injects it into the same three).
const ENTRY_POINTS: &[&str] = &[
    "index.html",
    "oidc-callback.html",
    "oidc-silent-redirect.html",
];

/// Folders of static files: a missing file there is a 404, never `index.html` (a browser asking
/// for a script must not get HTML).
const ASSET_DIRS: &[&str] = &[
    "/js/", "/assets/", "/fonts/", "/icons/", "/img/", "/themes/",
];

/// Folders whose file names carry a content hash (or, for `js/require.js`, are loaded with a
/// cache-busting query), so a cached copy never goes stale.
const HASHED_DIRS: &[&str] = &["/js/", "/assets/"];

/// `Cache-Control` of hashed bundles.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else Web loads: revalidate each time.
pub const NO_CACHE: &str = "no-cache";

/// Why the configured Web build cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum AssetsError {
    /// `web.assets_path` has no readable `index.html`.
    #[error(
        "web.assets_path {0}: no readable index.html ({1}); unpack an ownCloud Web build there"
    )]
    NoIndex(String, std::io::Error),
}

/// Check at start-up that `dir` holds a Web build, so a wrong path fails loudly, not on the
/// first browser visit.
pub fn check_assets(dir: &Path) -> Result<(), AssetsError> {
    std::fs::metadata(dir.join("index.html"))
        .and_then(|m| {
            if m.is_file() {
                Ok(())
            } else {
                Err(std::io::Error::other("not a file"))
            }
        })
        .map_err(|e| AssetsError::NoIndex(dir.display().to_string(), e))
}

/// `html` with `<base href="/">` as the first child of `<head>` (after an existing one, nothing
/// is added). Without a `<head>` tag the base goes first.
pub fn inject_base(html: &str) -> String {
    const BASE: &str = "<base href=\"/\">";
    if html.contains("<base ") || html.contains("<base>") {
        return html.to_string();
    }
    let lower = html.to_ascii_lowercase();
    match lower.find("<head") {
        Some(start) => match lower[start..].find('>') {
            Some(end) => {
                let at = start + end + 1;
                format!("{}{BASE}{}", &html[..at], &html[at..])
            }
            None => format!("{BASE}{html}"),
        },
        None => format!("{BASE}{html}"),
    }
}

/// Whether a path nothing on disk answers may be one of Web's routes (`/files/...`,
/// `/s/{token}`, `/f/{id}`, `/account`), which `index.html` resolves. Not: anything under an
/// asset folder, and a top-level file name such as `/favicon.ico` (a browser asking for an icon
/// must not get HTML).
pub fn is_web_route(path: &str) -> bool {
    if ASSET_DIRS.iter().any(|d| path.starts_with(d)) {
        return false;
    }
    let rest = path.trim_start_matches('/');
    rest.contains('/') || !rest.contains('.')
}

/// The `Cache-Control` value for a Web path.
pub fn cache_control(path: &str) -> &'static str {
    if HASHED_DIRS.iter().any(|d| path.starts_with(d)) {
        IMMUTABLE
    } else {
        NO_CACHE
    }
}

/// An entry point with the base injected, or `None` when the file cannot be read.
async fn entry_point(dir: &Path, name: &str) -> Option<Response> {
    let html = tokio::fs::read_to_string(dir.join(name)).await.ok()?;
    let mut res = inject_base(&html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    Some(res)
}

async fn index(dir: &Path) -> Response {
    match entry_point(dir, "index.html").await {
        Some(res) => res,
        None => crate::http::internal_error(format!(
            "web.assets_path {}: index.html is no longer readable",
            dir.display()
        )),
    }
}

/// Answer a `GET`/`HEAD` for a non-API path from the Web build in `dir`.
pub(super) async fn serve(dir: &Path, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let name = path.trim_start_matches('/');
    if name.is_empty() {
        return index(dir).await;
    }
    if ENTRY_POINTS.contains(&name) {
        return index_or(dir, name).await;
    }
    let res = match ServeDir::new(dir)
        .append_index_html_on_directories(false)
        .oneshot(req)
        .await
    {
        Ok(res) => res,
        Err(never) => match never {},
    };
    if res.status() == StatusCode::NOT_FOUND {
        if !is_web_route(&path) {
            return StatusCode::NOT_FOUND.into_response();
        }
        // A Web route (`/files/...`, `/s/{token}`, `/f/{id}`): the app resolves it.
        return index(dir).await;
    }
    let mut res = res.into_response();
    if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control(&path)),
        );
    }
    res
}

async fn index_or(dir: &Path, name: &str) -> Response {
    match entry_point(dir, name).await {
        Some(res) => res,
        None => index(dir).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inject_base_table() {
        let rows = [
            (
                "<!DOCTYPE html><html><head><title>x</title></head></html>",
                "<!DOCTYPE html><html><head><base href=\"/\"><title>x</title></head></html>",
            ),
            (
                "<html><HEAD lang=\"en\"><meta></HEAD></html>",
                "<html><HEAD lang=\"en\"><base href=\"/\"><meta></HEAD></html>",
            ),
            ("<p>no head</p>", "<base href=\"/\"><p>no head</p>"),
            (
                "<head><base href=\"/web/\"></head>",
                "<head><base href=\"/web/\"></head>",
            ),
        ];
        for (html, want) in rows {
            assert_eq!(inject_base(html), want, "{html}");
        }
    }

    #[test]
    fn web_route_table() {
        let rows = [
            ("/files/spaces/personal/admin/a.txt", true),
            ("/s/AbCd", true),
            ("/f/x$y!z", true),
            ("/account", true),
            ("/favicon.ico", false),
            ("/apple-touch-icon.png", false),
            ("/js/missing.mjs", false),
            ("/themes/x/missing.json", false),
        ];
        for (path, route) in rows {
            assert_eq!(is_web_route(path), route, "{path}");
        }
    }

    #[test]
    fn cache_control_table() {
        let rows = [
            ("/js/web-app-files-18DnYDtw.mjs", IMMUTABLE),
            ("/js/chunks/x-abc.mjs", IMMUTABLE),
            ("/assets/style-vfgXxa-s.css", IMMUTABLE),
            ("/index.html", NO_CACHE),
            ("/themes/owncloud/theme.json", NO_CACHE),
            ("/manifest.json", NO_CACHE),
            ("/fonts/x.woff2", NO_CACHE),
        ];
        for (path, want) in rows {
            assert_eq!(cache_control(path), want, "{path}");
        }
    }
}
