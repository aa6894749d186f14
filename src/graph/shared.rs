//! `GET /graph/v1beta1/me/drive/sharedWithMe` and `…/sharedByMe` (research/web-and-oidc.md
//! §5.6): received shares as drive items in the share jail with the shared item as
//! `remoteItem` (Web opens it at `/dav/spaces/{remoteItem.id}`; built in [`super::share_jail`]),
//! and the items the user shared with their permissions.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::GraphError;
use super::drive_item::item;
use super::item_shares::permission;
use crate::auth::Principal;
use crate::spaces::{Node, Share};
use crate::state::AppState;

/// Shares grouped by their node, oldest share first.
async fn by_node(
    state: &AppState,
    shares: Vec<Share>,
) -> Result<Vec<(Node, Vec<Share>)>, GraphError> {
    let now = state.clock().now_ns();
    let mut groups: BTreeMap<i64, (Node, Vec<Share>)> = BTreeMap::new();
    let mut first: std::collections::HashMap<crate::spaces::NodeId, i64> = Default::default();
    for s in shares.into_iter().filter(|s| !s.expired(now)) {
        let key = *first.entry(s.node).or_insert(s.id);
        if let Some((_, list)) = groups.get_mut(&key) {
            list.push(s);
            continue;
        }
        let node = state.store().node(s.node).await?;
        groups.insert(key, (node, vec![s]));
    }
    Ok(groups.into_values().collect())
}

pub(super) async fn shared_with_me(
    State(state): State<AppState>,
    p: Principal,
    headers: http::HeaderMap,
) -> Result<Response, GraphError> {
    let base = crate::http::base_url(&state, &headers);
    let mut value = Vec::new();
    for m in crate::sharing::mounts::mounts(&state, p.user.id).await? {
        value.push(super::share_jail::received_item(&state, &base, p.user.id, &m).await?);
    }
    Ok(Json(json!({ "value": value })).into_response())
}

pub(super) async fn shared_by_me(
    State(state): State<AppState>,
    p: Principal,
    headers: http::HeaderMap,
) -> Result<Response, GraphError> {
    let base = crate::http::base_url(&state, &headers);
    let mine = state.store().shares_by(p.user.id).await?;
    let mut value = Vec::new();
    for (node, shares) in by_node(&state, mine).await? {
        let mut v = item(&state, &node).await?;
        let mut perms = Vec::new();
        for s in &shares {
            perms.push(permission(&state, &base, s).await?);
        }
        v["permissions"] = json!(perms);
        value.push(v);
    }
    Ok(Json(json!({ "value": value })).into_response())
}
