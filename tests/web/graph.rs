//! SPEC §7: Graph drives for personal and project spaces, quota state, visibility.

use serde_json::Value;
use spacedav::spaces::{Checksums, NewContent, Precondition, Role, SpacePath, User};
use uuid::Uuid;

use crate::common::{ADMIN_PASSWORD, TestServer};

async fn get_as(srv: &TestServer, path: &str, user: &str, pw: &str) -> reqwest::Response {
    srv.client()
        .get(srv.url(path))
        .basic_auth(user, Some(pw))
        .send()
        .await
        .unwrap()
}

async fn drives_as(srv: &TestServer, path: &str, user: &str, pw: &str) -> Vec<Value> {
    let res = get_as(srv, path, user, pw).await;
    assert_eq!(res.status(), 200, "{path}");
    let v: Value = res.json().await.unwrap();
    v["value"].as_array().expect("value array").clone()
}

/// Store `len` bytes at `name` in `space` through the storage core.
async fn put_bytes(srv: &TestServer, space: Uuid, name: &str, len: usize) {
    let store = srv.state.store();
    let mut sink = store.blobs().create(None).await.unwrap();
    sink.write(&vec![b'x'; len]).await.unwrap();
    let blob = sink.finish().await.unwrap();
    store
        .commit_file(
            space,
            &SpacePath::parse(name).unwrap(),
            NewContent {
                blob,
                size: len as u64,
                checksums: Checksums::default(),
                mtime: None,
                content_type: None,
                reservation: None,
            },
            Precondition::None,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn me_drives_lists_the_personal_space_with_every_field() {
    let srv = TestServer::start().await;
    let alice: User = srv.add_user("alice", "pw").await;
    put_bytes(&srv, alice.id.0, "a.txt", 14).await;
    let mut drives = drives_as(&srv, "/graph/v1.0/me/drives", "alice", "pw").await;
    // The share jail's `virtual` drive comes last (tests/sharing/jail.rs).
    assert_eq!(drives.pop().unwrap()["driveType"], "virtual");
    assert_eq!(drives.len(), 1);
    let d = &drives[0];
    let sid = srv.state.store().space_id(alice.id.0).to_string();
    let root = srv
        .state
        .store()
        .node(srv.state.store().space_id(alice.id.0).root())
        .await
        .unwrap();
    assert_eq!(d["id"], sid);
    assert_eq!(d["driveType"], "personal");
    assert_eq!(d["driveAlias"], "personal/alice");
    assert_eq!(d["name"], "alice");
    assert_eq!(d["owner"]["user"]["id"], alice.id.to_string());
    assert_eq!(d["quota"]["total"], 0);
    assert_eq!(d["quota"]["used"], 14);
    assert_eq!(d["quota"]["state"], "normal");
    assert!(d["quota"]["remaining"].is_u64());
    assert_eq!(d["root"]["id"], sid);
    assert_eq!(d["root"]["eTag"], format!("\"{}\"", root.etag));
    assert_eq!(
        d["root"]["webDavUrl"],
        format!("{}/dav/spaces/{sid}", srv.base)
    );
    assert_eq!(d["webUrl"], format!("{}/f/{sid}", srv.base));
    let modified = d["lastModifiedDateTime"].as_str().unwrap();
    assert!(
        modified.ends_with('Z') && modified.len() == 30,
        "{modified}"
    );
}

#[tokio::test]
async fn project_space_quota_state_follows_usage() {
    let srv = TestServer::start().await;
    let alice = srv.add_user("alice", "pw").await;
    let admin = srv.state.store().user_by_name("admin").await.unwrap();
    let space = srv.project_space("Marketing Team", Some(1000)).await;
    srv.state
        .store()
        .set_member(space.id.space, alice.id, Some(Role::Editor))
        .await
        .unwrap();
    let project = |drives: Vec<Value>| {
        drives
            .into_iter()
            .find(|d| d["driveType"] == "project")
            .expect("project drive")
    };
    let d = project(drives_as(&srv, "/graph/v1.0/me/drives", "alice", "pw").await);
    assert_eq!(d["id"], space.id.to_string());
    assert_eq!(d["driveAlias"], "project/marketing-team");
    assert_eq!(d["name"], "Marketing Team");
    assert_eq!(d["owner"]["user"]["id"], admin.id.to_string());
    assert_eq!(d["quota"]["total"], 1000);
    assert_eq!(d["quota"]["remaining"], 1000);
    assert_eq!(d["quota"]["state"], "normal");
    for (file, len, used, state) in [
        ("a", 750, 750, "normal"),
        ("b", 100, 850, "nearing"),
        ("c", 100, 950, "critical"),
    ] {
        put_bytes(&srv, space.id.space, file, len).await;
        let d = project(drives_as(&srv, "/graph/v1.0/me/drives", "alice", "pw").await);
        assert_eq!(d["quota"]["used"], used);
        assert_eq!(d["quota"]["remaining"], 1000 - used);
        assert_eq!(d["quota"]["state"], state, "{used}/1000");
    }
    srv.state
        .store()
        .set_quota(space.id.space, Some(950))
        .await
        .unwrap();
    let d = project(drives_as(&srv, "/graph/v1.0/me/drives", "alice", "pw").await);
    assert_eq!(d["quota"]["state"], "exceeded");
    assert_eq!(d["quota"]["remaining"], 0);
}

#[tokio::test]
async fn single_drive_accepts_plain_and_percent_encoded_ids() {
    let srv = TestServer::start().await;
    let sid = srv.admin_space().await.to_string();
    for id in [sid.clone(), sid.replace('$', "%24")] {
        let res = get_as(
            &srv,
            &format!("/graph/v1.0/drives/{id}"),
            "admin",
            ADMIN_PASSWORD,
        )
        .await;
        assert_eq!(res.status(), 200, "{id}");
        let d: Value = res.json().await.unwrap();
        assert_eq!(d["id"], sid);
        assert_eq!(d["driveType"], "personal");
    }
}

#[tokio::test]
async fn drive_of_another_users_space_is_404_item_not_found() {
    let srv = TestServer::start().await;
    srv.add_user("alice", "pw").await;
    let bob = srv.add_user("bob", "pw").await;
    let bob_sid = srv.state.store().space_id(bob.id.0).to_string();
    let unknown = srv.state.store().space_id(Uuid::new_v4()).to_string();
    let foreign_storage = format!("{}${}", Uuid::new_v4(), bob.id);
    for id in [
        bob_sid.clone(),
        bob_sid.replace('$', "%24"),
        unknown,
        foreign_storage,
        "junk".into(),
    ] {
        let res = get_as(&srv, &format!("/graph/v1.0/drives/{id}"), "alice", "pw").await;
        assert_eq!(res.status(), 404, "{id}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["error"]["code"], "itemNotFound");
        assert!(v["error"]["message"].is_string());
    }
    // The admin sees every space.
    let res = get_as(
        &srv,
        &format!("/graph/v1.0/drives/{bob_sid}"),
        "admin",
        ADMIN_PASSWORD,
    )
    .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn drives_lists_every_space_for_admins_and_own_spaces_for_users() {
    let srv = TestServer::start().await;
    srv.add_user("alice", "pw").await;
    srv.add_user("bob", "pw").await;
    let aliases = |drives: Vec<Value>| {
        let mut a: Vec<String> = drives
            .iter()
            .map(|d| d["driveAlias"].as_str().unwrap().to_string())
            .collect();
        a.sort();
        a
    };
    let all = aliases(drives_as(&srv, "/graph/v1.0/drives", "admin", ADMIN_PASSWORD).await);
    assert_eq!(all, ["personal/admin", "personal/alice", "personal/bob"]);
    let mine = aliases(drives_as(&srv, "/graph/v1.0/me/drives", "admin", ADMIN_PASSWORD).await);
    assert_eq!(mine, ["personal/admin", "virtual/shares"]);
    let alice = aliases(drives_as(&srv, "/graph/v1.0/drives", "alice", "pw").await);
    assert_eq!(alice, ["personal/alice", "virtual/shares"]);
}

#[tokio::test]
async fn web_dav_url_uses_the_configured_public_url() {
    let srv = TestServer::start_with(|c| {
        c.public_url = Some("https://files.example.org/".parse().unwrap())
    })
    .await;
    let drives = drives_as(&srv, "/graph/v1.0/me/drives", "admin", ADMIN_PASSWORD).await;
    let sid = srv.admin_space().await;
    assert_eq!(
        drives[0]["root"]["webDavUrl"],
        format!("https://files.example.org/dav/spaces/{sid}")
    );
}

#[tokio::test]
async fn drives_without_credentials_are_401() {
    let srv = TestServer::start().await;
    let res = srv
        .client()
        .get(srv.url("/graph/v1.0/me/drives"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    crate::common::assert_both_challenges(&res, "drives");
}
