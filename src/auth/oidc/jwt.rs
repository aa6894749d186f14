//! The JWTs the built-in provider issues: access tokens (RFC 9068 shape, header `typ: at+jwt`)
//! and id tokens (OpenID Connect Core §2), and the verification of access tokens presented as
//! `Authorization: Bearer`.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::{ALGORITHM, ProviderKeys};
use crate::auth::AuthError;
use crate::spaces::{User, UserId};

/// Header `typ` of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// Header `typ` of id tokens.
pub const ID_TOKEN_TYP: &str = "JWT";

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer URL.
    pub iss: String,
    /// The user id.
    pub sub: String,
    /// The client the token was issued to.
    pub aud: String,
    /// Same, as RFC 9068 names it.
    pub client_id: String,
    /// Expiry, unix s.
    pub exp: u64,
    /// Issued at, unix s.
    pub iat: u64,
    /// Unique id.
    pub jti: String,
    /// Granted scope.
    pub scope: String,
    /// The user's login name (what oCIS reads from access tokens).
    pub preferred_username: String,
}

/// Claims of an id token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    /// Issuer URL.
    pub iss: String,
    /// The user id (stable; the same in every token of the user).
    pub sub: String,
    /// The client.
    pub aud: String,
    /// Authorized party: the client.
    pub azp: String,
    /// Expiry, unix s.
    pub exp: u64,
    /// Issued at, unix s.
    pub iat: u64,
    /// When the user signed in, unix s.
    pub auth_time: i64,
    /// `nonce` of the authorization request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Scope `profile`: login name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Scope `profile`: display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Scope `email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Whether space-separated `scope` contains `name`.
pub fn has_scope(scope: &str, name: &str) -> bool {
    scope.split_ascii_whitespace().any(|s| s == name)
}

impl IdClaims {
    /// The id token claims for `user`, filtered by `scope`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        iss: &str,
        user: &User,
        client: &str,
        scope: &str,
        nonce: Option<String>,
        auth_time: i64,
        now: u64,
        ttl: u64,
    ) -> Self {
        let profile = has_scope(scope, "profile");
        IdClaims {
            iss: iss.into(),
            sub: user.id.to_string(),
            aud: client.into(),
            azp: client.into(),
            exp: now + ttl,
            iat: now,
            auth_time,
            nonce,
            preferred_username: profile.then(|| user.name.clone()),
            name: profile.then(|| user.display_name.clone()),
            email: if has_scope(scope, "email") {
                user.email.clone()
            } else {
                None
            },
        }
    }
}

/// Sign an access token for `user` and `client`.
pub fn access_token(
    keys: &ProviderKeys,
    iss: &str,
    user: &User,
    client: &str,
    scope: &str,
    now: u64,
    ttl: u64,
) -> String {
    let claims = AccessClaims {
        iss: iss.into(),
        sub: user.id.to_string(),
        aud: client.into(),
        client_id: client.into(),
        exp: now + ttl,
        iat: now,
        jti: Uuid::new_v4().to_string(),
        scope: scope.into(),
        preferred_username: user.name.clone(),
    };
    keys.sign(ACCESS_TOKEN_TYP, &claims)
}

/// Verify an access token of the built-in provider: a known `kid`, ES256 only, header
/// `typ: at+jwt`, not expired at `now` (unix seconds; no leeway: we issued it, on the store's
/// clock). The user id and expiry on success.
pub fn verify_access_token(
    keys: &ProviderKeys,
    header: &Header,
    token: &str,
    now: u64,
) -> Result<(UserId, u64), AuthError> {
    let invalid = |why: &str| AuthError::InvalidToken(why.into());
    if header.alg != ALGORITHM {
        return Err(invalid("algorithm not accepted"));
    }
    if header.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
        return Err(invalid("not an access token"));
    }
    let kid = header.kid.as_deref().ok_or_else(|| invalid("no kid"))?;
    let key = keys.decoding(kid).ok_or_else(|| invalid("unknown kid"))?;
    let mut v = Validation::new(ALGORITHM);
    // Expiry is checked below against the store's clock, not the library's.
    v.validate_exp = false;
    v.validate_aud = false;
    v.set_required_spec_claims(&["exp", "sub", "iss"]);
    let data =
        jsonwebtoken::decode::<AccessClaims>(token, key, &v).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => AuthError::ExpiredToken,
            _ => AuthError::InvalidToken(e.to_string()),
        })?;
    if data.claims.exp < now {
        return Err(AuthError::ExpiredToken);
    }
    let id = Uuid::parse_str(&data.claims.sub).map_err(|_| invalid("sub is not a user id"))?;
    Ok((UserId(id), data.claims.exp))
}
