//! What ownCloud Web calls on Graph about spaces (issue 10 item 5): drives with members,
//! filters and order, group grants, space management, members, and Graph's error body for
//! unknown paths.

use reqwest::Method;
use serde_json::json;
use spacedav::spaces::Role;

use crate::common::{ADMIN_PASSWORD, TestServer};
use crate::graph_support::*;

#[tokio::test]
async fn drives_filter_by_type_order_by_name_and_carry_their_members() {
    let srv = TestServer::start().await;
    let alice = srv.add_user("alice", "pw").await;
    let store = srv.state.store();
    for name in ["Zeta", "Alpha"] {
        let s = srv.project_space(name, None).await;
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
    let team = srv.project_space("Team", None).await;
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
    let (_, mine) = call(
        &srv,
        Method::GET,
        "/graph/v1.0/me/drives?$filter=driveType eq project",
        ("bob", "pw"),
        None,
    )
    .await;
    assert_eq!(mine["value"][0]["id"], team.id.to_string(), "{mine}");
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
    let team = srv.project_space("Team", None).await;
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
