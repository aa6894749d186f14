//! Bearer user tokens issued by this server (`spacedav token issue`): HS256 JWTs signed with
//! `config.token_secret`, never with the transfer secret. The algorithm is pinned and the
//! `aud`/`typ` claims say "user token", so a transfer token (other key, other audience) can
//! never pass as one.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AuthError;
use super::oidc::Oidc;
use super::oidc::jwt::verify_access_token;
use crate::auth::Auth;
use crate::clock::Clock;
use crate::spaces::{StoreError, User, UserId};

/// `aud` of user tokens.
pub const TOKEN_AUDIENCE: &str = "spacedav-user";

/// `typ` claim of user tokens.
pub const TOKEN_TYPE: &str = "user";

/// The claims of a user token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// Expiry, unix seconds.
    pub exp: u64,
    /// Issued at, unix seconds.
    pub iat: u64,
    /// Always [`TOKEN_AUDIENCE`].
    pub aud: String,
    /// Always [`TOKEN_TYPE`].
    pub typ: String,
}

/// Issue a user token for `user`, valid for `ttl` from now on `clock` (the store's), signed
/// with `secret` (the configured `token_secret`).
pub fn issue_token(
    secret: &[u8],
    user: &User,
    ttl: Duration,
    clock: &Clock,
) -> Result<String, jsonwebtoken::errors::Error> {
    let iat = clock.unix_secs();
    let claims = Claims {
        sub: user.id.to_string(),
        exp: iat.saturating_add(ttl.as_secs()),
        iat,
        aud: TOKEN_AUDIENCE.into(),
        typ: TOKEN_TYPE.into(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
}

/// Check signature, algorithm, audience, type and expiry at `now` (unix seconds, the store's
/// clock); the claims on success.
fn decode(secret: &[u8], token: &str, now: u64) -> Result<Claims, AuthError> {
    let mut v = Validation::new(Algorithm::HS256);
    v.algorithms = vec![Algorithm::HS256];
    // Expiry is checked below against the store's clock, not the library's.
    v.validate_exp = false;
    v.set_audience(&[TOKEN_AUDIENCE]);
    v.set_required_spec_claims(&["exp", "sub", "aud"]);
    let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &v)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => AuthError::ExpiredToken,
            _ => AuthError::InvalidToken(e.to_string()),
        })?;
    if data.claims.exp < now {
        return Err(AuthError::ExpiredToken);
    }
    if data.claims.typ != TOKEN_TYPE {
        return Err(AuthError::InvalidToken(format!("typ {}", data.claims.typ)));
    }
    Ok(data.claims)
}

/// Verify a Bearer token; the (still existing) user on success.
///
/// HS256 tokens are ours from `spacedav token issue`; anything else is an OpenID Connect access
/// token, of the built-in provider or of the external issuer. A verified token is remembered
/// until it expires, so a request with a known token costs a hash and a map lookup.
pub(super) async fn verify(state: &Auth, token: &str) -> Result<User, AuthError> {
    let now = state.store().clock().unix_secs();
    let cache = state.tokens();
    let key = cache.key(token);
    let id = match cache.get(&key, now) {
        Some(id) => id,
        None => {
            let header = jsonwebtoken::decode_header(token)
                .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
            let (id, exp) = match (header.alg, state.oidc()) {
                (Algorithm::HS256, _) => {
                    let claims = decode(state.config().token_secret.as_bytes(), token, now)?;
                    let id = Uuid::parse_str(&claims.sub)
                        .map_err(|_| AuthError::InvalidToken("sub is not a user id".into()))?;
                    (UserId(id), claims.exp)
                }
                (_, Oidc::Builtin(p)) => verify_access_token(p.keys(), &header, token, now)?,
                (_, Oidc::External(ext)) => {
                    let (user, exp) = ext.verify(state, &header, token).await?;
                    cache.insert(key, user.id, exp, now);
                    return Ok(user);
                }
            };
            cache.insert(key, id, exp, now);
            id
        }
    };
    match state.store().user(id).await {
        Ok(u) => Ok(u),
        Err(StoreError::NotFound) => Err(AuthError::InvalidToken("user no longer exists".into())),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: UserId(Uuid::new_v4()),
            name: "alice".into(),
            display_name: "Alice".into(),
            email: None,
            password_hash: String::new(),
            is_admin: false,
        }
    }

    fn sign(claims: &Claims, alg: Algorithm, key: &[u8]) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
    }

    #[test]
    fn token_checks_table() {
        let u = user();
        let now = Clock::system().unix_secs();
        let good = Claims {
            sub: u.id.to_string(),
            exp: now + 60,
            iat: now,
            aud: TOKEN_AUDIENCE.into(),
            typ: TOKEN_TYPE.into(),
        };
        let issued = issue_token(b"k", &u, Duration::from_secs(60), &Clock::system()).unwrap();
        let mut tampered = issued.clone();
        tampered.insert(tampered.find('.').unwrap() + 3, 'x');
        let expired = Claims {
            exp: now - 1,
            ..good.clone()
        };
        let transfer = Claims {
            aud: "spacedav-transfer".into(),
            ..good.clone()
        };
        let wrong_typ = Claims {
            typ: "transfer".into(),
            ..good.clone()
        };
        let rows: Vec<(&str, String, bool)> = vec![
            ("issued", issued, true),
            ("hand-signed", sign(&good, Algorithm::HS256, b"k"), true),
            ("other key", sign(&good, Algorithm::HS256, b"other"), false),
            (
                "HS512 not accepted",
                sign(&good, Algorithm::HS512, b"k"),
                false,
            ),
            ("tampered", tampered, false),
            ("expired", sign(&expired, Algorithm::HS256, b"k"), false),
            (
                "other audience",
                sign(&transfer, Algorithm::HS256, b"k"),
                false,
            ),
            ("other typ", sign(&wrong_typ, Algorithm::HS256, b"k"), false),
            ("garbage", "a.b.c".into(), false),
        ];
        for (what, token, ok) in rows {
            assert_eq!(decode(b"k", &token, now).is_ok(), ok, "{what}");
        }
        assert!(matches!(
            decode(b"k", &sign(&expired, Algorithm::HS256, b"k"), now),
            Err(AuthError::ExpiredToken)
        ));
    }
}
