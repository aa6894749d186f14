//! OCS `files_sharing` (ownCloud 10 / reva shape): `GET|POST /ocs/v{1,2}.php/apps/files_sharing/
//! api/v1/shares` and `GET|PUT|DELETE …/shares/{id}`, share types 0 (user), 1 (group) and 3
//! (public link). Paths are the requester's view: their personal space, and `/Shares/{name}`
//! for what they received. Ids are the integers ownCloud 10 handed out.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::access::{ALL, CREATE, READ, SHARE, UPDATE, role_bits};
use super::dates::parse_expiry;
use super::ocs_view::{element, locate, manages, missing, store_missing};
use super::policy;
use crate::auth::hash_password;
use crate::ocs::value::Value;
use crate::ocs::{OcsError, OcsRequest};
use crate::spaces::{NewShare, Node, Share, ShareKind, ShareUpdate, UserId};
use crate::state::AppState;

const BASE: &str = "/ocs/{api}/apps/files_sharing/api/v1/shares";

/// The share routes.
pub fn routes() -> Router<AppState> {
    Router::new().route(BASE, get(list).post(create)).route(
        &format!("{BASE}/{{id}}"),
        get(one).put(update).delete(remove),
    )
}

async fn list(State(state): State<AppState>, req: OcsRequest) -> Response {
    let (p, base) = (&req.principal, &req.base);
    let result: Result<Value, OcsError> = async {
        let me = p.user.id;
        let store = state.store();
        let shares = if req.flag("shared_with_me") {
            store.shares_received(me).await?
        } else if let Some(path) = req.param("path") {
            let at = locate(&state, me, path).await?;
            let all = req.flag("reshares");
            let mut out = Vec::new();
            for sh in store.shares_on(at.node.id).await? {
                if sh.created_by == me || (all && manages(&state, me, &sh).await?) {
                    out.push(sh);
                }
            }
            out
        } else {
            store.shares_by(me).await?
        };
        let now = state.clock().now_ns();
        let mut items = Vec::new();
        for sh in shares
            .iter()
            .filter(|s| !s.expired(now) || s.created_by == me)
        {
            items.push(element(&state, base, me, sh).await?);
        }
        Ok(Value::List(items))
    }
    .await;
    req.answer(result)
}

/// The bits a new share asks for.
fn requested_bits(req: &OcsRequest, kind: ShareKind, folder: bool) -> Result<u32, OcsError> {
    let bits = match req.param("permissions").filter(|v| !v.is_empty()) {
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|b| (1..=ALL).contains(b))
            .ok_or_else(|| OcsError::Invalid(format!("invalid permissions {v}")))?,
        None if kind == ShareKind::Link && req.flag("publicUpload") => {
            READ | UPDATE | CREATE | super::access::DELETE
        }
        None => READ,
    };
    let bits = if kind == ShareKind::Link {
        bits & !SHARE
    } else {
        bits
    };
    if !folder && bits & (CREATE | super::access::DELETE) != 0 {
        return Err(OcsError::Invalid(
            "a file can only be shared to read or update".into(),
        ));
    }
    if bits == 0 {
        return Err(OcsError::Invalid("no permissions".into()));
    }
    Ok(bits)
}

async fn create(State(state): State<AppState>, req: OcsRequest) -> Response {
    let (p, base) = (&req.principal, &req.base);
    let result: Result<Value, OcsError> = async {
        let me = p.user.id;
        let store = state.store();
        let kind = match req.param("shareType") {
            Some("0") => ShareKind::User,
            Some("1") => ShareKind::Group,
            Some("3") => ShareKind::Link,
            Some(other) => {
                return Err(OcsError::Invalid(format!("unknown share type {other}")));
            }
            None => return Err(OcsError::Invalid("shareType is required".into())),
        };
        let path = req
            .param("path")
            .ok_or_else(|| OcsError::Invalid("path is required".into()))?;
        let at = locate(&state, me, path).await?;
        if at.bits & READ == 0 {
            return Err(missing("path"));
        }
        if at.node.parent.is_none() {
            return Err(OcsError::Forbidden("a space root cannot be shared".into()));
        }
        if at.bits & SHARE == 0 {
            return Err(OcsError::Forbidden("no permission to share this".into()));
        }
        let bits = requested_bits(&req, kind, at.node.is_folder())?;
        if bits & !at.bits != 0 {
            return Err(OcsError::Forbidden(
                "cannot grant more permissions than you have".into(),
            ));
        }
        let with = req.param("shareWith").unwrap_or("");
        let grantee = match kind {
            ShareKind::User => {
                let u = store
                    .user_by_name(with)
                    .await
                    .map_err(store_missing("user"))?;
                if u.id == me {
                    return Err(OcsError::Invalid("cannot share with yourself".into()));
                }
                Some(u.id.0)
            }
            ShareKind::Group => Some(
                store
                    .group_by_name(with)
                    .await
                    .map_err(store_missing("group"))?
                    .id,
            ),
            ShareKind::Link => None,
        };
        let password = req
            .param("password")
            .filter(|p| !p.is_empty() && kind == ShareKind::Link);
        let expires_at = match req.param("expireDate").filter(|v| !v.is_empty()) {
            Some(v) => Some(parse_expiry(v).map_err(OcsError::Invalid)?),
            None => None,
        };
        let policy = &state.config().sharing;
        let now = state.clock().now_ns();
        let expires_at = if kind == ShareKind::Link {
            policy::link_password(policy, bits, password.is_some()).map_err(OcsError::Invalid)?;
            policy::link_expiry(policy, expires_at, true, now)
        } else {
            policy::share_expiry(policy, expires_at, true, now)
        }
        .map_err(OcsError::Invalid)?;
        let share = store
            .create_share(NewShare {
                kind,
                node: at.node.id,
                space: at.space,
                created_by: me,
                grantee,
                permissions: bits,
                token: (kind == ShareKind::Link).then(super::new_token),
                name: req.param("name").map(str::to_string),
                password_hash: password.map(hash_password),
                expires_at,
            })
            .await?;
        element(&state, base, me, &share).await
    }
    .await;
    req.answer(result)
}

async fn find(state: &AppState, me: UserId, id: &str) -> Result<Share, OcsError> {
    let id: i64 = id.parse().map_err(|_| missing("share"))?;
    let share = state
        .store()
        .share(id)
        .await
        .map_err(store_missing("share"))?;
    let received = share.kind != ShareKind::Link
        && state
            .store()
            .shares_received(me)
            .await?
            .iter()
            .any(|s| s.id == share.id);
    if manages(state, me, &share).await? || received {
        Ok(share)
    } else {
        Err(missing("share"))
    }
}

async fn one(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    req: OcsRequest,
) -> Response {
    let (p, base) = (&req.principal, &req.base);
    let result: Result<Value, OcsError> = async {
        let share = find(&state, p.user.id, &id).await?;
        Ok(Value::List(vec![
            element(&state, base, p.user.id, &share).await?,
        ]))
    }
    .await;
    req.answer(result)
}

async fn update(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    req: OcsRequest,
) -> Response {
    let (p, base) = (&req.principal, &req.base);
    let result: Result<Value, OcsError> = async {
        let me = p.user.id;
        let share = find(&state, me, &id).await?;
        if !manages(&state, me, &share).await? {
            return Err(OcsError::Forbidden(
                "only the sharer may change a share".into(),
            ));
        }
        let node = state.store().node(share.node).await?;
        let mut change = ShareUpdate::default();
        if req.param("permissions").is_some() || req.param("publicUpload").is_some() {
            let bits = requested_bits(&req, share.kind, node.is_folder())?;
            let mine = sharer_bits(&state, me, &node).await?;
            if bits & !mine != 0 {
                return Err(OcsError::Forbidden(
                    "cannot grant more permissions than you have".into(),
                ));
            }
            change.permissions = Some(bits);
        }
        if let Some(n) = req.param("name") {
            change.name = Some(n.to_string());
        }
        if share.kind == ShareKind::Link
            && let Some(pw) = req.param("password")
        {
            change.password_hash = Some((!pw.is_empty()).then(|| hash_password(pw)));
        }
        if let Some(v) = req.param("expireDate") {
            change.expires_at = Some(if v.is_empty() {
                None
            } else {
                Some(parse_expiry(v).map_err(OcsError::Invalid)?)
            });
        }
        check_update(&state, &share, &change)?;
        let share = state.store().update_share(share.id, change).await?;
        element(&state, base, me, &share).await
    }
    .await;
    req.answer(result)
}

/// A change must leave the share within the policy: an enforced link password stays, and a
/// new expiry (or its removal) is checked as on creation.
pub(crate) fn check_update(
    state: &AppState,
    share: &Share,
    change: &ShareUpdate,
) -> Result<(), OcsError> {
    let policy = &state.config().sharing;
    let now = state.clock().now_ns();
    if share.kind == ShareKind::Link {
        let bits = change.permissions.unwrap_or(share.permissions);
        let has = change
            .password_hash
            .as_ref()
            .map_or(share.password_hash.is_some(), Option::is_some);
        policy::link_password(policy, bits, has).map_err(OcsError::Invalid)?;
    }
    if let Some(exp) = change.expires_at {
        if share.kind == ShareKind::Link {
            policy::link_expiry(policy, exp, false, now)
        } else {
            policy::share_expiry(policy, exp, false, now)
        }
        .map_err(OcsError::Invalid)?;
    }
    Ok(())
}

/// What `user` may grant on `node`: their role's bits in its space, else what they received.
pub(crate) async fn sharer_bits(
    state: &AppState,
    user: UserId,
    node: &Node,
) -> Result<u32, OcsError> {
    Ok(match state.store().role(node.space, user).await? {
        Some(role) => role_bits(role),
        None => state.store().received_permissions(user, node.id).await?,
    })
}

async fn remove(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    req: OcsRequest,
) -> Response {
    let p = &req.principal;
    let result: Result<Value, OcsError> = async {
        let share = find(&state, p.user.id, &id).await?;
        if !manages(&state, p.user.id, &share).await? {
            return Err(OcsError::Forbidden(
                "only the sharer may delete a share".into(),
            ));
        }
        state.store().delete_share(share.id).await?;
        Ok(Value::List(vec![]))
    }
    .await;
    req.answer(result)
}
