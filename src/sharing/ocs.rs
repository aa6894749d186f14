//! OCS `files_sharing` (ownCloud 10 / reva shape): `GET|POST /ocs/v{1,2}.php/apps/files_sharing/
//! api/v1/shares` and `GET|PUT|DELETE …/shares/{id}`, share types 0 (user), 1 (group) and 3
//! (public link). Paths are the requester's view: their personal space, and `/Shares/{name}`
//! for what they received. Ids are the integers ownCloud 10 handed out.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use http::{HeaderMap, Uri};

use super::access::{ALL, CREATE, READ, SHARE, UPDATE, role_bits};
use super::dates::parse_expiry;
use super::ocs_view::{element, locate, manages, missing, store_missing};
use super::policy;
use crate::auth::{Principal, authenticate, hash_password};
use crate::ocs::value::Value;
use crate::ocs::{Format, OcsError, OcsVersion, negotiate, ok};
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

type Params = Vec<(String, String)>;

fn params(uri: &Uri, body: &[u8]) -> Params {
    let mut p: Params = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    p.extend(url::form_urlencoded::parse(body).into_owned());
    p
}

fn param<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn flag(p: &Params, name: &str) -> bool {
    param(p, name).is_some_and(|v| v == "true" || v == "1")
}

/// Run `f` for an authenticated OCS request and wrap its answer in the envelope.
async fn envelope<F, Fut>(state: AppState, api: &str, uri: Uri, h: &HeaderMap, f: F) -> Response
where
    F: FnOnce(Principal, OcsVersion, Format) -> Fut,
    Fut: std::future::Future<Output = Result<Value, OcsError>>,
{
    let Some((version, format)) = negotiate(api, &uri) else {
        return http::StatusCode::NOT_FOUND.into_response_ext();
    };
    let principal = match authenticate(&state, h).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return OcsError::from(crate::auth::AuthError::Missing).respond(version, format);
        }
        Err(e) => return OcsError::from(e).respond(version, format),
    };
    match f(principal, version, format).await {
        Ok(v) => ok(version, format, v),
        Err(e) => e.respond(version, format),
    }
}

trait IntoResponseExt {
    fn into_response_ext(self) -> Response;
}
impl IntoResponseExt for http::StatusCode {
    fn into_response_ext(self) -> Response {
        axum::response::IntoResponse::into_response(self)
    }
}

async fn list(
    State(state): State<AppState>,
    Path(api): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let base = crate::http::base_url(&state, &headers);
    envelope(
        state.clone(),
        &api,
        uri.clone(),
        &headers,
        |p, _, _| async move {
            let q = params(&uri, &[]);
            let me = p.user.id;
            let store = state.store();
            let shares = if flag(&q, "shared_with_me") {
                store.shares_received(me).await?
            } else if let Some(path) = param(&q, "path") {
                let at = locate(&state, me, path).await?;
                let all = flag(&q, "reshares");
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
                items.push(element(&state, &base, me, sh).await?);
            }
            Ok(Value::List(items))
        },
    )
    .await
}

/// The bits a new share asks for.
fn requested_bits(q: &Params, kind: ShareKind, folder: bool) -> Result<u32, OcsError> {
    let bits = match param(q, "permissions").filter(|v| !v.is_empty()) {
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|b| (1..=ALL).contains(b))
            .ok_or_else(|| OcsError::Invalid(format!("invalid permissions {v}")))?,
        None if kind == ShareKind::Link && flag(q, "publicUpload") => {
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

async fn create(
    State(state): State<AppState>,
    Path(api): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let base = crate::http::base_url(&state, &headers);
    envelope(
        state.clone(),
        &api,
        uri.clone(),
        &headers,
        |p, _, _| async move {
            let q = params(&uri, &body);
            let me = p.user.id;
            let store = state.store();
            let kind = match param(&q, "shareType") {
                Some("0") => ShareKind::User,
                Some("1") => ShareKind::Group,
                Some("3") => ShareKind::Link,
                Some(other) => {
                    return Err(OcsError::Invalid(format!("unknown share type {other}")));
                }
                None => return Err(OcsError::Invalid("shareType is required".into())),
            };
            let path =
                param(&q, "path").ok_or_else(|| OcsError::Invalid("path is required".into()))?;
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
            let bits = requested_bits(&q, kind, at.node.is_folder())?;
            if bits & !at.bits != 0 {
                return Err(OcsError::Forbidden(
                    "cannot grant more permissions than you have".into(),
                ));
            }
            let with = param(&q, "shareWith").unwrap_or("");
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
            let password =
                param(&q, "password").filter(|p| !p.is_empty() && kind == ShareKind::Link);
            let expires_at = match param(&q, "expireDate").filter(|v| !v.is_empty()) {
                Some(v) => Some(parse_expiry(v).map_err(OcsError::Invalid)?),
                None => None,
            };
            let policy = &state.config().sharing;
            let now = state.clock().now_ns();
            let expires_at = if kind == ShareKind::Link {
                policy::link_password(policy, bits, password.is_some())
                    .map_err(OcsError::Invalid)?;
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
                    name: param(&q, "name").map(str::to_string),
                    password_hash: password.map(hash_password),
                    expires_at,
                })
                .await?;
            element(&state, &base, me, &share).await
        },
    )
    .await
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
    Path((api, id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let base = crate::http::base_url(&state, &headers);
    envelope(
        state.clone(),
        &api,
        uri.clone(),
        &headers,
        |p, _, _| async move {
            let share = find(&state, p.user.id, &id).await?;
            Ok(Value::List(vec![
                element(&state, &base, p.user.id, &share).await?,
            ]))
        },
    )
    .await
}

async fn update(
    State(state): State<AppState>,
    Path((api, id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let base = crate::http::base_url(&state, &headers);
    envelope(
        state.clone(),
        &api,
        uri.clone(),
        &headers,
        |p, _, _| async move {
            let me = p.user.id;
            let share = find(&state, me, &id).await?;
            if !manages(&state, me, &share).await? {
                return Err(OcsError::Forbidden(
                    "only the sharer may change a share".into(),
                ));
            }
            let q = params(&uri, &body);
            let node = state.store().node(share.node).await?;
            let mut change = ShareUpdate::default();
            if param(&q, "permissions").is_some() || param(&q, "publicUpload").is_some() {
                let bits = requested_bits(&q, share.kind, node.is_folder())?;
                let mine = sharer_bits(&state, me, &node).await?;
                if bits & !mine != 0 {
                    return Err(OcsError::Forbidden(
                        "cannot grant more permissions than you have".into(),
                    ));
                }
                change.permissions = Some(bits);
            }
            if let Some(n) = param(&q, "name") {
                change.name = Some(n.to_string());
            }
            if share.kind == ShareKind::Link
                && let Some(pw) = param(&q, "password")
            {
                change.password_hash = Some((!pw.is_empty()).then(|| hash_password(pw)));
            }
            if let Some(v) = param(&q, "expireDate") {
                change.expires_at = Some(if v.is_empty() {
                    None
                } else {
                    Some(parse_expiry(v).map_err(OcsError::Invalid)?)
                });
            }
            check_update(&state, &share, &change)?;
            let share = state.store().update_share(share.id, change).await?;
            element(&state, &base, me, &share).await
        },
    )
    .await
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
    Path((api, id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    envelope(
        state.clone(),
        &api,
        uri.clone(),
        &headers,
        |p, _, _| async move {
            let share = find(&state, p.user.id, &id).await?;
            if !manages(&state, p.user.id, &share).await? {
                return Err(OcsError::Forbidden(
                    "only the sharer may delete a share".into(),
                ));
            }
            state.store().delete_share(share.id).await?;
            Ok(Value::List(vec![]))
        },
    )
    .await
}
