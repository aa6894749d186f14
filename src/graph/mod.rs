//! Graph space discovery (SPEC §7): `/graph/v1.0/me/drives`, `/graph/v1.0/drives` (all spaces
//! for admins) and `/graph/v1.0/drives/{sid}`. The `v1beta1` paths answer the same, for newer
//! ownCloud Web builds. A space the user is not a member of does not exist for them (404).

mod drive;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::{HeaderMap, StatusCode};
use serde_json::json;

use crate::auth::Principal;
use crate::spaces::{Space, SpaceId, StoreError};
use crate::state::AppState;

pub use drive::{quota_state, rfc3339};

/// The Graph routes.
pub fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for v in ["v1.0", "v1beta1"] {
        r = r
            .route(&format!("/graph/{v}/me/drives"), get(my_drives))
            .route(&format!("/graph/{v}/drives"), get(all_drives))
            .route(&format!("/graph/{v}/drives/{{sid}}"), get(one_drive));
    }
    r
}

/// Why a Graph request failed.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// No such drive, or not one the user may see.
    #[error("drive not found")]
    ItemNotFound,
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        match self {
            GraphError::ItemNotFound => (
                StatusCode::NOT_FOUND,
                Json(json!({"error": {"code": "itemNotFound", "message": "drive not found"}})),
            )
                .into_response(),
            GraphError::Store(e) => crate::http::internal_error(e),
        }
    }
}

/// Free bytes of the file system holding the blobs (`remaining` of unlimited spaces).
fn free_space(state: &AppState) -> u64 {
    #[cfg(unix)]
    {
        rustix::fs::statvfs(state.config().blob_dir())
            .map(|s| s.f_bavail.saturating_mul(s.f_frsize))
            .unwrap_or(0)
    }
    #[cfg(not(unix))]
    {
        let _ = state;
        0
    }
}

async fn render(
    state: &AppState,
    headers: &HeaderMap,
    spaces: Vec<Space>,
) -> Result<Vec<serde_json::Value>, GraphError> {
    let base = crate::http::base_url(state, headers);
    let free = free_space(state);
    let store = state.store();
    let mut out = Vec::with_capacity(spaces.len());
    for space in spaces {
        let root = store.node(space.id.root()).await?;
        let quota = store.quota(space.id.space).await?;
        out.push(drive::drive(&base, &space, &root, quota, free));
    }
    Ok(out)
}

async fn list(
    state: &AppState,
    headers: &HeaderMap,
    spaces: Vec<Space>,
) -> Result<Response, GraphError> {
    let value = render(state, headers, spaces).await?;
    Ok(Json(json!({ "value": value })).into_response())
}

async fn member_spaces(state: &AppState, p: &Principal) -> Result<Vec<Space>, GraphError> {
    Ok(state
        .store()
        .spaces_of(p.user.id)
        .await?
        .into_iter()
        .map(|(s, _)| s)
        .collect())
}

async fn my_drives(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let spaces = member_spaces(&state, &p).await?;
    list(&state, &headers, spaces).await
}

async fn all_drives(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let spaces = if p.user.is_admin {
        state.store().spaces().await?
    } else {
        member_spaces(&state, &p).await?
    };
    list(&state, &headers, spaces).await
}

async fn one_drive(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(sid): Path<String>,
) -> Result<Response, GraphError> {
    let sid: SpaceId = sid.parse().map_err(|_| GraphError::ItemNotFound)?;
    if sid.storage != state.store().storage_id() {
        return Err(GraphError::ItemNotFound);
    }
    let space = match state.store().space(sid.space).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Err(GraphError::ItemNotFound),
        Err(e) => return Err(e.into()),
    };
    if !p.user.is_admin && state.store().role(sid.space, p.user.id).await?.is_none() {
        return Err(GraphError::ItemNotFound);
    }
    let mut value = render(&state, &headers, vec![space]).await?;
    Ok(Json(value.remove(0)).into_response())
}
