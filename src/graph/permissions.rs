//! Space members as Graph permissions on the drive root (research/web-and-oidc.md §5.6, §5.7):
//! `GET /drives/{id}/root/permissions` (with the roles a manager may hand out),
//! `POST /drives/{id}/root/invite` (users or groups), and `PATCH`/`DELETE` of one permission.
//! A permission id is `u:{user id}` or `g:{group id}`, as oCIS spells space grants.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::access::{require_manager, space_for};
use super::{GraphError, parse_body, roles};
use crate::auth::Principal;
use crate::spaces::{Grantee, Role, Space, StoreError, UserId};
use crate::state::AppState;

/// The permission JSON of one grant.
pub fn permission(grantee: &Grantee, role: Role) -> Value {
    let (id, identity) = match grantee {
        Grantee::User(u) => (
            format!("u:{}", u.id),
            json!({"user": {"id": u.id.to_string(), "displayName": u.display_name,
                "@libre.graph.userType": "Member"}}),
        ),
        Grantee::Group(g) => (
            format!("g:{}", g.id),
            json!({"group": {"id": g.id.to_string(), "displayName": g.display_name}}),
        ),
    };
    json!({
        "id": id,
        "roles": [roles::role_id(role)],
        "grantedToV2": identity,
        "grantedToIdentities": [identity],
    })
}

/// Every grant of a space as permissions.
pub(super) async fn of_space(state: &AppState, space: &Space) -> Result<Vec<Value>, GraphError> {
    Ok(state
        .store()
        .grantees(space.id.space)
        .await?
        .iter()
        .map(|(g, r)| permission(g, *r))
        .collect())
}

pub(super) async fn list(
    State(state): State<AppState>,
    p: Principal,
    Path(sid): Path<String>,
) -> Result<Response, GraphError> {
    let (space, _) = space_for(&state, &p, &sid).await?;
    let value = of_space(&state, &space).await?;
    let all_actions = roles::actions(Role::Manager);
    Ok(Json(json!({
        "value": value,
        "@libre.graph.permissions.roles.allowedValues": roles::definitions(),
        "@libre.graph.permissions.actions.allowedValues": all_actions,
    }))
    .into_response())
}

/// A permission id parsed: a user or a group.
enum Target {
    User(UserId),
    Group(Uuid),
}

fn parse_pid(pid: &str) -> Result<Target, GraphError> {
    let (kind, id) = pid.split_once(':').ok_or(GraphError::ItemNotFound)?;
    let id = Uuid::parse_str(id).map_err(|_| GraphError::ItemNotFound)?;
    match kind {
        "u" => Ok(Target::User(UserId(id))),
        "g" => Ok(Target::Group(id)),
        _ => Err(GraphError::ItemNotFound),
    }
}

/// The grant `pid` names in `space`.
async fn grant(
    state: &AppState,
    space: &Space,
    pid: &str,
) -> Result<(Grantee, Role, Target), GraphError> {
    let target = parse_pid(pid)?;
    let found = state
        .store()
        .grantees(space.id.space)
        .await?
        .into_iter()
        .find(|(g, _)| match (g, &target) {
            (Grantee::User(u), Target::User(id)) => u.id == *id,
            (Grantee::Group(g), Target::Group(id)) => g.id == *id,
            _ => false,
        })
        .ok_or(GraphError::ItemNotFound)?;
    Ok((found.0, found.1, target))
}

async fn set(
    state: &AppState,
    space: &Space,
    t: &Target,
    role: Option<Role>,
) -> Result<(), GraphError> {
    let store = state.store();
    match t {
        Target::User(u) => store.set_member(space.id.space, *u, role).await?,
        Target::Group(g) => store.set_group_grant(space.id.space, *g, role).await?,
    }
    Ok(())
}

pub(super) async fn one(
    State(state): State<AppState>,
    p: Principal,
    Path((sid, pid)): Path<(String, String)>,
) -> Result<Response, GraphError> {
    let (space, _) = space_for(&state, &p, &sid).await?;
    let (g, r, _) = grant(&state, &space, &pid).await?;
    Ok(Json(permission(&g, r)).into_response())
}

#[derive(Debug, Deserialize)]
struct Recipient {
    #[serde(rename = "objectId")]
    object_id: String,
    #[serde(rename = "@libre.graph.recipient.type", default)]
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
struct InviteBody {
    roles: Vec<String>,
    recipients: Vec<Recipient>,
}

#[derive(Debug, Deserialize)]
struct UpdateBody {
    roles: Vec<String>,
}

/// The one space role of a `roles` array.
fn one_role(ids: &[String]) -> Result<Role, GraphError> {
    match ids {
        [id] => roles::role_by_id(id)
            .ok_or_else(|| GraphError::InvalidRequest(format!("unknown role {id}"))),
        _ => Err(GraphError::InvalidRequest(
            "exactly one role expected".into(),
        )),
    }
}

/// `POST /drives/{id}/root/invite`: grant a role to users and groups (managers only).
pub(super) async fn invite(
    State(state): State<AppState>,
    p: Principal,
    Path(sid): Path<String>,
    body: Bytes,
) -> Result<Response, GraphError> {
    let (space, role) = space_for(&state, &p, &sid).await?;
    require_manager(&space, role)?;
    let b: InviteBody = parse_body(&body)?;
    let new_role = one_role(&b.roles)?;
    if b.recipients.is_empty() {
        return Err(GraphError::InvalidRequest("no recipients".into()));
    }
    // Resolve every recipient before granting anything: all or nothing.
    let mut targets = Vec::new();
    for r in &b.recipients {
        let id = Uuid::parse_str(&r.object_id).map_err(|_| {
            GraphError::InvalidRequest(format!("unknown recipient {}", r.object_id))
        })?;
        let missing = || GraphError::InvalidRequest(format!("unknown recipient {}", r.object_id));
        let target = match r.kind.as_deref().unwrap_or("user") {
            "user" => match state.store().user(UserId(id)).await {
                Ok(u) => (Target::User(u.id), Grantee::User(u)),
                Err(StoreError::NotFound) => return Err(missing()),
                Err(e) => return Err(e.into()),
            },
            "group" => match state.store().group(id).await {
                Ok(g) => (Target::Group(g.id), Grantee::Group(g)),
                Err(StoreError::NotFound) => return Err(missing()),
                Err(e) => return Err(e.into()),
            },
            other => {
                return Err(GraphError::InvalidRequest(format!(
                    "recipient type {other}"
                )));
            }
        };
        targets.push(target);
    }
    let mut value = Vec::new();
    for (t, g) in &targets {
        set(&state, &space, t, Some(new_role)).await?;
        value.push(permission(g, new_role));
    }
    Ok(Json(json!({ "value": value })).into_response())
}

/// `PATCH …/root/permissions/{pid}`: change a member's role (managers only).
pub(super) async fn update(
    State(state): State<AppState>,
    p: Principal,
    Path((sid, pid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, GraphError> {
    let (space, role) = space_for(&state, &p, &sid).await?;
    require_manager(&space, role)?;
    let (g, _, t) = grant(&state, &space, &pid).await?;
    let b: UpdateBody = parse_body(&body)?;
    let new_role = one_role(&b.roles)?;
    set(&state, &space, &t, Some(new_role)).await?;
    Ok(Json(permission(&g, new_role)).into_response())
}

/// `DELETE …/root/permissions/{pid}`: remove a member (managers only).
pub(super) async fn remove(
    State(state): State<AppState>,
    p: Principal,
    Path((sid, pid)): Path<(String, String)>,
) -> Result<Response, GraphError> {
    let (space, role) = space_for(&state, &p, &sid).await?;
    require_manager(&space, role)?;
    let (_, _, t) = grant(&state, &space, &pid).await?;
    set(&state, &space, &t, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
