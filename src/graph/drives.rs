//! Spaces as Graph drives: listing (`me/drives`, `drives`) with `$filter=driveType eq …` and
//! `$orderby`, one drive, and the management Web offers space managers and admins: create a
//! project space, rename it, change its description or quota, disable, restore and purge it
//! (research/web-and-oidc.md §5.7).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use super::access::{require_manager, space_for};
use super::query::Query;
use super::{GraphError, drive, parse_body, permissions, share_jail};
use crate::auth::Principal;
use crate::http::headers::{PURGE, RESTORE};
use crate::spaces::{NewSpace, Role, Space, StoreError};
use crate::state::AppState;

/// Free bytes the blob store reports (`remaining` of unlimited spaces); a store without a
/// known bound (S3) reports none, and a failure is logged and shown as none.
async fn free_space(state: &AppState) -> u64 {
    match state.store().free_bytes().await {
        Ok(free) => free.unwrap_or(0),
        Err(e) => {
            tracing::warn!(error = %e, "blob store capacity unknown");
            0
        }
    }
}

/// The drive JSON of each space.
async fn render(
    state: &AppState,
    headers: &HeaderMap,
    spaces: Vec<Space>,
) -> Result<Vec<Value>, GraphError> {
    let base = crate::http::base_url(state, headers);
    let free = free_space(state).await;
    let store = state.store();
    let mut out = Vec::with_capacity(spaces.len());
    for space in spaces {
        let root = store.node(space.id.root()).await?;
        let quota = store.quota(space.id.space).await?;
        let perms = permissions::of_space(state, &space).await?;
        out.push(drive::drive(&base, &space, &root, quota, free, perms));
    }
    Ok(out)
}

/// The spaces `p` sees: those with a role, disabled ones only for their managers.
async fn visible_spaces(state: &AppState, p: &Principal) -> Result<Vec<Space>, GraphError> {
    Ok(state
        .store()
        .spaces_of(p.user.id)
        .await?
        .into_iter()
        .filter(|(s, role)| !s.disabled || *role == Role::Manager)
        .map(|(s, _)| s)
        .collect())
}

/// Apply `$filter=driveType eq …` and `$orderby` to `spaces` and the share jail's drives
/// (`jail`), render them as `{"value":[…]}`.
async fn list(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    spaces: Vec<Space>,
    jail: Vec<Value>,
) -> Result<Response, GraphError> {
    let q = Query::parse(query)?;
    let mut value = render(state, headers, spaces).await?;
    value.extend(jail);
    if let Some(kind) = q.eq_filter("driveType")? {
        value.retain(|d| d["driveType"] == kind);
    }
    if let Some(order) = &q.order {
        let key = match order.field.as_str() {
            "name" | "lastModifiedDateTime" | "driveType" | "id" => order.field.as_str(),
            other => {
                return Err(GraphError::InvalidRequest(format!(
                    "cannot order drives by {other}"
                )));
            }
        };
        let text = |d: &Value| d[key].as_str().unwrap_or_default().to_lowercase();
        value.sort_by_key(text);
        if order.desc {
            value.reverse();
        }
    }
    Ok(Json(serde_json::json!({ "value": value })).into_response())
}

pub(super) async fn my_drives(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let spaces = visible_spaces(&state, &p).await?;
    let base = crate::http::base_url(&state, &headers);
    let jail = share_jail::drives(&state, &base, p.user.id).await?;
    list(&state, &headers, query.as_deref(), spaces, jail).await
}

pub(super) async fn all_drives(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    // An admin lists every space; anyone else sees what `me/drives` shows, share jail included.
    let (spaces, jail) = if p.user.is_admin {
        (state.store().spaces().await?, Vec::new())
    } else {
        let base = crate::http::base_url(&state, &headers);
        let jail = share_jail::drives(&state, &base, p.user.id).await?;
        (visible_spaces(&state, &p).await?, jail)
    };
    list(&state, &headers, query.as_deref(), spaces, jail).await
}

async fn one_json(
    state: &AppState,
    headers: &HeaderMap,
    space: Space,
) -> Result<Value, GraphError> {
    let mut v = render(state, headers, vec![space]).await?;
    Ok(v.remove(0))
}

pub(super) async fn one(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(sid): Path<String>,
) -> Result<Response, GraphError> {
    let base = crate::http::base_url(&state, &headers);
    if let Some(d) = share_jail::drive(&state, &base, p.user.id, &sid).await? {
        return Ok(Json(d).into_response());
    }
    let (space, _) = space_for(&state, &p, &sid).await?;
    Ok(Json(one_json(&state, &headers, space).await?).into_response())
}

#[derive(Debug, Deserialize)]
struct QuotaBody {
    total: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DriveBody {
    name: Option<String>,
    drive_type: Option<String>,
    description: Option<String>,
    quota: Option<QuotaBody>,
}

/// A trimmed, non-empty space name without path or control characters.
fn valid_name(name: &str) -> Result<&str, GraphError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 255 || name.chars().any(|c| c.is_control() || c == '/') {
        return Err(GraphError::InvalidRequest(
            "a space name must be 1 to 255 characters without `/`".into(),
        ));
    }
    Ok(name)
}

/// `POST /drives`: create a project space (admins; Web's `Drives.Create.all`).
pub(super) async fn create(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    if !p.user.is_admin {
        return Err(GraphError::AccessDenied("only admins create spaces".into()));
    }
    let b: DriveBody = parse_body(&body)?;
    if b.drive_type.as_deref().is_some_and(|t| t != "project") {
        return Err(GraphError::InvalidRequest(
            "only project drives can be created".into(),
        ));
    }
    let name = valid_name(b.name.as_deref().unwrap_or_default())?.to_string();
    let quota = b.quota.and_then(|q| q.total).filter(|t| *t > 0);
    let store = state.store();
    let new = |alias| NewSpace {
        alias,
        name: name.clone(),
        quota,
        owner: p.user.id,
    };
    // The alias comes from the name; a second space of the same name gets a suffix.
    let space = match store.create_project_space(new(None)).await {
        Err(StoreError::NameTaken(_)) => {
            let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
            store
                .create_project_space(new(Some(format!("{name}-{suffix}"))))
                .await?
        }
        other => other?,
    };
    if let Some(d) = b.description.as_deref() {
        store.update_space(space.id.space, None, Some(d)).await?;
    }
    let space = store.space(space.id.space).await?;
    let json = one_json(&state, &headers, space).await?;
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

/// `PATCH /drives/{id}`: rename, describe, set the quota (admins only), or with `Restore: true`
/// enable a disabled space again.
pub(super) async fn update(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(sid): Path<String>,
    body: Bytes,
) -> Result<Response, GraphError> {
    let (space, role) = space_for(&state, &p, &sid).await?;
    require_manager(&space, role)?;
    let b: DriveBody = if body.is_empty() {
        DriveBody {
            name: None,
            drive_type: None,
            description: None,
            quota: None,
        }
    } else {
        parse_body(&body)?
    };
    let store = state.store();
    let restore = headers
        .get(RESTORE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true") || v.as_bytes() == b"T");
    if restore {
        store.set_space_disabled(space.id.space, false).await?;
    } else if space.disabled {
        return Err(GraphError::InvalidRequest("the space is disabled".into()));
    }
    if let Some(q) = &b.quota {
        if !p.user.is_admin {
            return Err(GraphError::AccessDenied("only admins change quotas".into()));
        }
        store
            .set_quota(space.id.space, q.total.filter(|t| *t > 0))
            .await?;
    }
    let name = b.name.as_deref().map(valid_name).transpose()?;
    if name.is_some() || b.description.is_some() {
        store
            .update_space(space.id.space, name, b.description.as_deref())
            .await?;
    }
    let space = store.space(space.id.space).await?;
    Ok(Json(one_json(&state, &headers, space).await?).into_response())
}

/// `DELETE /drives/{id}`: disable the space; with `Purge: T`, delete a disabled one for good.
pub(super) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(sid): Path<String>,
) -> Result<Response, GraphError> {
    let (space, role) = space_for(&state, &p, &sid).await?;
    require_manager(&space, role)?;
    let purge = headers.get(PURGE).is_some_and(|v| {
        v.as_bytes().eq_ignore_ascii_case(b"t") || v.as_bytes().eq_ignore_ascii_case(b"true")
    });
    if purge {
        match state.store().purge_space(space.id.space).await {
            Ok(()) => {}
            Err(StoreError::PreconditionFailed) => {
                return Err(GraphError::InvalidRequest(
                    "disable the space before purging it".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        state
            .store()
            .set_space_disabled(space.id.space, true)
            .await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
