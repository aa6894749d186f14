//! The authorization endpoint (OAuth 2.0 §3.1, OpenID Connect Core §3.1.2): GET shows the
//! sign-in page (or answers at once from the provider session), POST checks the form.
//!
//! `client_id` and `redirect_uri` are checked first, and a failure there is an HTML page, never
//! a redirect (RFC 6749 §4.1.2.1: an unchecked redirect would make us an open redirector).
//! Everything after that is reported to the client's `redirect_uri` as `error=…&state=…`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Form, FromRequestParts, Query, State};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

use super::authorize_error::{AuthorizeError, redirect};
use super::clients::{self, Client};
use super::signin_page::{self, FormFields};
use super::{
    AUTHORIZE_PATH, CSRF_COOKIE, Provider, SESSION_COOKIE, SESSION_TTL, cookie, csrf, issuer,
    random_secret, secret_hash, set_cookie, web_origins,
};
use crate::auth::Auth;
use crate::auth::AuthError;
use crate::spaces::{CodeRecord, StoreError, User};

/// Scopes the provider knows; others are dropped from the granted scope.
pub const SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// The message of a failed sign-in (the browser suite looks for it).
const WRONG_PASSWORD: &str = "Wrong username or password.";

/// A checked authorization request.
struct Request {
    client: Client,
    redirect_uri: String,
    state: Option<String>,
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    prompt: Vec<String>,
    login_hint: Option<String>,
}

fn param<'a>(p: &'a HashMap<String, String>, k: &str) -> Option<&'a str> {
    p.get(k).map(String::as_str).filter(|v| !v.is_empty())
}

/// Check the request: client and redirect URI first (page on failure), then the rest
/// (reported to the client).
fn check(
    provider: &Provider,
    origins: &[String],
    p: &HashMap<String, String>,
) -> Result<Request, AuthorizeError> {
    let client = param(p, "client_id")
        .and_then(|id| clients::find(&provider.clients, id))
        .ok_or(AuthorizeError::UnknownClient)?;
    let redirect_uri = param(p, "redirect_uri")
        .filter(|u| client.redirect_allowed(u, origins))
        .ok_or(AuthorizeError::BadRedirectUri)?;
    let state = param(p, "state").map(String::from);
    let to_client = |error, description| AuthorizeError::ToClient {
        redirect_uri: redirect_uri.to_string(),
        state: state.clone(),
        error,
        description,
    };
    if param(p, "response_type") != Some("code") {
        return Err(to_client(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if param(p, "response_mode").is_some_and(|m| m != "query") {
        return Err(to_client(
            "invalid_request",
            "only response_mode=query is supported",
        ));
    }
    let challenge = param(p, "code_challenge");
    match (challenge, param(p, "code_challenge_method")) {
        (None, _) if client.is_public() => {
            return Err(to_client(
                "invalid_request",
                "PKCE code_challenge is required",
            ));
        }
        (Some(c), Some("S256")) if c.len() == 43 => {}
        (Some(_), _) => {
            return Err(to_client(
                "invalid_request",
                "code_challenge must be an S256 challenge",
            ));
        }
        (None, _) => {}
    }
    let scope: Vec<&str> = param(p, "scope")
        .unwrap_or("")
        .split_ascii_whitespace()
        .filter(|s| SCOPES.contains(s))
        .collect();
    Ok(Request {
        client: client.clone(),
        redirect_uri: redirect_uri.to_string(),
        state,
        scope: scope.join(" "),
        nonce: param(p, "nonce").map(String::from),
        code_challenge: challenge.map(String::from),
        prompt: param(p, "prompt")
            .unwrap_or("")
            .split_ascii_whitespace()
            .map(String::from)
            .collect(),
        login_hint: param(p, "login_hint").map(String::from),
    })
}

impl Request {
    /// The request fields the CSRF token is bound to.
    fn digest(&self) -> [u8; 32] {
        csrf::request_digest(&[
            &self.client.id,
            &self.redirect_uri,
            self.state.as_deref().unwrap_or(""),
            self.code_challenge.as_deref().unwrap_or(""),
            &self.scope,
            self.nonce.as_deref().unwrap_or(""),
        ])
    }

    /// The hidden form fields that carry the request through the POST.
    fn hidden(&self, csrf: String) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("client_id", self.client.id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("response_type", "code".to_string()),
            ("scope", self.scope.clone()),
        ];
        let optional = [
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &self.code_challenge),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                out.push((k, v.clone()));
            }
        }
        if self.code_challenge.is_some() {
            out.push(("code_challenge_method", "S256".into()));
        }
        out.push(("csrf", csrf));
        out
    }
}

/// The user of the browser's live provider session, with the sign-in time.
async fn session_user(
    state: &Auth,
    headers: &HeaderMap,
) -> Result<Option<(User, i64)>, StoreError> {
    let Some(sid) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let now = state.store().clock().unix_secs() as i64;
    let Some((id, auth_time)) = state.store().oidc_session(&secret_hash(&sid), now).await? else {
        return Ok(None);
    };
    match state.store().user(id).await {
        Ok(u) => Ok(Some((u, auth_time))),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Issue a code for `user` and send the browser back to the client with it.
async fn issue_code(
    state: &Auth,
    req: &Request,
    user: &User,
    auth_time: i64,
    status: StatusCode,
) -> Result<Response, AuthorizeError> {
    let code = random_secret();
    let now = state.store().clock().unix_secs() as i64;
    state
        .store()
        .insert_code(&CodeRecord {
            code_hash: secret_hash(&code),
            client_id: req.client.id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            user: user.id,
            scope: req.scope.clone(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            auth_time,
            expires_at: now + state.config().oidc.code_ttl.as_secs() as i64,
        })
        .await?;
    Ok(redirect(
        status,
        &req.redirect_uri,
        &[("code", Some(&code)), ("state", req.state.as_deref())],
    ))
}

fn secure(state: &Auth, headers: &HeaderMap) -> bool {
    issuer(state, headers).starts_with("https:")
}

/// Render the sign-in form (reusing the browser's CSRF cookie, or setting one).
fn form(
    state: &Auth,
    provider: &Provider,
    headers: &HeaderMap,
    req: &Request,
    username: &str,
    error: Option<&str>,
) -> Response {
    let csrf_cookie = cookie(headers, CSRF_COOKIE)
        .filter(|c| c.len() >= 32)
        .unwrap_or_else(random_secret);
    let token = csrf::form_token(
        &provider.csrf_key,
        &csrf_cookie,
        &req.digest(),
        state.store().clock().unix_secs(),
    );
    let html = signin_page::signin(
        AUTHORIZE_PATH,
        &FormFields {
            hidden: req.hidden(token),
            username,
            error,
        },
    );
    let mut res = Html(html).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Only this server's own pages may frame the sign-in page (clickjacking).
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'self'"),
    );
    // Set again even when reused, so the cookie lives as long as the form token just minted.
    let c = set_cookie(
        CSRF_COOKIE,
        &csrf_cookie,
        csrf::FORM_TTL,
        secure(state, headers),
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        h.append(header::SET_COOKIE, v);
    }
    res
}

/// `GET /oidc/authorize`.
pub(super) async fn get_authorize(
    State(state): State<Auth>,
    headers: HeaderMap,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Response, AuthorizeError> {
    let provider = state.oidc().provider().ok_or(AuthorizeError::Disabled)?;
    let req = check(provider, &web_origins(&state, &headers), &p)?;
    let forced = req.prompt.iter().any(|p| p == "login");
    if !forced {
        if let Some((user, auth_time)) = session_user(&state, &headers).await? {
            return issue_code(&state, &req, &user, auth_time, StatusCode::FOUND).await;
        }
    }
    if req.prompt.iter().any(|p| p == "none") {
        return Err(AuthorizeError::ToClient {
            redirect_uri: req.redirect_uri,
            state: req.state,
            error: "login_required",
            description: "the user is not signed in",
        });
    }
    let hint = req.login_hint.clone().unwrap_or_default();
    Ok(form(&state, provider, &headers, &req, &hint, None))
}

/// `POST /oidc/authorize`: the sign-in form.
pub(super) async fn post_authorize(
    State(state): State<Auth>,
    PeerAddr(addr): PeerAddr,
    headers: HeaderMap,
    Form(p): Form<HashMap<String, String>>,
) -> Result<Response, AuthorizeError> {
    let provider = state.oidc().provider().ok_or(AuthorizeError::Disabled)?;
    let req = check(provider, &web_origins(&state, &headers), &p)?;
    let csrf_ok = match (cookie(&headers, CSRF_COOKIE), param(&p, "csrf")) {
        (Some(c), Some(t)) => csrf::check(
            &provider.csrf_key,
            &c,
            &req.digest(),
            t,
            state.store().clock().unix_secs(),
        ),
        _ => false,
    };
    if !csrf_ok {
        return Err(AuthorizeError::Csrf);
    }
    let username = param(&p, "username").unwrap_or("").trim().to_string();
    let password = p.get("password").cloned().unwrap_or_default();
    if let Some(wait) = provider.throttle.wait(&username, addr) {
        tracing::warn!(user = %username, addr = ?addr, "sign-in throttled after repeated failures");
        return Err(AuthorizeError::Throttled(wait.as_secs().max(1)));
    }
    let user = match crate::auth::basic::check_password(&state, &username, &password).await {
        Ok(u) => u,
        Err(AuthError::Store(e)) => return Err(e.into()),
        Err(_) => {
            provider.throttle.fail(&username, addr);
            tracing::info!(user = %username, addr = ?addr, "sign-in failed");
            return Ok(form(
                &state,
                provider,
                &headers,
                &req,
                &username,
                Some(WRONG_PASSWORD),
            ));
        }
    };
    provider.throttle.succeed(&username);
    let sid = random_secret();
    let now = state.store().clock().unix_secs() as i64;
    state
        .store()
        .insert_oidc_session(&secret_hash(&sid), user.id, now, now + SESSION_TTL as i64)
        .await?;
    let mut res = issue_code(&state, &req, &user, now, StatusCode::SEE_OTHER).await?;
    let c = set_cookie(SESSION_COOKIE, &sid, SESSION_TTL, secure(&state, &headers));
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// The client's address, when the server was started with connect info (`crate::serve`).
pub(super) struct PeerAddr(Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(a)| a.ip()),
        ))
    }
}

/// The S256 PKCE challenge of `verifier` (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}
