//! Authentication: who is asking. Passwords (argon2), Basic and Bearer credentials (SPEC §2),
//! the [`Principal`] extractor, and the transfer tokens of `/data/{token}`.
//!
//! `Authorization: Basic` is checked against the users table (the password, or an app token);
//! `Authorization: Bearer` accepts user tokens this server issued ([`issue_token`]), access
//! tokens of the built-in OpenID Connect provider, or those of the configured external issuer
//! ([`oidc`]). Every failure is an [`AuthError`], mapped
//! to a status in one place ([`AuthError::status`]).
//!
//! Authentication is a component of its own, [`Auth`]: handlers reach it through
//! `AsRef<Auth>` (the application state lends one), never through the whole state, and this
//! module imports only the storage core, the configuration and the shared HTTP helpers.

pub mod app_tokens;
mod basic;
mod cache;
mod component;
pub mod oidc;
pub mod password;
pub mod throttle;
mod token;
pub mod transfer;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::spaces::{StoreError, User};

pub use basic::{BasicCredentials, CredentialCache};
pub use cache::TokenCache;
pub use component::Auth;
pub use password::{hash_password, verify_password};
pub use throttle::Throttle;
pub use token::{Claims, TOKEN_AUDIENCE, TOKEN_TYPE, issue_token};

/// The `WWW-Authenticate` challenges sent with every 401, as two header values (SPEC §2):
/// Bearer first (desktop client 7 looks for `"bearer "`), then Basic.
pub const CHALLENGES: [&str; 2] = ["Bearer realm=\"spacedav\"", "Basic realm=\"spacedav\""];

/// Append both [`CHALLENGES`] to a 401's headers.
pub fn add_challenges(headers: &mut HeaderMap) {
    for c in CHALLENGES {
        headers.append(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
    }
}

/// Middleware: a 401 to a page script (`X-Requested-With: XMLHttpRequest`, as ownCloud Web sends
/// on its API calls) offers only the Bearer challenge. A Basic challenge there makes the
/// browser open its own password dialog over Web when a token has expired; oCIS leaves it out
/// for such requests too (research/web-and-oidc.md §6.10). Every other client gets both.
pub async fn script_challenges(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let from_script = req
        .headers()
        .get(crate::http::headers::X_REQUESTED_WITH)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"XMLHttpRequest"));
    let mut res = next.run(req).await;
    if from_script && res.status() == StatusCode::UNAUTHORIZED {
        let headers = res.headers_mut();
        let kept: Vec<HeaderValue> = headers
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter(|v| !v.as_bytes().starts_with(b"Basic"))
            .cloned()
            .collect();
        headers.remove(header::WWW_AUTHENTICATE);
        for v in kept {
            headers.append(header::WWW_AUTHENTICATE, v);
        }
    }
    res
}

/// The OpenID Connect issuer that clients (ownCloud Web's `config.json`, the desktop client)
/// sign in with: the configured external issuer (`auth.oidc_issuer`), else the built-in
/// provider, whose issuer is the public base URL of this server.
pub fn oidc_authority(auth: &impl AsRef<Auth>, headers: &HeaderMap) -> String {
    let state = auth.as_ref();
    match &state.config().oidc.issuer {
        Some(issuer) => issuer_string(issuer),
        None => crate::http::base_url(state, headers),
    }
}

/// An issuer URL as it appears in `iss`: without the slash `Url` adds to a bare origin.
pub(crate) fn issuer_string(url: &url::Url) -> String {
    let s = url.as_str();
    if url.path() == "/" {
        s.trim_end_matches('/').to_string()
    } else {
        s.to_string()
    }
}

/// An authenticated user. As an axum extractor it rejects with [`AuthError`] (401 plus the
/// Basic challenge when credentials are missing or wrong).
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user, as stored when the request was authenticated.
    pub user: User,
}

/// Why a request could not be authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The request carries no credentials but the resource needs them.
    #[error("no credentials")]
    Missing,
    /// The `Authorization` header is not a well-formed Basic or Bearer credential.
    #[error("malformed Authorization header")]
    Malformed,
    /// An authorization scheme other than Basic or Bearer.
    #[error("unsupported authorization scheme")]
    UnsupportedScheme,
    /// Basic credentials name no user.
    #[error("unknown user")]
    UnknownUser,
    /// Basic credentials with the wrong password.
    #[error("wrong password")]
    WrongPassword,
    /// A Bearer token that is malformed, tampered with, signed with another key, meant for
    /// another purpose, or names a user that no longer exists.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// A Bearer token past its `exp`.
    #[error("token expired")]
    ExpiredToken,
    /// The user store failed while checking credentials.
    #[error("user store: {0}")]
    Store(#[from] StoreError),
}

impl AuthError {
    /// The HTTP status of this failure (the one table for authentication).
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Missing
            | AuthError::Malformed
            | AuthError::UnsupportedScheme
            | AuthError::UnknownUser
            | AuthError::WrongPassword
            | AuthError::InvalidToken(_)
            | AuthError::ExpiredToken => StatusCode::UNAUTHORIZED,
            AuthError::Store(e) => crate::http::store_status(e),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            return crate::http::with_cause(status, self);
        }
        let mut res = status.into_response();
        add_challenges(res.headers_mut());
        crate::http::note_cause(&mut res, &self);
        res
    }
}

/// Authenticate the request's `Authorization` header. `Ok(None)`: no credentials were sent
/// (the caller decides whether anonymous access is fine, e.g. for `OPTIONS`); `Err`: the
/// credentials are wrong or malformed.
pub async fn authenticate(
    auth: &impl AsRef<Auth>,
    headers: &HeaderMap,
) -> Result<Option<Principal>, AuthError> {
    let state = auth.as_ref();
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::Malformed)?;
    let (scheme, rest) = value.trim().split_once(' ').ok_or(AuthError::Malformed)?;
    let user = if scheme.eq_ignore_ascii_case("basic") {
        let creds = BasicCredentials::parse(rest.trim())?;
        basic::verify(state, &creds).await?
    } else if scheme.eq_ignore_ascii_case("bearer") {
        token::verify(state, rest.trim()).await?
    } else {
        return Err(AuthError::UnsupportedScheme);
    };
    Ok(Some(Principal { user }))
}

impl<S: AsRef<Auth> + Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        authenticate(state, &parts.headers)
            .await?
            .ok_or(AuthError::Missing)
    }
}
