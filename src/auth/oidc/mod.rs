//! OpenID Connect: the built-in provider (on unless `auth.oidc_issuer` names an external one)
//! and the verification of an external issuer's tokens.
//!
//! Provider endpoints (paths below): discovery, authorization (sign-in page), token, JWKS,
//! userinfo, end-session, and WebFinger for the desktop client. What the clients need from
//! them: `research/web-and-oidc.md`. Codes, grants, refresh tokens and browser sessions live in
//! the metadata database (`spaces::grants`); this process keeps only caches and the sign-in
//! throttle.

mod authorize;
mod authorize_error;
mod clients;
mod csrf;
mod discovery;
pub mod external;
pub mod jwt;
pub mod keys;
mod logout;
mod signin_page;
mod token_endpoint;

use axum::Router;
use axum::routing::get;
use http::{HeaderMap, header};

use crate::auth::Auth;
use crate::config::Config;
use crate::spaces::Store;

pub use clients::{Client, DESKTOP_CLIENT_ID};
pub use external::External;
pub use keys::ProviderKeys;

/// Discovery document (OpenID Connect Discovery 1.0 §4).
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// WebFinger (RFC 7033), which desktop client 7 asks for the issuer.
pub const WEBFINGER_PATH: &str = "/.well-known/webfinger";
/// Authorization endpoint: the sign-in page (GET) and its form (POST).
pub const AUTHORIZE_PATH: &str = "/oidc/authorize";
/// Token endpoint.
pub const TOKEN_PATH: &str = "/oidc/token";
/// JWK Set of the signing keys.
pub const JWKS_PATH: &str = "/oidc/jwks";
/// Userinfo endpoint.
pub const USERINFO_PATH: &str = "/oidc/userinfo";
/// End-session (RP-initiated logout) endpoint.
pub const LOGOUT_PATH: &str = "/oidc/logout";

/// Cookie naming the browser's provider session.
const SESSION_COOKIE: &str = "spacedav_oidc_session";
/// Cookie of the sign-in form's double-submit CSRF protection.
const CSRF_COOKIE: &str = "spacedav_oidc_csrf";
/// Lifetime of a provider session (the browser stays signed in at the provider).
const SESSION_TTL: u64 = 7 * 24 * 3600;

/// The built-in provider's process state.
pub struct Provider {
    keys: ProviderKeys,
    clients: Vec<Client>,
    throttle: crate::auth::throttle::SignInThrottle,
    csrf_key: [u8; 32],
}

impl Provider {
    /// The signing keys.
    pub fn keys(&self) -> &ProviderKeys {
        &self.keys
    }
}

/// OpenID Connect state of a process: the built-in provider or the external issuer.
pub enum Oidc {
    /// The built-in provider is on.
    Builtin(Provider),
    /// Tokens come from an external issuer; the provider endpoints answer 404, and discovery
    /// passes the issuer's own document through.
    External(External),
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Oidc::Builtin(p) => f.debug_tuple("Builtin").field(&p.keys).finish(),
            Oidc::External(e) => f.debug_tuple("External").field(e).finish(),
        }
    }
}

impl Oidc {
    /// Set up from config: load or generate the provider's keys, or prepare the external
    /// issuer's verifier. Returns a note when a key was generated.
    pub async fn open(config: &Config, store: &Store) -> std::io::Result<(Oidc, Option<String>)> {
        if let Some(issuer) = &config.oidc.issuer {
            return Ok((Oidc::External(External::new(&config.oidc, issuer)), None));
        }
        let (keys, generated) = ProviderKeys::shared(store, &config.data_root).await?;
        let provider = Provider {
            keys,
            clients: clients::registered(&config.oidc.clients),
            throttle: Default::default(),
            csrf_key: csrf::key(&config.token_secret),
        };
        let note = generated.map(|p| {
            format!(
                "generated the OpenID Connect signing key and saved it to {}",
                p.display()
            )
        });
        Ok((Oidc::Builtin(provider), note))
    }

    /// The built-in provider, unless an external issuer is configured.
    pub fn provider(&self) -> Option<&Provider> {
        match self {
            Oidc::Builtin(p) => Some(p),
            Oidc::External(_) => None,
        }
    }

    /// The external issuer's verifier, when one is configured.
    pub fn external(&self) -> Option<&External> {
        match self {
            Oidc::Builtin(_) => None,
            Oidc::External(e) => Some(e),
        }
    }
}

/// The provider's routes (each answers 404 when an external issuer is configured, except
/// WebFinger, which then names that issuer).
pub fn routes() -> Router<Auth> {
    Router::new()
        .route(DISCOVERY_PATH, get(discovery::discovery))
        .route(WEBFINGER_PATH, get(discovery::webfinger))
        .route(JWKS_PATH, get(discovery::jwks))
        .route(
            AUTHORIZE_PATH,
            get(authorize::get_authorize).post(authorize::post_authorize),
        )
        .route(TOKEN_PATH, axum::routing::post(token_endpoint::post_token))
        .route(USERINFO_PATH, get(logout::userinfo).post(logout::userinfo))
        .route(
            LOGOUT_PATH,
            get(logout::get_end_session).post(logout::post_end_session),
        )
}

/// The built-in provider's issuer for this request: the public base URL.
fn issuer(state: &Auth, headers: &HeaderMap) -> String {
    crate::http::base_url(state, headers)
}

/// Where ownCloud Web may be served: the base URL and the listed CORS origins.
fn web_origins(state: &Auth, headers: &HeaderMap) -> Vec<String> {
    let mut out = vec![issuer(state, headers)];
    out.extend(
        state
            .config()
            .cors_origins
            .iter()
            .filter(|o| o.as_str() != "*")
            .map(|o| o.trim_end_matches('/').to_string()),
    );
    out
}

/// The value of cookie `name` in the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: host-only, HttpOnly, SameSite=Lax (sent in Web's same-site silent
/// renew iframe, not on cross-site posts), Secure on https. `max_age` 0 deletes it.
fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// A fresh 256-bit random secret, base64url.
pub(crate) fn random_secret() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Hex SHA-256: how secrets are stored.
pub(crate) fn secret_hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}
