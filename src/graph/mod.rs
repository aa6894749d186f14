//! Graph (SPEC §7, issue 10): what ownCloud Web and the desktop client call after sign-in.
//! Spaces as drives ([`drives`]), their members ([`permissions`]), the signed-in user
//! ([`me`]), users and groups for the share dialog ([`users`], [`groups`]) and the space role
//! definitions ([`roles`]), sharing of files and folders ([`item_shares`], [`shared`]). `v1.0` and `v1beta1` answer the same. A space the user is not a
//! member of does not exist for them (404); unknown Graph paths answer Graph's JSON error.

mod access;
mod drive;
mod drive_item;
mod drives;
mod groups;
mod item_roles;
mod item_shares;
mod me;
mod permissions;
mod query;
mod roles;
mod share_jail;
mod shared;
mod users;

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde_json::json;

use crate::spaces::StoreError;
use crate::state::AppState;

pub use crate::http::rfc3339;
pub use drive::quota_state;
pub use me::{LANGUAGE, valid_language};
pub use roles::{role_by_id, role_id};

/// The Graph routes.
pub fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for v in ["v1.0", "v1beta1"] {
        let p = |rest: &str| format!("/graph/{v}{rest}");
        r = r
            .route(&p("/me"), get(me::me).patch(me::patch_me))
            .route(&p("/me/changePassword"), post(me::change_password))
            .route(&p("/me/drives"), get(drives::my_drives))
            .route(&p("/drives"), get(drives::all_drives).post(drives::create))
            .route(
                &p("/drives/{sid}"),
                get(drives::one)
                    .patch(drives::update)
                    .delete(drives::delete),
            )
            .route(&p("/drives/{sid}/root/permissions"), get(permissions::list))
            .route(&p("/drives/{sid}/root/invite"), post(permissions::invite))
            .route(
                &p("/drives/{sid}/root/permissions/{pid}"),
                get(permissions::one)
                    .patch(permissions::update)
                    .delete(permissions::remove),
            )
            .route(&p("/drives/{sid}/items/{rid}"), get(share_jail::mount_item))
            .route(
                &p("/drives/{sid}/items/{rid}/invite"),
                post(item_shares::invite),
            )
            .route(
                &p("/drives/{sid}/items/{rid}/createLink"),
                post(item_shares::create_link),
            )
            .route(
                &p("/drives/{sid}/items/{rid}/permissions"),
                get(item_shares::list),
            )
            .route(
                &p("/drives/{sid}/items/{rid}/permissions/{pid}"),
                get(item_shares::one)
                    .patch(item_shares::update)
                    .delete(item_shares::remove),
            )
            .route(
                &p("/drives/{sid}/items/{rid}/permissions/{pid}/setPassword"),
                post(item_shares::set_password),
            )
            .route(&p("/me/drive/sharedWithMe"), get(shared::shared_with_me))
            .route(&p("/me/drive/sharedByMe"), get(shared::shared_by_me))
            .route(&p("/users"), get(users::list))
            .route(&p("/users/{id}"), get(users::one))
            .route(&p("/groups"), get(groups::list))
            .route(&p("/groups/{id}"), get(groups::one))
            .route(
                &p("/roleManagement/permissions/roleDefinitions"),
                get(roles::list),
            )
            .route(
                &p("/roleManagement/permissions/roleDefinitions/{id}"),
                get(roles::one),
            );
    }
    r.route("/graph", get(unknown).fallback(unknown))
        .route("/graph/{*rest}", get(unknown).fallback(unknown))
}

/// Why a Graph request failed; each variant is one Graph error code.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// No such drive, user, group, permission or path, or not one the user may see.
    #[error("item not found")]
    ItemNotFound,
    /// A malformed body or query option.
    #[error("{0}")]
    InvalidRequest(String),
    /// The user may see the item but not do this.
    #[error("{0}")]
    AccessDenied(String),
    /// A server-side failure outside the store (a hashing task that died).
    #[error("{0}")]
    Internal(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            GraphError::ItemNotFound => (StatusCode::NOT_FOUND, "itemNotFound"),
            GraphError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalidRequest"),
            GraphError::AccessDenied(_) => (StatusCode::FORBIDDEN, "accessDenied"),
            GraphError::Internal(e) => return crate::http::internal_error(e),
            GraphError::Store(e) => return crate::http::store_failure(e),
        };
        let body = json!({"error": {"code": code, "message": self.to_string()}});
        (status, Json(body)).into_response()
    }
}

/// Any Graph path nobody serves.
async fn unknown() -> GraphError {
    GraphError::ItemNotFound
}

/// A JSON request body, refused with Graph's `invalidRequest` when it is not the expected JSON.
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, GraphError> {
    serde_json::from_slice(body).map_err(|e| GraphError::InvalidRequest(format!("body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full disk behind a Graph call is 507, as on WebDAV and tus (issue 16).
    #[test]
    fn a_full_store_is_507() {
        let res = GraphError::Store(StoreError::StorageFull("ENOSPC".into())).into_response();
        assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
    }
}
