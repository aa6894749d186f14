//! Mounts in the share jail beyond the basics of `jail.rs`: clashing names are numbered the
//! same way in WebDAV, Graph and OCS, and the capabilities announce the jail.

use reqwest::{Method, StatusCode};

use crate::common::TestServer;
use crate::jail::{BOB, JAIL, as_bob, bob_drives, share_with_bob};
use crate::{mkcol_admin, ocs_list, ocs_share, put_admin};

#[tokio::test]
async fn the_capabilities_announce_the_share_jail() {
    let srv = TestServer::start().await;
    let caps = srv.capabilities().await;
    assert_eq!(caps["spaces"]["share_jail"], true);
}

#[tokio::test]
async fn two_received_items_of_one_name_get_distinct_mount_names() {
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-pw").await;
    srv.add_user("carol", "carol-pw").await;
    mkcol_admin(&srv, "/docs").await;
    put_admin(&srv, "/docs/from-admin.txt", b"admin").await;
    share_with_bob(&srv, "/docs", "1").await;
    let carol = ("carol", "carol-pw");
    let c = srv.client();
    let mk = c
        .request(
            Method::from_bytes(b"MKCOL").unwrap(),
            srv.url("/remote.php/webdav/docs"),
        )
        .basic_auth(carol.0, Some(carol.1))
        .send()
        .await
        .unwrap();
    assert_eq!(mk.status(), StatusCode::CREATED);
    let put = c
        .put(srv.url("/remote.php/webdav/docs/from-carol.txt"))
        .basic_auth(carol.0, Some(carol.1))
        .body("carol")
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    let (status, data) = ocs_share(
        &srv,
        carol,
        &[
            ("shareType", "0"),
            ("path", "/docs"),
            ("shareWith", "bob"),
            ("permissions", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{data}");
    let jail = srv.url(&format!(
        "/remote.php/dav/spaces/{}",
        JAIL.replace('$', "%24")
    ));
    assert_eq!(
        as_bob(&srv, "GET", &format!("{jail}/docs/from-admin.txt"), "")
            .await
            .1,
        "admin"
    );
    assert_eq!(
        as_bob(
            &srv,
            "GET",
            &format!("{jail}/docs%20(2)/from-carol.txt"),
            ""
        )
        .await
        .1,
        "carol"
    );
    let listed = ocs_list(&srv, BOB, "shared_with_me=true").await;
    let paths: Vec<_> = listed["ocs"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["/Shares/docs", "/Shares/docs (2)"]);
    let names: Vec<_> = bob_drives(&srv, "?$filter=driveType eq mountpoint")
        .await
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["docs", "docs (2)"]);
}
