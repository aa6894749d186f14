//! The userinfo endpoint (OpenID Connect Core §5.3) and RP-initiated logout (OpenID Connect
//! RP-Initiated Logout 1.0): sign-out ends the provider session and returns to the client only
//! at a registered `post_logout_redirect_uri`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Form, Query, State};
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use jsonwebtoken::Validation;
use serde_json::{Value, json};

use super::keys::ALGORITHM;
use super::signin_page;
use super::{SESSION_COOKIE, cookie, issuer, secret_hash, set_cookie, web_origins};
use crate::auth::Auth;
use crate::auth::{AuthError, authenticate};

/// `GET|POST /oidc/userinfo` with an access token.
pub(super) async fn userinfo(State(state): State<Auth>, headers: HeaderMap) -> Response {
    if state.oidc().provider().is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
    if !bearer {
        return AuthError::Missing.into_response();
    }
    match authenticate(&state, &headers).await {
        Ok(Some(p)) => {
            let mut body = json!({
                "sub": p.user.id.to_string(),
                "preferred_username": p.user.name,
                "name": p.user.display_name,
            });
            if let Some(email) = &p.user.email {
                body["email"] = Value::String(email.clone());
            }
            let mut res = Json(body).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Ok(None) => AuthError::Missing.into_response(),
        Err(e) => e.into_response(),
    }
}

/// The client an `id_token_hint` was issued to (its signature checked, its expiry not:
/// logging out with an old id token is normal).
fn hinted_client(state: &Auth, hint: &str) -> Option<String> {
    let provider = state.oidc().provider()?;
    let header = jsonwebtoken::decode_header(hint).ok()?;
    let key = provider.keys().decoding(header.kid.as_deref()?)?;
    let mut v = Validation::new(ALGORITHM);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(hint, key, &v).ok()?;
    data.claims.get("aud")?.as_str().map(String::from)
}

/// `GET /oidc/logout` (parameters in the query).
pub(super) async fn get_end_session(
    State(state): State<Auth>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    end_session(&state, &headers, &q).await
}

/// `POST /oidc/logout` (parameters as a form, RP-Initiated Logout §2).
pub(super) async fn post_end_session(
    State(state): State<Auth>,
    headers: HeaderMap,
    Form(q): Form<HashMap<String, String>>,
) -> Response {
    end_session(&state, &headers, &q).await
}

async fn end_session(state: &Auth, headers: &HeaderMap, q: &HashMap<String, String>) -> Response {
    let Some(provider) = state.oidc().provider() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(sid) = cookie(headers, SESSION_COOKIE) {
        if let Err(e) = state.store().delete_oidc_session(&secret_hash(&sid)).await {
            return crate::http::store_failure(&e);
        }
    }
    let param = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let client_id = param("client_id")
        .map(String::from)
        .or_else(|| param("id_token_hint").and_then(|h| hinted_client(state, h)));
    let origins = web_origins(state, headers);
    let target = param("post_logout_redirect_uri").filter(|uri| {
        provider.clients.iter().any(|c| {
            client_id.as_deref().is_none_or(|id| c.id == id) && c.post_logout_allowed(uri, &origins)
        })
    });
    let mut res = match target {
        Some(uri) => {
            let mut location = uri.to_string();
            if let Some(s) = param("state") {
                if let Ok(mut url) = url::Url::parse(uri) {
                    url.query_pairs_mut().append_pair("state", s);
                    location = url.to_string();
                }
            }
            let mut res = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        None => Html(signin_page::signed_out()).into_response(),
    };
    let secure = issuer(state, headers).starts_with("https:");
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", 0, secure)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
