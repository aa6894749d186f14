//! App tokens with oCIS's auth-app API, for clients that cannot sign in through a browser
//! (rclone, mounts, owncloudcmd): `POST /auth-app/tokens?expiry=72h[&label=…]` creates one and
//! shows it once, `GET /auth-app/tokens` lists them without secrets, `DELETE
//! /auth-app/tokens?token=…` revokes one (by the token itself or by the id the list shows). An
//! app token works as the password in Basic auth for its user.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::oidc::secret_hash;
use super::{AuthError, Principal};
use crate::auth::Auth;
use crate::http::rfc3339;
use crate::spaces::{AppToken, Mtime, Store, StoreError, User};

/// The auth-app endpoint.
pub const APP_TOKENS_PATH: &str = "/auth-app/tokens";

/// Length of an app token: 256 random bits, base64url without padding.
const TOKEN_LEN: usize = 43;

/// Label when the client gives none (oCIS's wording).
const DEFAULT_LABEL: &str = "Generated via API";

/// Why an auth-app request failed.
#[derive(Debug, thiserror::Error)]
pub enum AppTokenError {
    /// Not authenticated.
    #[error(transparent)]
    Unauthorized(#[from] AuthError),
    /// `expiry` missing or not a duration like `30m` or `72h`.
    #[error("error parsing expiry. Use e.g. 30m or 72h")]
    BadExpiry,
    /// `DELETE` without `token`.
    #[error("missing auth-app token. Set 'token' parameter")]
    MissingToken,
    /// No such token of this user.
    #[error("no such app token")]
    NotFound,
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl IntoResponse for AppTokenError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        match self {
            AppTokenError::Unauthorized(e) => e.into_response(),
            AppTokenError::BadExpiry | AppTokenError::MissingToken => {
                (StatusCode::BAD_REQUEST, message).into_response()
            }
            AppTokenError::NotFound => (StatusCode::NOT_FOUND, message).into_response(),
            AppTokenError::Store(e) => crate::http::store_failure(&e),
        }
    }
}

/// A Go-style duration (`72h`, `30m`, `1h30m`, `90s`), as oCIS accepts for `expiry`.
pub fn parse_expiry(s: &str) -> Option<Duration> {
    let mut total = 0u64;
    let mut num = String::new();
    if s.is_empty() {
        return None;
    }
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    (num.is_empty() && total > 0).then(|| Duration::from_secs(total))
}

/// Whether `password` is one of `user`'s live app tokens (Basic auth).
pub(super) async fn valid(state: &Auth, user: &User, password: &str) -> Result<bool, AuthError> {
    let shaped = password.len() == TOKEN_LEN
        && password
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !shaped {
        return Ok(false);
    }
    Ok(state
        .store()
        .app_token_valid(
            user.id,
            &secret_hash(password),
            state.store().clock().unix_secs() as i64,
        )
        .await?)
}

fn listed(t: &AppToken, token: Option<String>) -> Value {
    let date = |s: i64| rfc3339(Mtime(s.saturating_mul(1_000_000_000)));
    json!({
        "token": token.unwrap_or_else(|| t.id.to_string()),
        "expiration_date": date(t.expires_at),
        "created_date": date(t.created_at),
        "label": t.label,
    })
}

/// Create an app token for `user`, valid for `expiry`; the token record and its secret (shown
/// once, stored only as a hash).
pub async fn create_token(
    store: &Store,
    user: &User,
    expiry: Duration,
    label: Option<&str>,
) -> Result<(AppToken, String), StoreError> {
    let secret = super::oidc::random_secret();
    let now = store.clock().unix_secs() as i64;
    let token = AppToken {
        id: Uuid::new_v4(),
        user: user.id,
        token_hash: secret_hash(&secret),
        label: label
            .filter(|l| !l.is_empty())
            .unwrap_or(DEFAULT_LABEL)
            .to_string(),
        created_at: now,
        expires_at: now.saturating_add(expiry.as_secs().min(i64::MAX as u64) as i64),
    };
    store.insert_app_token(&token).await?;
    tracing::info!(user = %user.name, id = %token.id, "app token created");
    Ok((token, secret))
}

/// Revoke `user`'s app token named by its id (as listed) or by the token itself; whether one
/// was revoked.
pub async fn revoke_token(store: &Store, user: &User, given: &str) -> Result<bool, StoreError> {
    let key = if Uuid::parse_str(given).is_ok() {
        given.to_string()
    } else {
        secret_hash(given)
    };
    let revoked = store.delete_app_token(user.id, &key).await?;
    if revoked {
        tracing::info!(user = %user.name, "app token revoked");
    }
    Ok(revoked)
}

async fn create(
    State(state): State<Auth>,
    p: Principal,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppTokenError> {
    let expiry = q
        .get("expiry")
        .and_then(|e| parse_expiry(e))
        .ok_or(AppTokenError::BadExpiry)?;
    let label = q.get("label").map(String::as_str);
    let (token, secret) = create_token(state.store(), &p.user, expiry, label).await?;
    Ok(Json(listed(&token, Some(secret))).into_response())
}

async fn list(State(state): State<Auth>, p: Principal) -> Result<Response, AppTokenError> {
    let tokens = state
        .store()
        .app_tokens(p.user.id, state.store().clock().unix_secs() as i64)
        .await?;
    let out: Vec<Value> = tokens.iter().map(|t| listed(t, None)).collect();
    Ok(Json(out).into_response())
}

async fn delete(
    State(state): State<Auth>,
    p: Principal,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppTokenError> {
    let given = q
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or(AppTokenError::MissingToken)?;
    // The list shows ids; a client may also name the secret it was shown once.
    if !revoke_token(state.store(), &p.user, given).await? {
        return Err(AppTokenError::NotFound);
    }
    Ok(StatusCode::OK.into_response())
}

/// The auth-app routes.
pub fn routes() -> Router<Auth> {
    Router::new().route(
        APP_TOKENS_PATH,
        axum::routing::get(list).post(create).delete(delete),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_table() {
        let rows = [
            ("72h", Some(72 * 3600)),
            ("30m", Some(1800)),
            ("1h30m", Some(5400)),
            ("90s", Some(90)),
            ("", None),
            ("72", None),
            ("3d", None),
            ("0h", None),
            ("h", None),
        ];
        for (s, want) in rows {
            assert_eq!(parse_expiry(s).map(|d| d.as_secs()), want, "{s}");
        }
    }
}
