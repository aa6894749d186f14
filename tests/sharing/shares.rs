//! Shares with users and groups: the recipient reaches them over WebDAV, revoking ends access
//! at once, re-sharing stays within the sharer's rights, and nothing unreadable can be shared.

use reqwest::{Method, StatusCode};

use crate::common::TestServer;
use crate::{
    ADMIN, get_admin, mkcol_admin, ocs_delete, ocs_list, ocs_share, put_admin, share_with,
};

const JAIL: &str = "a0ca6a90-a365-4782-871e-d44447bbc668$a0ca6a90-a365-4782-871e-d44447bbc668";

#[tokio::test]
async fn a_user_share_is_reachable_in_the_share_jail_until_it_is_revoked() {
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-pw").await;
    mkcol_admin(&srv, "/team").await;
    put_admin(&srv, "/team/t.txt", b"team").await;
    let data = share_with(&srv, "/team", "bob", "15").await;
    let id = data["id"].as_str().unwrap().to_string();
    let c = srv.client();
    let url = srv.url(&format!("/remote.php/dav/spaces/{JAIL}/team/t.txt"));
    let got = c
        .get(&url)
        .basic_auth("bob", Some("bob-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"team");
    let put = c
        .put(srv.url(&format!("/remote.php/dav/spaces/{JAIL}/team/from-bob.txt")))
        .basic_auth("bob", Some("bob-pw"))
        .body("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    let listed = ocs_list(&srv, ("bob", "bob-pw"), "shared_with_me=true").await;
    assert_eq!(listed["ocs"]["data"][0]["path"], "/Shares/team");
    assert_eq!(ocs_delete(&srv, ADMIN, &id).await, StatusCode::OK);
    let gone = c
        .get(&url)
        .basic_auth("bob", Some("bob-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_viewer_share_refuses_uploads_and_a_wider_reshare_is_forbidden() {
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-pw").await;
    srv.add_user("carol", "carol-pw").await;
    mkcol_admin(&srv, "/ro").await;
    share_with(&srv, "/ro", "bob", "17").await;
    let c = srv.client();
    let put = c
        .put(srv.url(&format!("/remote.php/dav/spaces/{JAIL}/ro/x.txt")))
        .basic_auth("bob", Some("bob-pw"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::FORBIDDEN);
    let bob = ("bob", "bob-pw");
    let form = |perms| {
        [
            ("shareType", "0"),
            ("path", "/Shares/ro"),
            ("shareWith", "carol"),
            ("permissions", perms),
        ]
    };
    let (wider, body) = ocs_share(&srv, bob, &form("15")).await;
    assert_eq!(wider, StatusCode::FORBIDDEN, "{body}");
    let (same, body) = ocs_share(&srv, bob, &form("1")).await;
    assert_eq!(same, StatusCode::OK, "{body}");
    let got = c
        .request(
            Method::from_bytes(b"PROPFIND").unwrap(),
            srv.url(&format!("/remote.php/dav/spaces/{JAIL}/ro/")),
        )
        .basic_auth("carol", Some("carol-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status().as_u16(), 207);
}

#[tokio::test]
async fn sharing_what_the_sharer_cannot_read_is_refused() {
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-pw").await;
    srv.add_user("mallory", "m-pw").await;
    mkcol_admin(&srv, "/private").await;
    // mallory names a path that exists only in the admin's space: in her view it is absent.
    let (status, _) = ocs_share(
        &srv,
        ("mallory", "m-pw"),
        &[
            ("shareType", "0"),
            ("path", "/private"),
            ("shareWith", "bob"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = ocs_share(
        &srv,
        ("mallory", "m-pw"),
        &[("shareType", "3"), ("path", "/Shares/private")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A share id that is not hers is not hers to delete.
    let (_, data) = ocs_share(&srv, ADMIN, &[("shareType", "3"), ("path", "/private")]).await;
    let id = data["id"].as_str().unwrap();
    assert_eq!(
        ocs_delete(&srv, ("mallory", "m-pw"), id).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_share_jail_root_lists_the_received_folders_and_nothing_else() {
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-pw").await;
    srv.add_user("carol", "carol-pw").await;
    mkcol_admin(&srv, "/for-bob").await;
    mkcol_admin(&srv, "/not-shared").await;
    share_with(&srv, "/for-bob", "bob", "15").await;
    let propfind = |who: (&'static str, &'static str)| {
        srv.client()
            .request(
                Method::from_bytes(b"PROPFIND").unwrap(),
                srv.url(&format!("/remote.php/dav/spaces/{JAIL}/")),
            )
            .basic_auth(who.0, Some(who.1))
            .header("Depth", "1")
            .send()
    };
    let res = propfind(("bob", "bob-pw")).await.unwrap();
    assert_eq!(res.status().as_u16(), 207);
    let xml = res.text().await.unwrap();
    assert!(
        xml.contains("<d:displayname>for-bob</d:displayname>"),
        "{xml}"
    );
    assert!(
        xml.contains("<oc:permissions>SDNVCK</oc:permissions>"),
        "{xml}"
    );
    assert!(!xml.contains("not-shared"), "{xml}");
    let xml = propfind(("carol", "carol-pw"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(xml.matches("<d:response>").count(), 1, "{xml}");
    let put = srv
        .client()
        .put(srv.url(&format!("/remote.php/dav/spaces/{JAIL}/")))
        .basic_auth("bob", Some("bob-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_reshare_reaches_no_further_than_its_sharer_still_can() {
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-pw").await;
    srv.add_user("carol", "carol-pw").await;
    mkcol_admin(&srv, "/team").await;
    put_admin(&srv, "/team/t.txt", b"team").await;
    let to_bob = share_with(&srv, "/team", "bob", "31").await;
    let to_bob = to_bob["id"].as_str().unwrap().to_string();
    let bob = ("bob", "bob-pw");
    let reshare = [
        ("shareType", "0"),
        ("path", "/Shares/team"),
        ("shareWith", "carol"),
        ("permissions", "15"),
    ];
    let (status, body) = ocs_share(&srv, bob, &reshare).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let link = [
        ("shareType", "3"),
        ("path", "/Shares/team"),
        ("permissions", "15"),
    ];
    let (status, body) = ocs_share(&srv, bob, &link).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap().to_string();

    let c = srv.client();
    let carol = |method: &str, path: &str| {
        c.request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            srv.url(&format!("/remote.php/dav/spaces/{JAIL}/team{path}")),
        )
        .basic_auth("carol", Some("carol-pw"))
    };
    let public = |method: &str, path: &str| {
        c.request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            srv.url(&format!("/remote.php/dav/public-files/{token}{path}")),
        )
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(carol("GET", "/t.txt").send().await.unwrap()), 200);
    assert_eq!(
        status(carol("PUT", "/c1.txt").body("c").send().await.unwrap()),
        201
    );
    assert_eq!(status(public("GET", "/t.txt").send().await.unwrap()), 200);
    assert_eq!(
        status(public("PUT", "/p1.txt").body("p").send().await.unwrap()),
        201
    );

    // The owner narrows bob's share to read (and share): what bob handed on narrows with it.
    let narrowed = c
        .put(srv.url(&format!("{}/{to_bob}", crate::SHARES)))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .form(&[("permissions", "17")])
        .send()
        .await
        .unwrap();
    assert_eq!(narrowed.status(), StatusCode::OK);
    assert_eq!(status(carol("GET", "/t.txt").send().await.unwrap()), 200);
    assert_eq!(
        status(carol("PUT", "/c2.txt").body("c").send().await.unwrap()),
        403
    );
    assert_eq!(
        status(public("PUT", "/p2.txt").body("p").send().await.unwrap()),
        403
    );
    assert_eq!(status(public("GET", "/t.txt").send().await.unwrap()), 200);

    // The owner revokes bob's share: bob's re-share and link reach nothing, at once.
    assert_eq!(ocs_delete(&srv, ADMIN, &to_bob).await, StatusCode::OK);
    assert_eq!(status(carol("GET", "/t.txt").send().await.unwrap()), 404);
    assert_eq!(status(public("GET", "/t.txt").send().await.unwrap()), 404);
    assert_eq!(status(public("PROPFIND", "/").send().await.unwrap()), 404);
    let listed = ocs_list(&srv, ("carol", "carol-pw"), "shared_with_me=true").await;
    assert_eq!(listed["ocs"]["data"], serde_json::json!([]), "{listed}");
    let jail = c
        .request(
            Method::from_bytes(b"PROPFIND").unwrap(),
            srv.url(&format!("/remote.php/dav/spaces/{JAIL}/")),
        )
        .basic_auth("carol", Some("carol-pw"))
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    let xml = jail.text().await.unwrap();
    assert_eq!(xml.matches("<d:response>").count(), 1, "{xml}");
    let (_, files) = get_admin(&srv, "/team/t.txt").await;
    assert_eq!(files, b"team", "nothing of the owner's touched");
}

#[tokio::test]
async fn a_group_share_reaches_every_member_and_only_while_they_are_members() {
    let srv = TestServer::start().await;
    let bob = srv.add_user("bob", "bob-pw").await;
    let carol = srv.add_user("carol", "carol-pw").await;
    srv.add_user("dave", "dave-pw").await;
    let store = srv.state.store();
    let team = store.create_group("team", "The team").await.unwrap();
    let crew = store.create_group("crew", "The crew").await.unwrap();
    for u in [bob.id, carol.id] {
        store.set_group_member(team.id, u, true).await.unwrap();
    }
    store
        .set_group_member(crew.id, carol.id, true)
        .await
        .unwrap();
    mkcol_admin(&srv, "/ocs-group").await;
    put_admin(&srv, "/ocs-group/o.txt", b"ocs").await;
    mkcol_admin(&srv, "/graph-group").await;
    put_admin(&srv, "/graph-group/g.txt", b"graph").await;

    // OCS share type 1 with read + create, Graph invite of a group as viewer.
    let form = [
        ("shareType", "1"),
        ("path", "/ocs-group"),
        ("shareWith", "team"),
        ("permissions", "5"),
    ];
    let (status, data) = ocs_share(&srv, ADMIN, &form).await;
    assert_eq!(status, StatusCode::OK, "{data}");
    assert_eq!(data["share_type"], 1, "{data}");
    let item = crate::admin_item(&srv, "/graph-group").await;
    let (status, invited) = crate::graph(
        &srv,
        ADMIN,
        Method::POST,
        &format!("{item}/invite"),
        Some(serde_json::json!({
            "recipients": [{"objectId": crew.id.to_string(), "@libre.graph.recipient.type": "group"}],
            "roles": ["b1e2218d-eef8-4d4c-b82d-0f1a1b48f3b5"],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{invited}");
    assert_eq!(
        invited["value"][0]["grantedToV2"]["group"]["id"],
        crew.id.to_string()
    );

    let c = srv.client();
    let jail = |who: (&str, &str), method: &str, path: &str| {
        c.request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            srv.url(&format!("/remote.php/dav/spaces/{JAIL}{path}")),
        )
        .basic_auth(who.0, Some(who.1))
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    let (b, cr, d) = (
        ("bob", "bob-pw"),
        ("carol", "carol-pw"),
        ("dave", "dave-pw"),
    );
    for who in [b, cr] {
        let got = jail(who, "GET", "/ocs-group/o.txt").send().await.unwrap();
        assert_eq!(got.text().await.unwrap(), "ocs", "{}", who.0);
    }
    assert_eq!(
        status(
            jail(b, "PUT", "/ocs-group/from-bob.txt")
                .body("b")
                .send()
                .await
                .unwrap()
        ),
        201
    );
    assert_eq!(
        status(jail(b, "DELETE", "/ocs-group/o.txt").send().await.unwrap()),
        403
    );
    assert_eq!(
        status(jail(d, "GET", "/ocs-group/o.txt").send().await.unwrap()),
        404
    );
    let got = jail(cr, "GET", "/graph-group/g.txt").send().await.unwrap();
    assert_eq!(got.text().await.unwrap(), "graph");
    assert_eq!(
        status(
            jail(cr, "PUT", "/graph-group/x.txt")
                .body("x")
                .send()
                .await
                .unwrap()
        ),
        403
    );
    assert_eq!(
        status(jail(b, "GET", "/graph-group/g.txt").send().await.unwrap()),
        404
    );
    let listed = ocs_list(&srv, cr, "shared_with_me=true").await;
    let mut paths: Vec<String> = listed["ocs"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, ["/Shares/graph-group", "/Shares/ocs-group"]);

    // Out of the group, out of the share: at once.
    store
        .set_group_member(team.id, bob.id, false)
        .await
        .unwrap();
    assert_eq!(
        status(jail(b, "GET", "/ocs-group/o.txt").send().await.unwrap()),
        404
    );
    assert_eq!(
        status(jail(cr, "GET", "/ocs-group/o.txt").send().await.unwrap()),
        200
    );
}

#[tokio::test]
async fn a_link_password_is_stored_as_an_argon2_hash_and_its_token_carries_160_bits() {
    let srv = TestServer::start().await;
    put_admin(&srv, "/p.txt", b"p").await;
    let (token, id) = crate::link(&srv, "/p.txt", "1", Some("correct horse")).await;
    assert_eq!(token.len(), 27, "{token}");
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");
    let stored = srv.state.store().share(id).await.unwrap();
    let hash = stored.password_hash.expect("a hash");
    assert!(hash.starts_with("$argon2"), "{hash}");
    assert!(!hash.contains("correct horse"));
    let (other, _) = crate::link(&srv, "/p.txt", "1", None).await;
    assert_ne!(token, other);
}

#[tokio::test]
async fn re_shares_in_a_circle_end_with_the_share_that_started_them() {
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-pw").await;
    srv.add_user("carol", "carol-pw").await;
    mkcol_admin(&srv, "/ring").await;
    put_admin(&srv, "/ring/r.txt", b"ring").await;
    let first = share_with(&srv, "/ring", "bob", "31").await;
    let first = first["id"].as_str().unwrap().to_string();
    let hand_on = |to: &'static str| {
        [
            ("shareType", "0"),
            ("path", "/Shares/ring"),
            ("shareWith", to),
            ("permissions", "31"),
        ]
    };
    let (status, body) = ocs_share(&srv, ("bob", "bob-pw"), &hand_on("carol")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = ocs_share(&srv, ("carol", "carol-pw"), &hand_on("bob")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let get = |who: (&'static str, &'static str)| {
        srv.client()
            .get(srv.url(&format!("/remote.php/dav/spaces/{JAIL}/ring/r.txt")))
            .basic_auth(who.0, Some(who.1))
            .send()
    };
    let (bob, carol) = (("bob", "bob-pw"), ("carol", "carol-pw"));
    assert_eq!(get(bob).await.unwrap().status(), StatusCode::OK);
    assert_eq!(get(carol).await.unwrap().status(), StatusCode::OK);
    // Each now holds the item through the other too, but neither through anyone with a role.
    assert_eq!(ocs_delete(&srv, ADMIN, &first).await, StatusCode::OK);
    assert_eq!(get(bob).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(get(carol).await.unwrap().status(), StatusCode::NOT_FOUND);
}
