//! A tus upload honours the grant it was made through for its whole life (issue 12: "an
//! expired or deleted link → 404 at once"): once the link is deleted, expired or narrowed,
//! or the uploader's share or membership is gone, the `/data/` URL answers 404 (403 while the
//! uploader still sees the target read-only), nothing is committed and the session, its bytes
//! and its quota reservation are gone. An upload whose grant holds completes.

use std::time::Duration;

use reqwest::StatusCode;
use spacedav::spaces::{Role, SpacePath};

use crate::common::TestServer;
use crate::common::client::Client;
use crate::jail::{BOB, JAIL};
use crate::{ADMIN, get_admin, link, mkcol_admin, ocs_delete, ocs_share, share_with};

const DAY: Duration = Duration::from_secs(86_400);

fn public(srv: &TestServer, token: &str) -> String {
    srv.url(&format!("/remote.php/dav/public-files/{token}/"))
}

/// Bytes used and reserved in the admin's personal space.
async fn admin_usage(srv: &TestServer) -> (u64, u64) {
    let q = srv
        .state
        .store()
        .quota(srv.admin_space_id().space)
        .await
        .expect("quota");
    (q.used, q.reserved)
}

/// How many upload sessions the server keeps.
async fn sessions(srv: &TestServer) -> usize {
    srv.state.store().uploads().await.expect("uploads").len()
}

/// An upload of `abcdef` as `name` into `folder_url`, cut after its first PATCH of `abc`;
/// returns its `/data/` URL.
async fn cut_upload(client: &Client, folder_url: &str, name: &str) -> String {
    let created = client
        .tus_create(folder_url, 6, &[("filename", name)])
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "creation");
    let location = created.location().to_string();
    let first = client.tus_patch(&location, 0, b"abc".to_vec()).await;
    assert_eq!(first.status, StatusCode::NO_CONTENT, "first PATCH");
    assert_eq!(first.offset, Some(3));
    location
}

/// The rest of a [`cut_upload`] and a HEAD after it: their statuses.
async fn resume(client: &Client, location: &str) -> (StatusCode, StatusCode) {
    let patch = client.tus_patch(location, 3, b"def".to_vec()).await.status;
    let head = client.tus_head(location).await.status;
    (patch, head)
}

/// The WebDAV URL of the admin's folder `path` by its resource id.
async fn by_rid(srv: &TestServer, path: &str) -> String {
    let (_, rid) = crate::admin_ids(srv, path).await;
    let rid = rid.replace('$', "%24").replace('!', "%21");
    srv.url(&format!("/remote.php/dav/spaces/{rid}/"))
}

async fn ocs_update(srv: &TestServer, id: &str, form: &[(&str, &str)]) -> StatusCode {
    srv.client()
        .put(srv.url(&format!("{}/{id}?format=json", crate::SHARES)))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .form(form)
        .send()
        .await
        .expect("PUT share")
        .status()
}

#[tokio::test]
async fn a_link_upload_ends_when_its_link_is_deleted_over_ocs_or_graph_and_stores_nothing() {
    let srv = TestServer::start().await;
    mkcol_admin(&srv, "/drop").await;
    let (token, id) = link(&srv, "/drop", "4", None).await;
    let (by_graph, _) = link(&srv, "/drop", "4", None).await;
    let anonymous = Client::anonymous();
    let location = cut_upload(&anonymous, &public(&srv, &token), "d.txt").await;
    let graph_location = cut_upload(&anonymous, &public(&srv, &by_graph), "g.txt").await;
    let (used, reserved) = admin_usage(&srv).await;
    assert_eq!(reserved, 12, "the uploads hold their reservations");
    assert_eq!(
        ocs_delete(&srv, ADMIN, &id.to_string()).await,
        StatusCode::OK
    );
    // The other one is deleted through Graph, as ownCloud Web does.
    crate::delete_link_through_graph(&srv, "/drop", &by_graph).await;

    for (location, name) in [(&location, "d.txt"), (&graph_location, "g.txt")] {
        let (patch, head) = resume(&anonymous, location).await;
        assert_eq!(
            (patch, head),
            (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND),
            "{name}"
        );
        let path = format!("/drop/{name}");
        assert_eq!(
            get_admin(&srv, &path).await.0,
            StatusCode::NOT_FOUND,
            "{name}"
        );
    }
    assert_eq!(
        admin_usage(&srv).await,
        (used, 0),
        "usage unchanged, nothing reserved"
    );
    assert_eq!(sessions(&srv).await, 0, "the session is removed");
    let delete = anonymous
        .tus_terminate_request(&location)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_link_upload_ends_when_its_link_expires() {
    // Uploads outlive the link here (10 days against 2), so only the link's expiry can end it.
    let srv = TestServer::start_with(|c| c.upload_expiry = 10 * DAY).await;
    mkcol_admin(&srv, "/drop").await;
    let in_two_days = spacedav::spaces::Mtime::now().0 + 2 * 86_400 * 1_000_000_000;
    let date = spacedav::sharing::dates::format_rfc3339(in_two_days)[..10].to_string();
    let (status, data) = ocs_share(
        &srv,
        ADMIN,
        &[
            ("shareType", "3"),
            ("path", "/drop"),
            ("permissions", "4"),
            ("expireDate", &date),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{data}");
    let token = data["token"].as_str().unwrap().to_string();
    let anonymous = Client::anonymous();
    let location = cut_upload(&anonymous, &public(&srv, &token), "e.txt").await;
    let (used, _) = admin_usage(&srv).await;

    srv.advance(4 * DAY);
    let (patch, head) = resume(&anonymous, &location).await;
    assert_eq!(patch, StatusCode::NOT_FOUND);
    assert_eq!(head, StatusCode::NOT_FOUND);
    assert_eq!(
        get_admin(&srv, "/drop/e.txt").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(admin_usage(&srv).await, (used, 0));
    assert_eq!(sessions(&srv).await, 0);
}

#[tokio::test]
async fn a_link_narrowed_from_upload_to_view_refuses_the_rest_of_an_upload() {
    let srv = TestServer::start().await;
    mkcol_admin(&srv, "/pub").await;
    let (token, id) = link(&srv, "/pub", "15", None).await;
    let anonymous = Client::anonymous();
    let location = cut_upload(&anonymous, &public(&srv, &token), "n.txt").await;
    assert_eq!(
        ocs_update(&srv, &id.to_string(), &[("permissions", "1")]).await,
        StatusCode::OK
    );

    let (patch, head) = resume(&anonymous, &location).await;
    assert_eq!(patch, StatusCode::NOT_FOUND);
    assert_eq!(head, StatusCode::NOT_FOUND);
    assert_eq!(get_admin(&srv, "/pub/n.txt").await.0, StatusCode::NOT_FOUND);
    assert_eq!(admin_usage(&srv).await.1, 0);
    assert_eq!(sessions(&srv).await, 0);
}

#[tokio::test]
async fn a_revoked_share_ends_its_recipients_upload_and_a_narrowed_one_forbids_it() {
    let srv = TestServer::start().await;
    srv.add_user(BOB.0, BOB.1).await;
    mkcol_admin(&srv, "/gone").await;
    mkcol_admin(&srv, "/gone/sub").await;
    mkcol_admin(&srv, "/ro").await;
    let gone = share_with(&srv, "/gone", BOB.0, "15").await;
    let narrowed = share_with(&srv, "/ro", BOB.0, "15").await;
    let bob = srv.client_as(BOB.0, BOB.1);
    let jail = srv.url(&format!(
        "/remote.php/dav/spaces/{}",
        JAIL.replace('$', "%24")
    ));
    let revoked_upload = cut_upload(&bob, &format!("{jail}/gone/"), "r.txt").await;
    let narrowed_upload = cut_upload(&bob, &format!("{jail}/ro/"), "v.txt").await;
    // Through a folder below the shared one, by resource id (as ownCloud Web opens it).
    let deep_upload = cut_upload(&bob, &by_rid(&srv, "/gone/sub").await, "deep.txt").await;

    let id = |v: &serde_json::Value| v["id"].as_str().unwrap().to_string();
    assert_eq!(ocs_delete(&srv, ADMIN, &id(&gone)).await, StatusCode::OK);
    assert_eq!(
        ocs_update(&srv, &id(&narrowed), &[("permissions", "1")]).await,
        StatusCode::OK
    );

    for upload in [&revoked_upload, &deep_upload] {
        let (patch, head) = resume(&bob, upload).await;
        assert_eq!(
            (patch, head),
            (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
        );
    }
    // Bob still reads the folder: he is told he may not write there, and the upload is gone.
    let (patch, head) = resume(&bob, &narrowed_upload).await;
    assert_eq!(
        (patch, head),
        (StatusCode::FORBIDDEN, StatusCode::NOT_FOUND)
    );
    for path in ["/gone/r.txt", "/gone/sub/deep.txt", "/ro/v.txt"] {
        assert_eq!(
            get_admin(&srv, path).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(admin_usage(&srv).await.1, 0);
    assert_eq!(sessions(&srv).await, 0);
}

#[tokio::test]
async fn a_member_removed_from_a_space_or_its_group_cannot_finish_an_upload_there() {
    let srv = TestServer::start().await;
    let sid = srv.shared_project_space().await;
    let carol = srv.add_user("carol", "carol-pw").await;
    let store = srv.state.store();
    store
        .set_member(sid.space, carol.id, Some(Role::Editor))
        .await
        .unwrap();
    // Dave edits through a group.
    let dave = srv.add_user("dave", "dave-pw").await;
    let team = store.create_group("team", "Team").await.unwrap();
    store
        .set_group_member(team.id, dave.id, true)
        .await
        .unwrap();
    store
        .set_group_grant(sid.space, team.id, Some(Role::Editor))
        .await
        .unwrap();
    let folder = format!("{}/docs/", srv.space_url(&sid));
    let bob = srv.client_as(BOB.0, BOB.1);
    let carol_client = srv.client_as("carol", "carol-pw");
    let dave_client = srv.client_as("dave", "dave-pw");
    let removed = cut_upload(&bob, &folder, "b.txt").await;
    let demoted = cut_upload(&carol_client, &folder, "c.txt").await;
    let left_group = cut_upload(&dave_client, &folder, "d.txt").await;
    let bob_id = store.user_by_name(BOB.0).await.unwrap().id;
    store.set_member(sid.space, bob_id, None).await.unwrap();
    store
        .set_member(sid.space, carol.id, Some(Role::Viewer))
        .await
        .unwrap();
    store
        .set_group_member(team.id, dave.id, false)
        .await
        .unwrap();

    let (patch, head) = resume(&bob, &removed).await;
    assert_eq!(
        (patch, head),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    let (patch, head) = resume(&carol_client, &demoted).await;
    assert_eq!(
        (patch, head),
        (StatusCode::FORBIDDEN, StatusCode::NOT_FOUND)
    );
    let (patch, head) = resume(&dave_client, &left_group).await;
    assert_eq!(
        (patch, head),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    for name in ["b.txt", "c.txt", "d.txt"] {
        let path = SpacePath::parse(&format!("docs/{name}")).unwrap();
        assert!(store.resolve(sid.space, &path).await.is_err(), "{name}");
    }
    let q = store.quota(sid.space).await.unwrap();
    assert_eq!((q.used, q.reserved), (0, 0));
    assert_eq!(sessions(&srv).await, 0);
}

#[tokio::test]
async fn uploads_whose_link_share_or_membership_holds_complete() {
    let srv = TestServer::start().await;
    let sid = srv.shared_project_space().await;
    mkcol_admin(&srv, "/drop").await;
    mkcol_admin(&srv, "/shared").await;
    mkcol_admin(&srv, "/shared/sub").await;
    let (token, _) = link(&srv, "/drop", "4", None).await;
    share_with(&srv, "/shared", BOB.0, "15").await;
    let anonymous = Client::anonymous();
    let bob = srv.client_as(BOB.0, BOB.1);
    let jail = srv.url(&format!(
        "/remote.php/dav/spaces/{}",
        JAIL.replace('$', "%24")
    ));
    let uploads = [
        (
            &anonymous,
            cut_upload(&anonymous, &public(&srv, &token), "l.txt").await,
        ),
        (
            &bob,
            cut_upload(&bob, &format!("{jail}/shared/"), "s.txt").await,
        ),
        (
            &bob,
            cut_upload(&bob, &by_rid(&srv, "/shared/sub").await, "deep.txt").await,
        ),
        (
            &bob,
            cut_upload(&bob, &format!("{}/docs/", srv.space_url(&sid)), "m.txt").await,
        ),
    ];
    // Something else changes meanwhile: another link and share come and go.
    let (_, other) = link(&srv, "/drop", "1", None).await;
    assert_eq!(
        ocs_delete(&srv, ADMIN, &other.to_string()).await,
        StatusCode::OK
    );

    for (client, location) in &uploads {
        let (patch, head) = resume(client, location).await;
        assert_eq!(
            (patch, head),
            (StatusCode::NO_CONTENT, StatusCode::OK),
            "{location}"
        );
    }
    assert_eq!(get_admin(&srv, "/drop/l.txt").await.1, b"abcdef");
    assert_eq!(get_admin(&srv, "/shared/s.txt").await.1, b"abcdef");
    assert_eq!(get_admin(&srv, "/shared/sub/deep.txt").await.1, b"abcdef");
    let path = SpacePath::parse("docs/m.txt").unwrap();
    let node = srv.state.store().resolve(sid.space, &path).await.unwrap();
    assert_eq!(node.size, 6);
    assert_eq!(admin_usage(&srv).await.1, 0);
}

/// The commit checks the grant again inside its transaction: an upload found at its full
/// length after its link was deleted (what a crash between the last bytes and the commit
/// leaves) is removed by the sweep, not committed.
#[tokio::test]
async fn the_sweep_does_not_commit_a_stranded_upload_whose_link_is_gone() {
    let srv = TestServer::start().await;
    mkcol_admin(&srv, "/drop").await;
    let (token, id) = link(&srv, "/drop", "4", None).await;
    let created = Client::anonymous()
        .tus_create(&public(&srv, &token), 3, &[("filename", "s.txt")])
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let store = srv.state.store();
    let mut s = store.uploads().await.unwrap().pop().unwrap();
    crate::common::stage_without_committing(store, &mut s, b"abc").await;
    assert_eq!(
        ocs_delete(&srv, ADMIN, &id.to_string()).await,
        StatusCode::OK
    );

    let swept = spacedav::router::maintenance::sweep_once(&srv.state).await;
    assert_eq!(swept.committed, 0);
    assert_eq!(
        get_admin(&srv, "/drop/s.txt").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(admin_usage(&srv).await.1, 0);
    assert_eq!(sessions(&srv).await, 0);
}
