//! The signed-in user: `GET /me` (`$expand=memberOf`), `PATCH /me` (the language Web shows),
//! `POST /me/changePassword`. Web reads `id`, `displayName`, `mail`,
//! `onPremisesSamAccountName` (thumbnails and favorites use it), `memberOf[].id` and
//! `preferredLanguage` (research/web-and-oidc.md §4 row 6a).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::query::Query;
use super::users::user_json;
use super::{GraphError, groups, parse_body};
use crate::auth::{Principal, hash_password, verify_password};
use crate::state::AppState;

/// The user-settings name of the preferred language.
pub const LANGUAGE: &str = "language";

async fn me_json(state: &AppState, p: &Principal, member_of: bool) -> Result<Value, GraphError> {
    let mut v = user_json(&p.user);
    if let Some(lang) = state.store().user_setting(p.user.id, LANGUAGE).await? {
        v["preferredLanguage"] = json!(lang);
    }
    if member_of {
        let groups = state.store().groups_of(p.user.id).await?;
        v["memberOf"] = groups.iter().map(groups::group_json).collect();
    }
    Ok(v)
}

pub(super) async fn me(
    State(state): State<AppState>,
    p: Principal,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let q = Query::parse(query.as_deref())?;
    Ok(Json(me_json(&state, &p, q.expands("memberOf")).await?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchMe {
    preferred_language: Option<String>,
}

/// A language tag as Web sends it (`de`, `pt_BR`, `zh-Hans`).
pub fn valid_language(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 35
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub(super) async fn patch_me(
    State(state): State<AppState>,
    p: Principal,
    body: Bytes,
) -> Result<Response, GraphError> {
    let b: PatchMe = parse_body(&body)?;
    if let Some(lang) = &b.preferred_language {
        if !valid_language(lang) {
            return Err(GraphError::InvalidRequest(format!("language {lang:?}")));
        }
        state
            .store()
            .set_user_setting(p.user.id, LANGUAGE, lang)
            .await?;
    }
    Ok(Json(me_json(&state, &p, false).await?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangePassword {
    current_password: String,
    new_password: String,
}

/// `POST /me/changePassword`: the current password must match; the new one must not be empty.
pub(super) async fn change_password(
    State(state): State<AppState>,
    p: Principal,
    body: Bytes,
) -> Result<Response, GraphError> {
    let b: ChangePassword = parse_body(&body)?;
    if b.new_password.is_empty() {
        return Err(GraphError::InvalidRequest(
            "the new password is empty".into(),
        ));
    }
    let hash = p.user.password_hash.clone();
    let current = b.current_password.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &current))
        .await
        .unwrap_or(false);
    if !ok {
        return Err(GraphError::InvalidRequest(
            "the current password is wrong".into(),
        ));
    }
    let new = b.new_password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|e| GraphError::Internal(format!("password hashing task: {e}")))?;
    state.store().set_password(p.user.id, &hash).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
