//! `GET /users` and `/users/{id}`: the people Web's share and member dialogs search
//! (`$search="text"`, `$orderby=displayName`). Everyone signed in may search; only admins may
//! list everyone without a search term. There are no federated users, so
//! `$filter=userType eq 'Federated'` finds none.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::GraphError;
use super::query::{OrderBy, Query};
use crate::auth::Principal;
use crate::spaces::{StoreError, User, UserId};
use crate::state::AppState;

/// A user as Graph's `user` resource.
pub fn user_json(u: &User) -> Value {
    json!({
        "id": u.id.to_string(),
        "displayName": u.display_name,
        "mail": u.email.clone().unwrap_or_default(),
        "onPremisesSamAccountName": u.name,
        "userType": "Member",
        "accountEnabled": true,
    })
}

/// Order Graph objects by `displayName` (the only order Web asks for) or `id`.
pub(super) fn order(value: &mut [Value], order: Option<&OrderBy>) -> Result<(), GraphError> {
    let Some(o) = order else {
        return Ok(());
    };
    let key = match o.field.as_str() {
        "displayName" | "id" | "mail" | "onPremisesSamAccountName" => o.field.as_str(),
        other => {
            return Err(GraphError::InvalidRequest(format!(
                "cannot order by {other}"
            )));
        }
    };
    value.sort_by_key(|v| v[key].as_str().unwrap_or_default().to_lowercase());
    if o.desc {
        value.reverse();
    }
    Ok(())
}

pub(super) async fn list(
    State(state): State<AppState>,
    p: Principal,
    RawQuery(query): RawQuery,
) -> Result<Response, GraphError> {
    let q = Query::parse(query.as_deref())?;
    if let Some(kind) = q.eq_filter("userType")? {
        if kind != "Member" {
            return Ok(Json(json!({"value": []})).into_response());
        }
    }
    let users = match &q.search {
        Some(s) => state.store().search_users(s).await?,
        None if p.user.is_admin => state.store().users().await?,
        None => {
            return Err(GraphError::AccessDenied(
                "listing every user needs $search or admin rights".into(),
            ));
        }
    };
    let mut value: Vec<Value> = users.iter().map(user_json).collect();
    order(&mut value, q.order.as_ref())?;
    Ok(Json(json!({ "value": value })).into_response())
}

pub(super) async fn one(
    State(state): State<AppState>,
    _p: Principal,
    Path(id): Path<String>,
) -> Result<Response, GraphError> {
    let user = match Uuid::parse_str(&id) {
        Ok(id) => state.store().user(UserId(id)).await,
        Err(_) => state.store().user_by_name(&id).await,
    };
    match user {
        Ok(u) => Ok(Json(user_json(&u)).into_response()),
        Err(StoreError::NotFound) => Err(GraphError::ItemNotFound),
        Err(e) => Err(e.into()),
    }
}
