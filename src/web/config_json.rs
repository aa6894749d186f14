//! `/config.json`, the file ownCloud Web reads first (research/web-and-oidc.md §3, §4 row 1):
//! where the server is, which theme, how to sign in, which apps to load. Web refuses the file
//! without `server`, `theme` and an `options` object.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, header};
use serde_json::{Value, json};

use crate::state::AppState;

/// Web's OpenID Connect client id (registered by the built-in provider).
pub const CLIENT_ID: &str = "web";

/// Scopes Web asks for. With a refresh token oidc-client-ts renews the access token by a plain
/// `refresh_token` grant; without one Web falls back to a hidden iframe with `prompt=none`,
/// which needs a frameable sign-in page and a session cookie that survives in that iframe
/// (research/web-and-oidc.md §1 "Renewal", §6.13). The built-in provider gives Web a refresh
/// token anyway; external providers (Keycloak, Authelia, …) issue one only for
/// `offline_access`, so Web asks for it.
pub const SCOPE: &str = "openid profile email offline_access";

/// Web apps that work against spacedav: the file list, the image/media viewer, the text editor
/// and the PDF viewer only read and write files over WebDAV; the search box sends the
/// `search-files` REPORT. Left out: `external` (needs the app provider's `/app/list`),
/// `admin-settings` (needs Graph user and group administration), `ocm`, `epub-reader` (would
/// work, but is not tested here).
pub const APPS: &[&str] = &["files", "preview", "search", "text-editor", "pdf-viewer"];

/// The document for a server reached at `base` whose users sign in at `authority`.
pub fn document(base: &str, authority: &str) -> Value {
    let authority = authority.trim_end_matches('/');
    json!({
        "server": base,
        "theme": format!("{base}/themes/owncloud/theme.json"),
        "openIdConnect": {
            "metadata_url": format!("{authority}/.well-known/openid-configuration"),
            "authority": authority,
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": SCOPE,
        },
        "apps": APPS,
        "options": {
            "tokenStorageLocal": true,
            "disableFeedbackLink": true,
        },
    })
}

pub(super) async fn config_json(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = crate::http::base_url(&state, &headers);
    let doc = document(&base, &crate::auth::oidc_authority(&state, &headers));
    let mut res = axum::Json(doc).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(super::assets::NO_CACHE),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_has_what_web_validates() {
        let d = document("http://h:1", "http://h:1/");
        assert_eq!(d["server"], "http://h:1");
        assert_eq!(d["theme"], "http://h:1/themes/owncloud/theme.json");
        assert!(d["options"].is_object());
        assert_eq!(
            d["openIdConnect"]["metadata_url"],
            "http://h:1/.well-known/openid-configuration"
        );
        assert_eq!(d["openIdConnect"]["authority"], "http://h:1");
        assert_eq!(d["openIdConnect"]["client_id"], "web");
        assert_eq!(d["openIdConnect"]["response_type"], "code");
    }
}
