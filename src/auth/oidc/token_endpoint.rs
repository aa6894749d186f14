//! The token endpoint (RFC 6749 §3.2): the `authorization_code` grant with PKCE (RFC 7636)
//! and the `refresh_token` grant with rotation (OAuth 2.1 §4.3.1). Every answer is JSON with
//! `Cache-Control: no-store`; every failure is an [`OAuthError`].

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::authorize::s256;
use super::clients::{self, Client};
use super::jwt::{self, IdClaims, has_scope};
use super::{Provider, issuer, random_secret, secret_hash};
use crate::auth::Auth;
use crate::spaces::{CodeRedemption, GrantRecord, Rotation, StoreError};

/// Errors of the token endpoint (RFC 6749 §5.2).
#[derive(Debug, thiserror::Error)]
pub(super) enum OAuthError {
    /// A required parameter is missing or repeated.
    #[error("invalid_request")]
    InvalidRequest(&'static str),
    /// Unknown client, or wrong or missing secret of a confidential client.
    #[error("invalid_client")]
    InvalidClient,
    /// The code or refresh token is unknown, spent, expired, revoked, or was issued to
    /// another client or redirect URI, or the PKCE verifier does not match.
    #[error("invalid_grant")]
    InvalidGrant(&'static str),
    /// A grant type other than the two supported.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// The built-in provider is off.
    #[error("not found")]
    Disabled,
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let (status, description) = match &self {
            OAuthError::InvalidRequest(d) => (StatusCode::BAD_REQUEST, *d),
            OAuthError::InvalidClient => (StatusCode::UNAUTHORIZED, "client authentication failed"),
            OAuthError::InvalidGrant(d) => (StatusCode::BAD_REQUEST, *d),
            OAuthError::UnsupportedGrantType => (
                StatusCode::BAD_REQUEST,
                "use authorization_code or refresh_token",
            ),
            OAuthError::Disabled => return StatusCode::NOT_FOUND.into_response(),
            OAuthError::Store(e) => return crate::http::store_failure(e),
        };
        let body = json!({"error": self.to_string(), "error_description": description});
        no_store((status, Json(body)).into_response())
    }
}

fn no_store(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// `application/x-www-form-urlencoded` decoding of a Basic client credential part (RFC 6749
/// §2.3.1); clients that skip the encoding send plain text, which decodes to itself.
fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Authenticate the client: Basic header (`client_secret_basic`), form fields
/// (`client_secret_post`), or just `client_id` for a public client (`none`).
fn client<'a>(
    provider: &'a Provider,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<&'a Client, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(i, p)| (form_decode(i), form_decode(p)))
        });
    let (id, secret) = match basic {
        Some((id, secret)) => (id, Some(secret)),
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned(),
        ),
    };
    let c = clients::find(&provider.clients, &id).ok_or(OAuthError::InvalidClient)?;
    if c.is_public() {
        return Ok(c);
    }
    match secret {
        Some(s) if c.secret_matches(&s) => Ok(c),
        _ => Err(OAuthError::InvalidClient),
    }
}

/// `POST /oidc/token`.
pub(super) async fn post_token(
    State(state): State<Auth>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, OAuthError> {
    let provider = state.oidc().provider().ok_or(OAuthError::Disabled)?;
    let client = client(provider, &headers, &form)?;
    let field = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let now = state.store().clock().unix_secs() as i64;
    let grant = match field("grant_type") {
        Some("authorization_code") => {
            let code = field("code").ok_or(OAuthError::InvalidRequest("code is required"))?;
            exchange_code(
                &state,
                client,
                code,
                field("redirect_uri"),
                field("code_verifier"),
                now,
            )
            .await?
        }
        Some("refresh_token") => {
            let old = field("refresh_token")
                .ok_or(OAuthError::InvalidRequest("refresh_token is required"))?;
            refresh(&state, client, old, now).await?
        }
        Some(_) => return Err(OAuthError::UnsupportedGrantType),
        None => return Err(OAuthError::InvalidRequest("grant_type is required")),
    };
    respond(&state, provider, &headers, client, grant).await
}

/// What the grant resolved to, ready to turn into tokens.
struct Granted {
    grant: GrantRecord,
    /// The new refresh token, when one is issued.
    refresh: Option<String>,
}

async fn exchange_code(
    state: &Auth,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: i64,
) -> Result<Granted, OAuthError> {
    let (record, grant) = match state.store().redeem_code(&secret_hash(code), now).await? {
        CodeRedemption::Fresh(fresh) => *fresh,
        CodeRedemption::Reused => {
            tracing::warn!(client = %client.id, "authorization code reused: its grant is revoked");
            return Err(OAuthError::InvalidGrant("the code was already used"));
        }
        CodeRedemption::Unknown => return Err(OAuthError::InvalidGrant("unknown code")),
    };
    let failure = if record.client_id != client.id {
        Some("the code was issued to another client")
    } else if redirect_uri != Some(record.redirect_uri.as_str()) {
        Some("redirect_uri does not match the authorization request")
    } else if record.expires_at <= now {
        Some("the code has expired")
    } else {
        match (&record.code_challenge, verifier) {
            (Some(challenge), Some(v)) if valid_verifier(v) => {
                (!bool::from(s256(v).as_bytes().ct_eq(challenge.as_bytes())))
                    .then_some("code_verifier does not match the code_challenge")
            }
            (Some(_), _) => Some("a valid code_verifier is required"),
            (None, _) if client.is_public() => Some("PKCE is required"),
            (None, _) => None,
        }
    };
    if let Some(why) = failure {
        state.store().revoke_grant(grant.id, now).await?;
        return Err(OAuthError::InvalidGrant(why));
    }
    let refresh = if client.always_refresh || has_scope(&grant.scope, "offline_access") {
        let token = random_secret();
        let exp = now + state.config().oidc.refresh_token_ttl.as_secs() as i64;
        state
            .store()
            .insert_refresh_token(&secret_hash(&token), grant.id, exp)
            .await?;
        Some(token)
    } else {
        None
    };
    Ok(Granted { grant, refresh })
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

async fn refresh(
    state: &Auth,
    client: &Client,
    old: &str,
    now: i64,
) -> Result<Granted, OAuthError> {
    let token = random_secret();
    let exp = now + state.config().oidc.refresh_token_ttl.as_secs() as i64;
    let rotation = state
        .store()
        .rotate_refresh_token(&secret_hash(old), &secret_hash(&token), now, exp)
        .await?;
    let grant = match rotation {
        Rotation::Rotated(g) => g,
        Rotation::Reused => {
            tracing::warn!(client = %client.id, "refresh token reused: its grant is revoked");
            return Err(OAuthError::InvalidGrant(
                "the refresh token was already used",
            ));
        }
        Rotation::Refused => {
            return Err(OAuthError::InvalidGrant(
                "unknown, expired or revoked refresh token",
            ));
        }
    };
    if grant.client_id != client.id {
        state.store().revoke_grant(grant.id, now).await?;
        return Err(OAuthError::InvalidGrant(
            "the refresh token was issued to another client",
        ));
    }
    Ok(Granted {
        grant,
        refresh: Some(token),
    })
}

async fn respond(
    state: &Auth,
    provider: &Provider,
    headers: &HeaderMap,
    client: &Client,
    granted: Granted,
) -> Result<Response, OAuthError> {
    let grant = &granted.grant;
    let user = match state.store().user(grant.user).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => return Err(OAuthError::InvalidGrant("the user is gone")),
        Err(e) => return Err(e.into()),
    };
    let iss = issuer(state, headers);
    let now = state.store().clock().unix_secs();
    let ttl = state.config().oidc.access_token_ttl.as_secs();
    let access = jwt::access_token(
        &provider.keys,
        &iss,
        &user,
        &client.id,
        &grant.scope,
        now,
        ttl,
    );
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": grant.scope,
    });
    if has_scope(&grant.scope, "openid") {
        let claims = IdClaims::new(
            &iss,
            &user,
            &client.id,
            &grant.scope,
            grant.nonce.clone(),
            grant.auth_time,
            now,
            ttl,
        );
        body["id_token"] = Value::String(provider.keys.sign(jwt::ID_TOKEN_TYP, &claims));
    }
    if let Some(r) = granted.refresh {
        body["refresh_token"] = Value::String(r);
    }
    Ok(no_store(Json(body).into_response()))
}
