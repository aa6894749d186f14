//! `GET /groups` (`$search`, `$orderby=displayName`) and `/groups/{id}` (`$expand=members`):
//! the groups Web's share and member dialogs offer. Groups are made with `spacedav group`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::GraphError;
use super::query::Query;
use super::users::{order, user_json};
use crate::auth::Principal;
use crate::spaces::{Group, StoreError};
use crate::state::AppState;

/// A group as Graph's `group` resource.
pub fn group_json(g: &Group) -> Value {
    json!({
        "id": g.id.to_string(),
        "displayName": g.display_name,
        "onPremisesSamAccountName": g.name,
        "groupTypes": [],
    })
}

pub(super) async fn list(
    State(state): State<AppState>,
    _p: Principal,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let q = Query::parse(query.as_deref())?;
    if q.filter.is_some() {
        return Err(GraphError::InvalidRequest("groups take no $filter".into()));
    }
    let groups = state.store().groups(q.search.as_deref()).await?;
    let mut value: Vec<Value> = groups.iter().map(group_json).collect();
    order(&mut value, q.order.as_ref())?;
    Ok(Json(json!({ "value": value })).into_response())
}

pub(super) async fn one(
    State(state): State<AppState>,
    _p: Principal,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let q = Query::parse(query.as_deref())?;
    let group = match Uuid::parse_str(&id) {
        Ok(id) => state.store().group(id).await,
        Err(_) => state.store().group_by_name(&id).await,
    };
    let group = match group {
        Ok(g) => g,
        Err(StoreError::NotFound) => return Err(GraphError::ItemNotFound),
        Err(e) => return Err(e.into()),
    };
    let mut v = group_json(&group);
    if q.expands("members") {
        let members = state.store().group_members(group.id).await?;
        v["members"] = members.iter().map(user_json).collect();
    }
    Ok(Json(v).into_response())
}
