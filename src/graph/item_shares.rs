//! Sharing one file or folder through Graph (research/web-and-oidc.md §5.6): `POST
//! /drives/{sid}/items/{rid}/invite` (users and groups with a role from `roleDefinitions`),
//! `createLink` (view, upload, edit, createOnly), `GET …/permissions`, `GET/PATCH/DELETE
//! …/permissions/{id}` and `…/permissions/{id}/setPassword`. The rows and rules are the ones
//! OCS uses (`crate::sharing`); a permission id here is the share's `uid`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::access::{grant, item, may_grant, owned};
use super::item_roles::{self, ItemRole, link_bits, link_type};
use super::{GraphError, parse_body, rfc3339, roles};
use crate::auth::{Principal, hash_password};
use crate::sharing::access::{ALL, CREATE, DELETE, READ, UPDATE};
use crate::sharing::dates::parse_expiry;
use crate::sharing::policy;
use crate::spaces::{Mtime, NewShare, Role, Share, ShareKind, ShareUpdate, UserId};
use crate::state::AppState;

/// The bits the role `id` grants on an item: one of the item roles ([`ItemRole`]), or (as
/// older clients send) a space role. A role that does not apply to the item is refused.
fn role_bits(id: Option<&String>, folder: bool) -> Result<u32, GraphError> {
    let id = id.ok_or_else(|| GraphError::InvalidRequest("a role is required".into()))?;
    if let Some(role) = ItemRole::by_id(id) {
        if !role.applies_to(folder) {
            let what = if folder { "folder" } else { "file" };
            return Err(GraphError::InvalidRequest(format!(
                "role {id} cannot be granted on a {what}"
            )));
        }
        return Ok(role.bits());
    }
    let role = roles::role_by_id(id)
        .ok_or_else(|| GraphError::InvalidRequest(format!("unknown role {id}")))?;
    let bits = match role {
        Role::Viewer => READ,
        Role::Editor => READ | UPDATE | CREATE | DELETE,
        Role::Manager => ALL,
    };
    Ok(if folder {
        bits
    } else {
        bits & !(CREATE | DELETE)
    })
}

/// A share or link as its Graph permission, the answer of every handler that changes one.
async fn answer(
    state: &AppState,
    headers: &http::HeaderMap,
    share: &Share,
) -> Result<Response, GraphError> {
    let base = crate::http::base_url(state, headers);
    Ok(Json(permission(state, &base, share).await?).into_response())
}

/// The Graph permission of a share or link.
pub async fn permission(state: &AppState, base: &str, share: &Share) -> Result<Value, GraphError> {
    let store = state.store();
    let mut p = json!({
        "id": share.uid.to_string(),
        "createdDateTime": rfc3339(Mtime(share.created_at)),
    });
    if let Some(e) = share.expires_at {
        p["expirationDateTime"] = json!(rfc3339(Mtime(e)));
    }
    match (share.kind, share.grantee) {
        (ShareKind::Link, _) => {
            p["hasPassword"] = json!(share.password_hash.is_some());
            p["link"] = json!({
                "type": link_type(share.permissions),
                "webUrl": format!("{base}/s/{}", share.token.clone().unwrap_or_default()),
                "@libre.graph.displayName": share.name.clone().unwrap_or_default(),
                "@libre.graph.quickLink": false,
                "preventsDownload": false,
            });
        }
        (kind, Some(id)) => {
            let identity = if kind == ShareKind::User {
                let u = store.user(UserId(id)).await?;
                json!({"user": {"id": u.id.to_string(), "displayName": u.display_name,
                    "@libre.graph.userType": "Member"}})
            } else {
                let g = store.group(id).await?;
                json!({"group": {"id": g.id.to_string(), "displayName": g.display_name}})
            };
            let by = store.user(share.created_by).await?;
            let folder = store.node(share.node).await?.is_folder();
            // A role when the bits are one; otherwise the actions, which Web reads instead.
            match ItemRole::of_bits(share.permissions, folder) {
                Some(r) => p["roles"] = json!([r.id()]),
                None => {
                    p["roles"] = json!([]);
                    p["@libre.graph.permissions.actions"] =
                        json!(item_roles::actions(share.permissions));
                }
            }
            p["grantedToV2"] = identity;
            p["invitation"] = json!({"invitedBy": {"user": {
                "id": by.id.to_string(), "displayName": by.display_name}}});
        }
        (_, None) => {}
    }
    Ok(p)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkBody {
    #[serde(rename = "type")]
    kind: String,
    password: Option<String>,
    expiration_date_time: Option<String>,
    display_name: Option<String>,
}

fn expiry(v: Option<&str>) -> Result<Option<i64>, GraphError> {
    v.filter(|v| !v.is_empty())
        .map(|v| parse_expiry(v).map_err(GraphError::InvalidRequest))
        .transpose()
}

pub(super) async fn create_link(
    State(state): State<AppState>,
    p: Principal,
    headers: http::HeaderMap,
    Path((sid, rid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, GraphError> {
    let (node, b, bits) = grant(&state, &p, (&sid, &rid), &body, |b: &LinkBody, folder| {
        link_bits(&b.kind, folder)
    })
    .await?;
    let password = b.password.filter(|p| !p.is_empty());
    let policy = &state.config().sharing;
    policy::link_password(policy, bits, password.is_some()).map_err(GraphError::InvalidRequest)?;
    let expires_at = policy::link_expiry(
        policy,
        expiry(b.expiration_date_time.as_deref())?,
        true,
        state.clock().now_ns(),
    )
    .map_err(GraphError::InvalidRequest)?;
    let share = state
        .store()
        .create_share(NewShare {
            kind: ShareKind::Link,
            node: node.id,
            space: node.space,
            created_by: p.user.id,
            grantee: None,
            permissions: bits,
            token: Some(crate::sharing::new_token()),
            name: b.display_name,
            password_hash: password.map(|p| hash_password(&p)),
            expires_at,
        })
        .await?;
    answer(&state, &headers, &share).await
}

#[derive(Deserialize)]
struct Recipient {
    #[serde(rename = "objectId")]
    object_id: String,
    #[serde(rename = "@libre.graph.recipient.type", default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InviteBody {
    recipients: Vec<Recipient>,
    roles: Vec<String>,
    expiration_date_time: Option<String>,
}

pub(super) async fn invite(
    State(state): State<AppState>,
    p: Principal,
    headers: http::HeaderMap,
    Path((sid, rid)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, GraphError> {
    let (node, b, bits) = grant(&state, &p, (&sid, &rid), &body, |b: &InviteBody, folder| {
        role_bits(b.roles.first(), folder)
    })
    .await?;
    if b.recipients.is_empty() {
        return Err(GraphError::InvalidRequest("no recipients".into()));
    }
    let expires_at = policy::share_expiry(
        &state.config().sharing,
        expiry(b.expiration_date_time.as_deref())?,
        true,
        state.clock().now_ns(),
    )
    .map_err(GraphError::InvalidRequest)?;
    let store = state.store();
    let base = crate::http::base_url(&state, &headers);
    let mut out = Vec::new();
    for r in &b.recipients {
        let id = Uuid::parse_str(&r.object_id)
            .map_err(|_| GraphError::InvalidRequest("recipient id".into()))?;
        let kind = if r.kind.as_deref() == Some("group") {
            store
                .group(id)
                .await
                .map_err(|_| GraphError::ItemNotFound)?;
            ShareKind::Group
        } else {
            store
                .user(UserId(id))
                .await
                .map_err(|_| GraphError::ItemNotFound)?;
            if UserId(id) == p.user.id {
                return Err(GraphError::InvalidRequest(
                    "cannot share with yourself".into(),
                ));
            }
            ShareKind::User
        };
        let share = store
            .create_share(NewShare {
                kind,
                node: node.id,
                space: node.space,
                created_by: p.user.id,
                grantee: Some(id),
                permissions: bits,
                token: None,
                name: None,
                password_hash: None,
                expires_at,
            })
            .await?;
        out.push(permission(&state, &base, &share).await?);
    }
    Ok(Json(json!({ "value": out })).into_response())
}

pub(super) async fn list(
    State(state): State<AppState>,
    p: Principal,
    headers: http::HeaderMap,
    Path((sid, rid)): Path<(String, String)>,
) -> Result<Response, GraphError> {
    let (node, mine) = item(&state, p.user.id, &sid, &rid).await?;
    let base = crate::http::base_url(&state, &headers);
    let mut value = Vec::new();
    for share in state.store().shares_on(node.id).await? {
        value.push(permission(&state, &base, &share).await?);
    }
    // What the requester may hand out here: the role picker Web shows.
    Ok(Json(json!({
        "value": value,
        "@libre.graph.permissions.roles.allowedValues": item_roles::grantable(mine, node.is_folder()),
        "@libre.graph.permissions.actions.allowedValues": item_roles::actions(mine),
    }))
    .into_response())
}

pub(super) async fn one(
    State(state): State<AppState>,
    p: Principal,
    headers: http::HeaderMap,
    Path((sid, rid, pid)): Path<(String, String, String)>,
) -> Result<Response, GraphError> {
    let (_, _, share) = owned(&state, &p, &sid, &rid, &pid).await?;
    answer(&state, &headers, &share).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchBody {
    roles: Option<Vec<String>>,
    link: Option<PatchLink>,
    expiration_date_time: Option<Option<String>>,
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct PatchLink {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(rename = "@libre.graph.displayName")]
    display_name: Option<String>,
}

pub(super) async fn update(
    State(state): State<AppState>,
    p: Principal,
    headers: http::HeaderMap,
    Path((sid, rid, pid)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, GraphError> {
    let (node, mine, share) = owned(&state, &p, &sid, &rid, &pid).await?;
    let b: PatchBody = parse_body(&body)?;
    let mut change = ShareUpdate::default();
    let bits = match (&b.roles, &b.link) {
        (Some(r), _) if share.kind != ShareKind::Link => {
            Some(role_bits(r.first(), node.is_folder())?)
        }
        (_, Some(PatchLink { kind: Some(k), .. })) if share.kind == ShareKind::Link => {
            Some(link_bits(k, node.is_folder())?)
        }
        _ => None,
    };
    if let Some(bits) = bits {
        may_grant(&node, mine, bits)?;
        change.permissions = Some(bits);
    }
    if let Some(e) = b.expiration_date_time {
        change.expires_at = Some(expiry(e.as_deref())?);
    }
    change.name = b.display_name.or(b.link.and_then(|l| l.display_name));
    policy_allows(&state, &share, &change)?;
    let share = state.store().update_share(share.id, change).await?;
    answer(&state, &headers, &share).await
}

/// The sharing policy's verdict on a change, in Graph's terms.
fn policy_allows(state: &AppState, share: &Share, change: &ShareUpdate) -> Result<(), GraphError> {
    crate::sharing::ocs::check_update(state, share, change).map_err(|e| match e {
        crate::ocs::OcsError::Invalid(m) => GraphError::InvalidRequest(m),
        other => GraphError::Internal(other.to_string()),
    })
}

#[derive(Deserialize)]
struct PasswordBody {
    password: String,
}

pub(super) async fn set_password(
    State(state): State<AppState>,
    p: Principal,
    headers: http::HeaderMap,
    Path((sid, rid, pid)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, GraphError> {
    let (_, _, share) = owned(&state, &p, &sid, &rid, &pid).await?;
    if share.kind != ShareKind::Link {
        return Err(GraphError::InvalidRequest(
            "only links have passwords".into(),
        ));
    }
    let b: PasswordBody = parse_body(&body)?;
    let change = ShareUpdate {
        password_hash: Some((!b.password.is_empty()).then(|| hash_password(&b.password))),
        ..Default::default()
    };
    policy_allows(&state, &share, &change)?;
    let share = state.store().update_share(share.id, change).await?;
    answer(&state, &headers, &share).await
}

pub(super) async fn remove(
    State(state): State<AppState>,
    p: Principal,
    Path((sid, rid, pid)): Path<(String, String, String)>,
) -> Result<Response, GraphError> {
    let (_, _, share) = owned(&state, &p, &sid, &rid, &pid).await?;
    state.store().delete_share(share.id).await?;
    Ok(http::StatusCode::NO_CONTENT.into_response())
}
