//! The clients of the built-in provider, in one table: ownCloud Web, the ownCloud desktop,
//! Android and iOS apps (the ids and secrets oCIS's identity provider registers, which the
//! apps have built in), and those from `auth.oidc_clients`.

use subtle::ConstantTimeEq;

use crate::config::OidcClientConfig;

/// Which redirect URIs a client may use.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Redirects {
    /// ownCloud Web: its callback pages under the server's base URL (or a CORS origin that
    /// serves Web).
    Web,
    /// A native app on this machine: `http://127.0.0.1:<any port>` or `http://localhost:<any
    /// port>`, without path (RFC 8252 §7.3).
    Loopback,
    /// Exactly these.
    Exact(Vec<String>),
}

/// One registered client.
#[derive(Debug, Clone)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// `client_secret`; `None` = public client (PKCE S256 required).
    secret: Option<String>,
    redirects: Redirects,
    post_logout: Vec<String>,
    /// Refresh tokens even without `offline_access` (Web refreshes by fetch; the desktop
    /// client requires one).
    pub always_refresh: bool,
}

/// Paths of Web's callback pages (research/web-and-oidc.md §1).
const WEB_REDIRECT_PATHS: &[&str] = &[
    "/oidc-callback.html",
    "/oidc-silent-redirect.html",
    "/web-oidc-callback",
    "/",
];
/// Where Web returns after sign-out: its root in history and in hash mode.
const WEB_POST_LOGOUT_PATHS: &[&str] = &["/", "/#/"];

/// The ownCloud desktop client's built-in id and secret.
pub const DESKTOP_CLIENT_ID: &str =
    "xdXOt13JKxym1B1QcEncf2XDkLAexMBFwiT9j6EfhhHFJhs2KM9jbjTmf8JBXE69";
const DESKTOP_CLIENT_SECRET: &str =
    "UBntmLjC2yYCeHwsyj73Uwo9TAaecAetRwMw0xYcvNL9yRdLSUi0hUAHfvCHFeFh";
const ANDROID_CLIENT_ID: &str = "e4rAsNUSIUs0lF4nbv9FmCeUkTlV9GdgTLDH1b5uie7syb90SzEVrbN7HIpmWJeD";
const ANDROID_CLIENT_SECRET: &str =
    "dInFYGV33xKzhbRmpqQltYNdfLdJIfJ9L5ISoKhNoT9qZftpdWSP71VrpGR9pmoD";
const IOS_CLIENT_ID: &str = "mxd5OQDk6es5LzOzRvidJNfXLUZS2oN3oUFeXPP8LpPrhx3UroJFduGEYIBOxkY1";
const IOS_CLIENT_SECRET: &str = "KFeFWWEZO9TkisIQzR3fo7hfiMXlOpaqP8CFuTbSHzV1TUuGECglPxpiVKJfOXIx";

/// The built-in clients followed by the configured ones (a configured id replaces a built-in).
pub fn registered(configured: &[OidcClientConfig]) -> Vec<Client> {
    let native = |id: &str, secret: &str, redirects: Redirects| Client {
        id: id.into(),
        secret: Some(secret.into()),
        redirects,
        post_logout: Vec::new(),
        always_refresh: true,
    };
    let mut out = vec![
        Client {
            id: "web".into(),
            secret: None,
            redirects: Redirects::Web,
            post_logout: Vec::new(),
            always_refresh: true,
        },
        native(
            DESKTOP_CLIENT_ID,
            DESKTOP_CLIENT_SECRET,
            Redirects::Loopback,
        ),
        native(
            ANDROID_CLIENT_ID,
            ANDROID_CLIENT_SECRET,
            Redirects::Exact(vec!["oc://android.owncloud.com".into()]),
        ),
        native(
            IOS_CLIENT_ID,
            IOS_CLIENT_SECRET,
            Redirects::Exact(vec![
                "oc://ios.owncloud.com".into(),
                "oc.ios://ios.owncloud.com".into(),
            ]),
        ),
    ];
    for c in configured {
        out.retain(|b| b.id != c.id);
        out.push(Client {
            id: c.id.clone(),
            secret: c.secret.clone(),
            redirects: Redirects::Exact(c.redirect_uris.clone()),
            post_logout: c.post_logout_redirect_uris.clone(),
            always_refresh: false,
        });
    }
    out
}

/// The client with this id.
pub fn find<'a>(clients: &'a [Client], id: &str) -> Option<&'a Client> {
    clients.iter().find(|c| c.id == id)
}

impl Client {
    /// Whether this client has no secret (and so must prove possession with PKCE).
    pub fn is_public(&self) -> bool {
        self.secret.is_none()
    }

    /// Whether `secret` is this client's secret (constant time).
    pub fn secret_matches(&self, secret: &str) -> bool {
        self.secret
            .as_deref()
            .is_some_and(|s| bool::from(s.as_bytes().ct_eq(secret.as_bytes())))
    }

    /// Whether `uri` is a registered redirect URI; `origins` are where Web may be served (the
    /// server's base URL and the CORS origins).
    pub fn redirect_allowed(&self, uri: &str, origins: &[String]) -> bool {
        match &self.redirects {
            Redirects::Web => origins
                .iter()
                .any(|o| WEB_REDIRECT_PATHS.iter().any(|p| uri == format!("{o}{p}"))),
            Redirects::Loopback => is_loopback(uri),
            Redirects::Exact(list) => list.iter().any(|u| u == uri),
        }
    }

    /// Whether `uri` is a registered `post_logout_redirect_uri`.
    pub fn post_logout_allowed(&self, uri: &str, origins: &[String]) -> bool {
        match &self.redirects {
            Redirects::Web => origins.iter().any(|o| {
                WEB_POST_LOGOUT_PATHS
                    .iter()
                    .any(|p| uri == format!("{o}{p}"))
            }),
            _ => self.post_logout.iter().any(|u| u == uri),
        }
    }
}

/// `http://127.0.0.1[:port]`, `http://localhost[:port]` or `http://[::1][:port]`, no path,
/// query or fragment.
fn is_loopback(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    url.scheme() == "http"
        && matches!(
            url.host_str(),
            Some("127.0.0.1") | Some("localhost") | Some("[::1]")
        )
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_table() {
        let clients = registered(&[OidcClientConfig {
            id: "app".into(),
            secret: Some("s".into()),
            redirect_uris: vec!["https://app.example/cb".into()],
            post_logout_redirect_uris: vec!["https://app.example/".into()],
        }]);
        let origins = vec!["http://host:9200".to_string()];
        let rows = [
            ("web", "http://host:9200/oidc-callback.html", true),
            ("web", "http://host:9200/oidc-silent-redirect.html", true),
            ("web", "http://evil/oidc-callback.html", false),
            ("web", "http://host:9200/oidc-callback.html?x=1", false),
            (DESKTOP_CLIENT_ID, "http://127.0.0.1:43125", true),
            (DESKTOP_CLIENT_ID, "http://localhost:1", true),
            (DESKTOP_CLIENT_ID, "http://127.0.0.1:43125/path", false),
            (DESKTOP_CLIENT_ID, "https://127.0.0.1:43125", false),
            (DESKTOP_CLIENT_ID, "http://127.0.0.2:43125", false),
            (ANDROID_CLIENT_ID, "oc://android.owncloud.com", true),
            (IOS_CLIENT_ID, "oc.ios://ios.owncloud.com", true),
            ("app", "https://app.example/cb", true),
            ("app", "https://app.example/cb2", false),
        ];
        for (id, uri, ok) in rows {
            let c = find(&clients, id).unwrap();
            assert_eq!(c.redirect_allowed(uri, &origins), ok, "{id} {uri}");
        }
        let web = find(&clients, "web").unwrap();
        assert!(web.post_logout_allowed("http://host:9200/#/", &origins));
        assert!(!web.post_logout_allowed("http://evil/#/", &origins));
        assert!(find(&clients, "app").unwrap().secret_matches("s"));
        assert!(!find(&clients, "app").unwrap().secret_matches("t"));
        assert!(web.is_public() && !web.secret_matches(""));
    }
}
