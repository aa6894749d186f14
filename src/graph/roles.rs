//! Space roles as Graph's unified role definitions (oCIS's ids, so that Web's role pickers and
//! `root.permissions[].roles` line up), and the actions each allows. Web decides from these
//! whether a member may upload (`libre.graph/driveItem/upload/create`) or manage members
//! (`…/permissions/delete`). research/web-and-oidc.md §4 "Members / upload rights".

use axum::Json;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::GraphError;
use super::item_roles::{ALL_ITEM_ROLES, ItemRole};
use crate::auth::Principal;
use crate::spaces::Role;

/// The condition that marks a role as one for a whole space.
pub const SPACE_CONDITION: &str = "exists @Resource.Root";

const READ: &[&str] = &[
    "libre.graph/driveItem/path/read",
    "libre.graph/driveItem/quota/read",
    "libre.graph/driveItem/content/read",
    "libre.graph/driveItem/children/read",
    "libre.graph/driveItem/basic/read",
];
const WRITE: &[&str] = &[
    "libre.graph/driveItem/upload/create",
    "libre.graph/driveItem/path/update",
    "libre.graph/driveItem/children/create",
    "libre.graph/driveItem/standard/delete",
    "libre.graph/driveItem/versions/read",
    "libre.graph/driveItem/versions/update",
];
const MANAGE: &[&str] = &[
    "libre.graph/driveItem/permissions/create",
    "libre.graph/driveItem/permissions/read",
    "libre.graph/driveItem/permissions/update",
    "libre.graph/driveItem/permissions/delete",
];

/// oCIS's id of a space role.
pub fn role_id(role: Role) -> &'static str {
    match role {
        Role::Viewer => "a8d5fe5e-96e3-418d-825b-534dbdf22b99",
        Role::Editor => "58c63c02-1d89-4572-916a-870abc5a1b7d",
        Role::Manager => "312c0871-5ef7-4b3a-85b6-0e4074c64049",
    }
}

/// The space role with this id.
pub fn role_by_id(id: &str) -> Option<Role> {
    [Role::Viewer, Role::Editor, Role::Manager]
        .into_iter()
        .find(|r| role_id(*r) == id)
}

/// What a role may do.
pub fn actions(role: Role) -> Vec<&'static str> {
    let mut a = READ.to_vec();
    if role >= Role::Editor {
        a.extend_from_slice(WRITE);
    }
    if role >= Role::Manager {
        a.extend_from_slice(MANAGE);
    }
    a
}

/// The unified role definition of a space role.
pub fn definition(role: Role) -> Value {
    let (name, description, weight) = match role {
        Role::Viewer => ("Can view", "View and download.", 1),
        Role::Editor => (
            "Can edit",
            "View, download, upload, edit, add and delete.",
            2,
        ),
        Role::Manager => (
            "Can manage",
            "View, download, upload, edit, add, delete and manage members.",
            3,
        ),
    };
    json!({
        "id": role_id(role),
        "displayName": name,
        "description": description,
        "@libre.graph.weight": weight,
        "rolePermissions": [{
            "allowedResourceActions": actions(role),
            "condition": SPACE_CONDITION,
        }],
    })
}

/// Every space role definition, weakest first.
pub fn definitions() -> Vec<Value> {
    [Role::Viewer, Role::Editor, Role::Manager]
        .into_iter()
        .map(definition)
        .collect()
}

/// Every role definition: the space roles, then the roles for sharing files and folders
/// ([`super::item_roles`]), as oCIS lists them together.
pub fn all_definitions() -> Vec<Value> {
    let mut all = definitions();
    all.extend(ALL_ITEM_ROLES.into_iter().map(ItemRole::definition));
    all
}

/// `GET /graph/v1beta1/roleManagement/permissions/roleDefinitions`: a bare array.
pub(super) async fn list(_p: Principal) -> Response {
    Json(all_definitions()).into_response()
}

/// `GET …/roleDefinitions/{id}`.
pub(super) async fn one(_p: Principal, Path(id): Path<String>) -> Result<Response, GraphError> {
    if let Some(role) = ItemRole::by_id(&id) {
        return Ok(Json(role.definition()).into_response());
    }
    let role = role_by_id(&id).ok_or(GraphError::ItemNotFound)?;
    Ok(Json(definition(role)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_editors_and_managers_may_upload_and_only_managers_manage() {
        let up = "libre.graph/driveItem/upload/create";
        let manage = "libre.graph/driveItem/permissions/delete";
        assert!(!actions(Role::Viewer).contains(&up));
        assert!(actions(Role::Editor).contains(&up));
        assert!(!actions(Role::Editor).contains(&manage));
        assert!(actions(Role::Manager).contains(&manage));
        for r in [Role::Viewer, Role::Editor, Role::Manager] {
            assert_eq!(role_by_id(role_id(r)), Some(r));
        }
    }
}
