//! What ownCloud Web calls on Graph about people (issue 10 item 5): `/me`, users and groups
//! searched by the member dialogs, and the space role definitions.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::TestServer;
use crate::graph_support::*;

#[tokio::test]
async fn me_lists_the_user_with_groups_and_change_password_checks_the_old_one() {
    let srv = TestServer::start().await;
    let alice = srv.add_user("alice", "old-pw").await;
    let store = srv.state.store();
    let g = store.create_group("staff", "Staff").await.unwrap();
    store.set_group_member(g.id, alice.id, true).await.unwrap();
    let (s, me) = call(
        &srv,
        Method::GET,
        "/graph/v1.0/me?%24expand=memberOf",
        ("alice", "old-pw"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(me["id"], alice.id.to_string());
    assert_eq!(me["onPremisesSamAccountName"], "alice");
    assert_eq!(me["mail"], "alice@example.org");
    assert_eq!(me["memberOf"][0]["id"], g.id.to_string());
    assert_eq!(me["memberOf"][0]["displayName"], "Staff");

    let wrong = json!({"currentPassword": "nope", "newPassword": "new-pw"});
    let (s, e) = call(
        &srv,
        Method::POST,
        "/graph/v1.0/me/changePassword",
        ("alice", "old-pw"),
        Some(wrong),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(e["error"]["code"], "invalidRequest");
    let right = json!({"currentPassword": "old-pw", "newPassword": "new-pw"});
    let (s, _) = call(
        &srv,
        Method::POST,
        "/graph/v1.0/me/changePassword",
        ("alice", "old-pw"),
        Some(right),
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(
        call(
            &srv,
            Method::GET,
            "/graph/v1.0/me",
            ("alice", "old-pw"),
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(
        call(
            &srv,
            Method::GET,
            "/graph/v1.0/me",
            ("alice", "new-pw"),
            None
        )
        .await
        .0,
        200
    );

    let lang = json!({"preferredLanguage": "de"});
    let (s, me) = call(
        &srv,
        Method::PATCH,
        "/graph/v1.0/me",
        ("alice", "new-pw"),
        Some(lang),
    )
    .await;
    assert_eq!((s, me["preferredLanguage"].clone()), (200, json!("de")));
}

#[tokio::test]
async fn users_and_groups_are_searchable_as_the_share_dialog_searches() {
    let srv = TestServer::start().await;
    srv.add_user("alice", "pw").await;
    srv.add_user("albert", "pw").await;
    srv.add_user("bob", "pw").await;
    srv.state
        .store()
        .create_group("alpine-club", "Alpine Club")
        .await
        .unwrap();
    srv.state.store().create_group("bakers", "").await.unwrap();
    let bob = ("bob", "pw");
    let (s, v) = call(
        &srv,
        Method::GET,
        "/graph/v1.0/users?%24search=%22al%22&%24orderby=displayName",
        bob,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let names: Vec<_> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["onPremisesSamAccountName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["albert", "alice"]);
    let (s, v) = call(
        &srv,
        Method::GET,
        "/graph/v1.0/users?$filter=(userType eq 'Federated')",
        bob,
        None,
    )
    .await;
    assert_eq!((s, v["value"].as_array().unwrap().len()), (200, 0));
    assert_eq!(
        call(&srv, Method::GET, "/graph/v1.0/users", bob, None)
            .await
            .0,
        403
    );
    let (s, v) = call(&srv, Method::GET, "/graph/v1.0/users", ADMIN, None).await;
    assert_eq!((s, v["value"].as_array().unwrap().len()), (200, 4));
    let (s, v) = call(
        &srv,
        Method::GET,
        "/graph/v1.0/groups?%24search=%22alp%22",
        bob,
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["value"][0]["displayName"], "Alpine Club");
    assert_eq!(v["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn role_definitions_are_a_bare_array_of_space_roles() {
    let srv = TestServer::start().await;
    let (s, v) = call(
        &srv,
        Method::GET,
        "/graph/v1beta1/roleManagement/permissions/roleDefinitions",
        ADMIN,
        None,
    )
    .await;
    assert_eq!(s, 200);
    // The space roles first; the roles for files and folders follow (tests/sharing/roles.rs).
    let roles = &v.as_array().expect("a bare array")[..3];
    let ids: Vec<_> = roles.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [VIEWER_ROLE, EDITOR_ROLE, MANAGER_ROLE]);
    for r in roles {
        assert_eq!(
            r["rolePermissions"][0]["condition"],
            "exists @Resource.Root"
        );
    }
    let can_upload = |r: &Value| {
        r["rolePermissions"][0]["allowedResourceActions"]
            .as_array()
            .unwrap()
            .contains(&json!("libre.graph/driveItem/upload/create"))
    };
    assert!(!can_upload(&roles[0]) && can_upload(&roles[1]) && can_upload(&roles[2]));
}
