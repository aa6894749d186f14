//! The page at `/` when no Web build is configured: which server this is, where the signed-in
//! user's space is over WebDAV, and how to turn on ownCloud Web; better than an empty 404 for
//! someone who types the server's address into a browser.

use axum::response::{Html, IntoResponse, Response};
use http::HeaderMap;

use crate::ocs::{PRODUCT, PRODUCT_VERSION};
use crate::state::AppState;

/// Escape text for HTML element content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page; `space` is the signed-in user's name and WebDAV URL, when credentials came along.
pub fn page(base: &str, space: Option<(&str, &str)>) -> String {
    let who = match space {
        Some((user, url)) => format!(
            "<p>Signed in as <b>{}</b>. Your personal space over WebDAV: \
             <a href=\"{url}\"><code>{url}</code></a></p>",
            escape(user),
            url = escape(url)
        ),
        None => format!(
            "<p>Connect a WebDAV client or the ownCloud desktop client to <code>{}</code>; \
             send credentials with this request to see your space's WebDAV URL.</p>",
            escape(base)
        ),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{PRODUCT}</title></head><body>\n<h1>{PRODUCT} {PRODUCT_VERSION}</h1>\n{who}\n\
         <p>The ownCloud Web user interface is not enabled on this server. To enable it, unpack \
         an ownCloud Web build into a folder and start the server with \
         <code>--web-assets FOLDER</code> (or set <code>web.assets_path</code> in the config \
         file, or <code>SPACEDAV_WEB_ASSETS_PATH</code>).</p>\n</body></html>\n"
    )
}

pub(super) async fn landing(state: &AppState, headers: &HeaderMap) -> Response {
    let base = crate::http::base_url(state, headers);
    // Wrong credentials only cost the personal line: this page is public.
    let user = crate::auth::authenticate(state, headers)
        .await
        .ok()
        .flatten()
        .map(|p| p.user);
    let html = match &user {
        Some(u) => {
            let url = format!("{base}/dav/spaces/{}", state.store().space_id(u.id.0));
            page(&base, Some((&u.name, &url)))
        }
        None => page(&base, None),
    };
    Html(html).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_escapes_and_names_the_space() {
        let p = page("http://h", Some(("<bob>", "http://h/dav/spaces/a$b")));
        assert!(p.contains("&lt;bob&gt;"));
        assert!(p.contains("http://h/dav/spaces/a$b"));
        assert!(p.contains("--web-assets"));
        let anon = page("http://h", None);
        assert!(anon.contains("not enabled"));
    }
}
