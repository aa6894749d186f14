//! Public, unauthenticated documents: OpenID Connect discovery, the JWK Set, and WebFinger
//! (RFC 7033) for the ownCloud desktop client 7, which asks it for the issuer
//! (research/web-and-oidc.md §2.1). They carry nothing secret, so they allow any origin.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::json;

use super::authorize::SCOPES;
use super::keys::ALGORITHM;
use super::{AUTHORIZE_PATH, JWKS_PATH, LOGOUT_PATH, TOKEN_PATH, USERINFO_PATH, issuer};
use crate::auth::Auth;

/// WebFinger link relation of an OpenID Connect issuer (OpenID Connect Discovery §2).
pub const REL_ISSUER: &str = "http://openid.net/specs/connect/1.0/issuer";
/// WebFinger link relation of the ownCloud server instance (desktop client 7).
pub const REL_SERVER_INSTANCE: &str = "http://webfinger.owncloud/rel/server-instance";

/// JSON that any origin may read.
fn public_json(value: serde_json::Value) -> Response {
    let mut res = Json(value).into_response();
    // The CORS layer overrides this for listed origins; for others it stays.
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

/// `GET /.well-known/openid-configuration`.
///
/// With an external issuer this is that issuer's own document, passed through as oCIS's proxy
/// does: the desktop client re-reads discovery from the server URL when it refreshes, even when
/// WebFinger sent it to the issuer for the sign-in (web-and-oidc.md §2.1, §6.12).
pub(super) async fn discovery(State(state): State<Auth>, headers: HeaderMap) -> Response {
    if let Some(external) = state.oidc().external() {
        return match external.discovery_document().await {
            Some(doc) => public_json(doc.as_ref().clone()),
            None => (
                StatusCode::BAD_GATEWAY,
                "the external OpenID Connect issuer's discovery document is unavailable",
            )
                .into_response(),
        };
    }
    let iss = issuer(&state, &headers);
    public_json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{iss}{TOKEN_PATH}"),
        "jwks_uri": format!("{iss}{JWKS_PATH}"),
        "userinfo_endpoint": format!("{iss}{USERINFO_PATH}"),
        "end_session_endpoint": format!("{iss}{LOGOUT_PATH}"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [format!("{ALGORITHM:?}")],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "scopes_supported": SCOPES,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp",
            "preferred_username", "name", "email"],
        "prompt_values_supported": ["none", "login"],
        "request_parameter_supported": false,
    }))
}

/// `GET /oidc/jwks`.
pub(super) async fn jwks(State(state): State<Auth>) -> Response {
    match state.oidc().provider() {
        Some(p) => public_json(p.keys().jwks()),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /.well-known/webfinger?resource=…`: the issuer to sign in with and this server.
pub(super) async fn webfinger(
    State(state): State<Auth>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(resource) = q.get("resource").filter(|r| !r.is_empty()) else {
        return (StatusCode::BAD_REQUEST, "resource is required").into_response();
    };
    let authority = crate::auth::oidc_authority(&state, &headers);
    let base = crate::http::base_url(&state, &headers);
    // Desktop 7 accepts the answer only as `application/json` (not `application/jrd+json`).
    public_json(json!({
        "subject": resource,
        "links": [
            {"rel": REL_ISSUER, "href": authority},
            {"rel": REL_SERVER_INSTANCE, "href": base},
        ],
    }))
}
