//! The part of oCIS's settings service ownCloud Web needs (`POST /api/v0/settings/…`,
//! research/web-and-oidc.md §4 rows 6b-8): the role bundles, each user's role assignment, the
//! permission names that become Web's abilities (which buttons it shows), and the user's
//! language as a settings value (the only setting there is, listed by `bundles-list`).
//! spacedav has two roles: admins and users.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::Principal;
use crate::spaces::{StoreError, User, UserId};
use crate::state::AppState;

/// oCIS's id of the admin role bundle.
pub const ADMIN_ROLE: &str = "71881883-1768-46bd-a24d-a356a2afdf7f";
/// oCIS's id of the user role bundle.
pub const USER_ROLE: &str = "d7beeea8-8ff4-406b-8fb6-ab2dd81e6b11";
/// oCIS's id of the bundle that holds a user's profile settings.
pub const PROFILE_BUNDLE: &str = "2a506de7-99bd-4f0d-994e-c38e72c28fd9";
/// oCIS's id of the language setting.
pub const LANGUAGE_SETTING: &str = "aa8cfbe5-95d4-4f7e-a032-c3c01f5f062f";

/// What every user may do: choose their language, share with users and groups, create public
/// links (without these two Web offers no share panel and no link actions), list and mark
/// their favorites (without these Web hides its favorites list and the favorite action).
const USER_PERMISSIONS: &[&str] = &[
    "Language.ReadWrite",
    "Shares.Write.all",
    "PublicLink.Write.all",
    "Favorites.List.own",
    "Favorites.Write.own",
];
/// What admins may do beyond that: create project spaces, list, enable, disable and delete
/// every space, set project quotas (Graph's drive management answers all of these).
const ADMIN_PERMISSIONS: &[&str] = &[
    "Drives.Create.all",
    "Drives.List.all",
    "Drives.ReadWriteEnabled.all",
    "Drives.DeleteProject.all",
    "Drives.ReadWriteProjectQuota.all",
];

/// The settings routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v0/settings/roles-list", post(roles_list))
        .route("/api/v0/settings/bundles-list", post(bundles_list))
        .route("/api/v0/settings/assignments-list", post(assignments_list))
        .route("/api/v0/settings/permissions-list", post(permissions_list))
        .route("/api/v0/settings/values-list", post(values_list))
        .route("/api/v0/settings/values-save", post(values_save))
}

/// Why a settings request failed (the go-micro error body oCIS answers with).
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A body that is not the expected JSON, or names an unknown setting.
    #[error("{0}")]
    BadRequest(String),
    /// Another user's data, asked for by someone who is not an admin.
    #[error("permission denied")]
    Forbidden,
    /// No such account.
    #[error("account not found")]
    NotFound,
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl IntoResponse for SettingsError {
    fn into_response(self) -> Response {
        let status = match &self {
            SettingsError::BadRequest(_) => StatusCode::BAD_REQUEST,
            SettingsError::Forbidden => StatusCode::FORBIDDEN,
            SettingsError::NotFound => StatusCode::NOT_FOUND,
            SettingsError::Store(e) => return crate::http::store_failure(e),
        };
        let body = json!({
            "id": "go.micro.client",
            "code": status.as_u16(),
            "detail": self.to_string(),
            "status": status.canonical_reason().unwrap_or_default(),
        });
        (status, Json(body)).into_response()
    }
}

#[derive(Debug, Default, Deserialize)]
struct AccountBody {
    account_uuid: Option<String>,
}

fn parse<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, SettingsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| SettingsError::BadRequest(format!("body: {e}")))
}

/// The account a request is about: the caller (`me`, absent, or their own id), or anyone for
/// an admin.
async fn account(state: &AppState, p: &Principal, id: Option<&str>) -> Result<User, SettingsError> {
    let id = match id {
        None | Some("") | Some("me") => return Ok(p.user.clone()),
        Some(id) => Uuid::parse_str(id).map_err(|_| SettingsError::NotFound)?,
    };
    if id == p.user.id.0 {
        return Ok(p.user.clone());
    }
    if !p.user.is_admin {
        return Err(SettingsError::Forbidden);
    }
    match state.store().user(UserId(id)).await {
        Ok(u) => Ok(u),
        Err(StoreError::NotFound) => Err(SettingsError::NotFound),
        Err(e) => Err(e.into()),
    }
}

fn role_of(u: &User) -> &'static str {
    if u.is_admin { ADMIN_ROLE } else { USER_ROLE }
}

fn permissions_of(u: &User) -> Vec<&'static str> {
    let mut p = USER_PERMISSIONS.to_vec();
    if u.is_admin {
        p.extend_from_slice(ADMIN_PERMISSIONS);
    }
    p
}

fn bundle(id: &str, name: &str, display: &str, permissions: &[&str]) -> Value {
    let settings: Vec<Value> = permissions
        .iter()
        .map(|p| json!({"name": p, "displayName": p, "permissionValue": {"operation": "OPERATION_READWRITE", "constraint": "CONSTRAINT_ALL"}}))
        .collect();
    json!({
        "id": id, "name": name, "type": "TYPE_ROLE", "extension": "ocis-roles",
        "displayName": display, "settings": settings, "resource": {"type": "TYPE_SYSTEM"},
    })
}

async fn roles_list(_p: Principal) -> Response {
    let mut admin = USER_PERMISSIONS.to_vec();
    admin.extend_from_slice(ADMIN_PERMISSIONS);
    Json(json!({"bundles": [
        bundle(ADMIN_ROLE, "admin", "Admin", &admin),
        bundle(USER_ROLE, "user", "User", USER_PERMISSIONS),
    ]}))
    .into_response()
}

/// The settings a user can change: their language (Web's account page lists these).
async fn bundles_list(_p: Principal) -> Response {
    Json(json!({"bundles": [{
        "id": PROFILE_BUNDLE, "name": "profile", "type": "TYPE_DEFAULT",
        "extension": "ocis-accounts", "displayName": "Profile",
        "resource": {"type": "TYPE_USER"},
        "settings": [{
            "id": LANGUAGE_SETTING, "name": "language", "displayName": "Language",
            "description": "User language", "resource": {"type": "TYPE_USER"},
            "singleChoiceValue": {"options": []},
        }],
    }]}))
    .into_response()
}

async fn assignments_list(
    State(state): State<AppState>,
    p: Principal,
    body: Bytes,
) -> Result<Response, SettingsError> {
    let b: AccountBody = parse(&body)?;
    let u = account(&state, &p, b.account_uuid.as_deref()).await?;
    let role = role_of(&u);
    Ok(Json(json!({"assignments": [{
        "id": format!("{}-{role}", u.id), "accountUuid": u.id.to_string(), "roleId": role,
    }]}))
    .into_response())
}

async fn permissions_list(
    State(state): State<AppState>,
    p: Principal,
    body: Bytes,
) -> Result<Response, SettingsError> {
    let b: AccountBody = parse(&body)?;
    let u = account(&state, &p, b.account_uuid.as_deref()).await?;
    Ok(Json(json!({ "permissions": permissions_of(&u) })).into_response())
}

fn language_value(u: &User, lang: &str) -> Value {
    json!({
        "identifier": {"extension": "ocis-accounts", "bundle": "profile", "setting": "language"},
        "value": {
            "id": format!("{}-language", u.id),
            "bundleId": PROFILE_BUNDLE, "settingId": LANGUAGE_SETTING,
            "accountUuid": u.id.to_string(), "resource": {"type": "TYPE_USER"},
            "listValue": {"values": [{"stringValue": lang}]},
        },
    })
}

async fn values_list(
    State(state): State<AppState>,
    p: Principal,
    body: Bytes,
) -> Result<Response, SettingsError> {
    let b: AccountBody = parse(&body)?;
    let u = account(&state, &p, b.account_uuid.as_deref()).await?;
    let lang = state
        .store()
        .user_setting(u.id, crate::graph::LANGUAGE)
        .await?;
    let values: Vec<Value> = lang.iter().map(|l| language_value(&u, l)).collect();
    Ok(Json(json!({ "values": values })).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct SaveBody {
    value: Option<SaveValue>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SaveValue {
    setting_id: String,
    account_uuid: Option<String>,
    list_value: Option<ListValue>,
}

#[derive(Debug, Deserialize)]
struct ListValue {
    values: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    string_value: Option<String>,
}

async fn values_save(
    State(state): State<AppState>,
    p: Principal,
    body: Bytes,
) -> Result<Response, SettingsError> {
    let b: SaveBody = parse(&body)?;
    let v = b
        .value
        .ok_or_else(|| SettingsError::BadRequest("no value".into()))?;
    if v.setting_id != LANGUAGE_SETTING {
        return Err(SettingsError::BadRequest(format!(
            "unknown setting {}",
            v.setting_id
        )));
    }
    let u = account(&state, &p, v.account_uuid.as_deref()).await?;
    let lang = v
        .list_value
        .and_then(|l| l.values.into_iter().next())
        .and_then(|e| e.string_value)
        .filter(|l| crate::graph::valid_language(l))
        .ok_or_else(|| SettingsError::BadRequest("a language code is required".into()))?;
    state
        .store()
        .set_user_setting(u.id, crate::graph::LANGUAGE, &lang)
        .await?;
    Ok(Json(json!({ "value": language_value(&u, &lang) })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full disk behind a settings call is 507, as on WebDAV and tus (issue 16).
    #[test]
    fn a_full_store_is_507() {
        let res = SettingsError::Store(StoreError::StorageFull("ENOSPC".into())).into_response();
        assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
    }
}
