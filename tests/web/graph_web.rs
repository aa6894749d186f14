//! What ownCloud Web calls on Graph after sign-in (issue 10 item 5): `/me`, users and groups,
//! role definitions, drives with members, filters and order, space management, members, and
//! Graph's error body for unknown paths.

use reqwest::Method;
use serde_json::{Value, json};
use spacedav::spaces::{NewSpace, Role};

use crate::common::{ADMIN_PASSWORD, TestServer};

const EDITOR_ROLE: &str = "58c63c02-1d89-4572-916a-870abc5a1b7d";
const VIEWER_ROLE: &str = "a8d5fe5e-96e3-418d-825b-534dbdf22b99";
const MANAGER_ROLE: &str = "312c0871-5ef7-4b3a-85b6-0e4074c64049";

async fn call(
    srv: &TestServer,
    method: Method,
    path: &str,
    who: (&str, &str),
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = srv
        .client()
        .request(method, srv.url(path))
        .basic_auth(who.0, Some(who.1));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

const ADMIN: (&str, &str) = ("admin", ADMIN_PASSWORD);

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
    let roles = v.as_array().expect("a bare array");
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

#[tokio::test]
async fn drives_filter_by_type_order_by_name_and_carry_their_members() {
    let srv = TestServer::start().await;
    let alice = srv.add_user("alice", "pw").await;
    let store = srv.state.store();
    let admin = store.user_by_name("admin").await.unwrap();
    for name in ["Zeta", "Alpha"] {
        let s = store
            .create_project_space(NewSpace {
                name: name.into(),
                alias: None,
                quota: None,
                owner: admin.id,
            })
            .await
            .unwrap();
        store
            .set_member(s.id.space, alice.id, Some(Role::Viewer))
            .await
            .unwrap();
    }
    let alice_pw = ("alice", "pw");
    let (s, v) = call(
        &srv,
        Method::GET,
        "/graph/v1beta1/me/drives?%24orderby=name+asc&%24filter=driveType+eq+project",
        alice_pw,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let drives = v["value"].as_array().unwrap();
    let names: Vec<_> = drives.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Alpha", "Zeta"]);
    let perms = drives[0]["root"]["permissions"].as_array().unwrap();
    let alice_perm = perms
        .iter()
        .find(|p| p["grantedToV2"]["user"]["id"] == alice.id.to_string())
        .expect("alice is a member");
    assert_eq!(alice_perm["roles"], json!([VIEWER_ROLE]));
    let (_, v) = call(
        &srv,
        Method::GET,
        "/graph/v1.0/me/drives?$filter=driveType eq 'personal'",
        alice_pw,
        None,
    )
    .await;
    let personal = v["value"].as_array().unwrap();
    assert_eq!(personal.len(), 1);
    assert_eq!(
        personal[0]["root"]["permissions"][0]["roles"],
        json!([MANAGER_ROLE])
    );
    let (_, v) = call(
        &srv,
        Method::GET,
        "/graph/v1.0/me/drives?$orderby=name desc",
        alice_pw,
        None,
    )
    .await;
    assert_eq!(v["value"][0]["name"], "Zeta");
    let (s, e) = call(
        &srv,
        Method::GET,
        "/graph/v1.0/me/drives?$filter=name eq 'x'",
        alice_pw,
        None,
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].clone()),
        (400, json!("invalidRequest"))
    );
}

#[tokio::test]
async fn a_group_grant_gives_its_members_the_role_over_webdav_and_graph() {
    let srv = TestServer::start().await;
    let bob = srv.add_user("bob", "pw").await;
    let store = srv.state.store();
    let admin = store.user_by_name("admin").await.unwrap();
    let team = store
        .create_project_space(NewSpace {
            name: "Team".into(),
            alias: None,
            quota: None,
            owner: admin.id,
        })
        .await
        .unwrap();
    let g = store.create_group("writers", "Writers").await.unwrap();
    store
        .set_group_grant(team.id.space, g.id, Some(Role::Viewer))
        .await
        .unwrap();
    let url = format!("{}/dav/spaces/{}/note.txt", srv.base, team.id);
    let put = || {
        srv.client()
            .put(&url)
            .basic_auth("bob", Some("pw"))
            .body("hi")
            .send()
    };
    assert_eq!(put().await.unwrap().status(), 404, "not a member yet");
    store.set_group_member(g.id, bob.id, true).await.unwrap();
    assert_eq!(
        put().await.unwrap().status(),
        403,
        "a viewer through the group"
    );
    store
        .set_group_grant(team.id.space, g.id, Some(Role::Editor))
        .await
        .unwrap();
    assert_eq!(
        put().await.unwrap().status(),
        201,
        "an editor through the group"
    );
    let (_, v) = call(
        &srv,
        Method::GET,
        &format!("/graph/v1beta1/drives/{}/root/permissions", team.id),
        ("bob", "pw"),
        None,
    )
    .await;
    let group_perm = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["grantedToV2"]["group"]["id"] == g.id.to_string())
        .expect("the group's permission");
    assert_eq!(group_perm["roles"], json!([EDITOR_ROLE]));
    assert_eq!(
        v["@libre.graph.permissions.roles.allowedValues"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn admins_create_rename_disable_and_purge_project_spaces() {
    let srv = TestServer::start().await;
    srv.add_user("carol", "pw").await;
    let body = json!({"name": "Marketing", "driveType": "project", "description": "Campaigns", "quota": {"total": 1000}});
    assert_eq!(
        call(
            &srv,
            Method::POST,
            "/graph/v1.0/drives",
            ("carol", "pw"),
            Some(body.clone())
        )
        .await
        .0,
        403
    );
    let (s, d) = call(&srv, Method::POST, "/graph/v1.0/drives", ADMIN, Some(body)).await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(
        (
            d["name"].clone(),
            d["description"].clone(),
            d["quota"]["total"].clone()
        ),
        (json!("Marketing"), json!("Campaigns"), json!(1000))
    );
    let id = d["id"].as_str().unwrap().to_string();
    let path = format!("/graph/v1.0/drives/{id}");
    let (s, d) = call(
        &srv,
        Method::PATCH,
        &path,
        ADMIN,
        Some(json!({"name": "Sales", "description": ""})),
    )
    .await;
    assert_eq!(
        (s, d["name"].clone(), d["description"].clone()),
        (200, json!("Sales"), json!(""))
    );
    let (s, e) = call(
        &srv,
        Method::PATCH,
        &path,
        ADMIN,
        Some(json!({"name": "a/b"})),
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].clone()),
        (400, json!("invalidRequest"))
    );

    let purge = |srv: &TestServer| {
        srv.client()
            .delete(srv.url(&path))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .header("Purge", "T")
            .send()
    };
    assert_eq!(
        purge(&srv).await.unwrap().status(),
        400,
        "an enabled space is not purged"
    );
    assert_eq!(call(&srv, Method::DELETE, &path, ADMIN, None).await.0, 204);
    let (_, d) = call(&srv, Method::GET, &path, ADMIN, None).await;
    assert_eq!(d["root"]["deleted"]["state"], "trashed");
    let dav = format!("{}/dav/spaces/{id}", srv.base);
    let propfind = srv
        .client()
        .request(Method::from_bytes(b"PROPFIND").unwrap(), &dav)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(propfind.status(), 404, "a disabled space has no content");
    let restore = srv
        .client()
        .patch(srv.url(&path))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .header("Restore", "true")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(restore.status(), 200);
    assert_eq!(call(&srv, Method::DELETE, &path, ADMIN, None).await.0, 204);
    assert_eq!(purge(&srv).await.unwrap().status(), 204);
    assert_eq!(call(&srv, Method::GET, &path, ADMIN, None).await.0, 404);
}

#[tokio::test]
async fn managers_invite_change_and_remove_members_and_others_may_not() {
    let srv = TestServer::start().await;
    let dan = srv.add_user("dan", "pw").await;
    let eve = srv.add_user("eve", "pw").await;
    let store = srv.state.store();
    let admin = store.user_by_name("admin").await.unwrap();
    let team = store
        .create_project_space(NewSpace {
            name: "Team".into(),
            alias: None,
            quota: None,
            owner: admin.id,
        })
        .await
        .unwrap();
    let base = format!("/graph/v1beta1/drives/{}/root", team.id);
    let invite = |who: &str, role: &str| json!({"roles": [role], "recipients": [{"objectId": who, "@libre.graph.recipient.type": "user"}]});
    let (s, v) = call(
        &srv,
        Method::POST,
        &format!("{base}/invite"),
        ADMIN,
        Some(invite(&dan.id.to_string(), VIEWER_ROLE)),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let pid = v["value"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(pid, format!("u:{}", dan.id));
    // A viewer may not invite.
    let (s, _) = call(
        &srv,
        Method::POST,
        &format!("{base}/invite"),
        ("dan", "pw"),
        Some(invite(&eve.id.to_string(), VIEWER_ROLE)),
    )
    .await;
    assert_eq!(s, 403);
    // Nobody outside the space learns it exists.
    assert_eq!(
        call(
            &srv,
            Method::GET,
            &format!("{base}/permissions"),
            ("eve", "pw"),
            None
        )
        .await
        .0,
        404
    );
    let (s, e) = call(
        &srv,
        Method::POST,
        &format!("{base}/invite"),
        ADMIN,
        Some(invite(&dan.id.to_string(), "no-such-role")),
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].clone()),
        (400, json!("invalidRequest"))
    );
    let (s, p) = call(
        &srv,
        Method::PATCH,
        &format!("{base}/permissions/{pid}"),
        ADMIN,
        Some(json!({"roles": [EDITOR_ROLE]})),
    )
    .await;
    assert_eq!((s, p["roles"].clone()), (200, json!([EDITOR_ROLE])));
    assert_eq!(
        store.role(team.id.space, dan.id).await.unwrap(),
        Some(Role::Editor)
    );
    assert_eq!(
        call(
            &srv,
            Method::DELETE,
            &format!("{base}/permissions/{pid}"),
            ADMIN,
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(store.role(team.id.space, dan.id).await.unwrap(), None);
}

#[tokio::test]
async fn unknown_graph_paths_answer_graphs_json_error() {
    let srv = TestServer::start().await;
    for path in ["/graph/v1.0/nothing", "/graph/v2/me", "/graph"] {
        let (s, v) = call(&srv, Method::GET, path, ADMIN, None).await;
        assert_eq!(
            (s, v["error"]["code"].clone()),
            (404, json!("itemNotFound")),
            "{path}"
        );
    }
}
