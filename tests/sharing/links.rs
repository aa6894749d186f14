//! Public links: access within the link's permissions, passwords, throttling, expiry,
//! revocation, file drops and quota.

use reqwest::{Method, StatusCode};

use crate::common::TestServer;
use crate::common::client::Client;
use crate::{ADMIN, get_admin, link, mkcol_admin, ocs_delete, ocs_share, put_admin};

fn m(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap()
}

fn public(srv: &TestServer, token: &str, rest: &str) -> String {
    srv.url(&format!("/remote.php/dav/public-files/{token}{rest}"))
}

#[tokio::test]
async fn a_view_link_serves_its_folder_anonymously_and_refuses_every_write() {
    let srv = TestServer::start().await;
    mkcol_admin(&srv, "/pub").await;
    put_admin(&srv, "/pub/a.txt", b"hello").await;
    let (token, _) = link(&srv, "/pub", "1", None).await;
    let c = srv.client();
    let got = c.get(public(&srv, &token, "/a.txt")).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"hello");
    let listing = c
        .request(m("PROPFIND"), public(&srv, &token, "/"))
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status().as_u16(), 207);
    assert!(listing.text().await.unwrap().contains("a.txt"));
    let put = c
        .put(public(&srv, &token, "/b.txt"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::FORBIDDEN);
    let del = c
        .delete(public(&srv, &token, "/a.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::FORBIDDEN);
    let mv = c
        .request(m("MOVE"), public(&srv, &token, "/a.txt"))
        .header("Destination", public(&srv, &token, "/c.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(mv.status(), StatusCode::FORBIDDEN);
    let tus = Client::anonymous()
        .tus_create(&public(&srv, &token, "/"), 3, &[("filename", "d.txt")])
        .await;
    assert_eq!(tus.status, StatusCode::FORBIDDEN);
    let still = c.get(public(&srv, &token, "/a.txt")).send().await.unwrap();
    assert_eq!(still.bytes().await.unwrap().as_ref(), b"hello");
}

#[tokio::test]
async fn an_edit_link_writes_into_the_owners_space() {
    let srv = TestServer::start().await;
    mkcol_admin(&srv, "/ed").await;
    let (token, _) = link(&srv, "/ed", "15", None).await;
    let c = srv.client();
    let put = c
        .put(public(&srv, &token, "/n.txt"))
        .body("new")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    assert_eq!(get_admin(&srv, "/ed/n.txt").await.1, b"new");
}

#[tokio::test]
async fn a_wrong_link_password_is_refused_and_repeated_guesses_are_throttled() {
    let srv = TestServer::start().await;
    mkcol_admin(&srv, "/secret").await;
    put_admin(&srv, "/secret/s.txt", b"s").await;
    let (token, _) = link(&srv, "/secret", "1", Some("open sesame")).await;
    let c = srv.client();
    let url = public(&srv, &token, "/s.txt");
    let none = c.get(&url).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert!(
        none.text()
            .await
            .unwrap()
            .contains("ERR_MISSING_BASIC_AUTH")
    );
    let right = c
        .get(&url)
        .basic_auth("public", Some("open sesame"))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = c
            .get(&url)
            .basic_auth("public", Some("guess"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    let blocked = c
        .get(&url)
        .basic_auth("public", Some("open sesame"))
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn expired_revoked_and_made_up_tokens_are_not_found() {
    let srv = TestServer::start().await;
    put_admin(&srv, "/e.txt", b"e").await;
    // A date in the past is refused; a link that reaches its expiry is gone at once (the
    // clock is not ours to move: the stored expiry is set back instead).
    let (status, data) = ocs_share(
        &srv,
        ADMIN,
        &[
            ("shareType", "3"),
            ("path", "/e.txt"),
            ("expireDate", "2001-01-01"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{data}");
    let (expired, expired_id) = link(&srv, "/e.txt", "1", None).await;
    let past = spacedav::spaces::ShareUpdate {
        expires_at: Some(Some(1_000_000_000)),
        ..Default::default()
    };
    srv.state
        .store()
        .update_share(expired_id, past)
        .await
        .expect("expire the link");
    let (revoked, id) = link(&srv, "/e.txt", "1", None).await;
    // A link revoked through Graph (as Web does) is gone alike.
    let (by_graph, _) = link(&srv, "/e.txt", "1", None).await;
    crate::delete_link_through_graph(&srv, "/e.txt", &by_graph).await;
    let c = srv.client();
    let ok = c
        .get(public(&srv, &revoked, "/e.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        ocs_delete(&srv, ADMIN, &id.to_string()).await,
        StatusCode::OK
    );
    for token in [
        expired.as_str(),
        revoked.as_str(),
        by_graph.as_str(),
        "MadeUpTokenThatNobodyIssued",
    ] {
        let tus = Client::anonymous()
            .tus_create(&public(&srv, token, "/"), 1, &[("filename", "t.txt")])
            .await;
        assert_eq!(tus.status, StatusCode::NOT_FOUND, "{token}");
        let r = c.get(public(&srv, token, "/e.txt")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{token}");
        let p = c
            .request(m("PROPFIND"), public(&srv, token, "/"))
            .send()
            .await
            .unwrap();
        assert_eq!(p.status(), StatusCode::NOT_FOUND, "{token}");
    }
}

#[tokio::test]
async fn a_file_drop_accepts_uploads_but_reveals_no_name() {
    let srv = TestServer::start().await;
    mkcol_admin(&srv, "/drop").await;
    put_admin(&srv, "/drop/private-name.txt", b"mine").await;
    let (token, _) = link(&srv, "/drop", "4", None).await;
    let c = srv.client();
    for depth in ["1", "infinity"] {
        let p = c
            .request(m("PROPFIND"), public(&srv, &token, "/"))
            .header("Depth", depth)
            .send()
            .await
            .unwrap();
        assert_eq!(p.status().as_u16(), 207);
        let body = p.text().await.unwrap();
        assert!(!body.contains("private-name"), "{body}");
        assert_eq!(body.matches("<d:response>").count(), 1, "{body}");
    }
    let get = c
        .get(public(&srv, &token, "/private-name.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::NOT_FOUND);
    // Same name: stored beside it, the owner's file untouched.
    let put = c
        .put(public(&srv, &token, "/private-name.txt"))
        .body("theirs")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    let own = async |p: &str| get_admin(&srv, &format!("/drop/{p}")).await.1;
    assert_eq!(own("private-name.txt").await, b"mine");
    assert_eq!(own("private-name (2).txt").await, b"theirs");
    let anonymous = Client::anonymous();
    let tus = anonymous
        .tus_create(&public(&srv, &token, "/"), 3, &[("filename", "d.txt")])
        .await;
    assert_eq!(tus.status, StatusCode::CREATED);
    let patch = anonymous
        .tus_patch(tus.location(), 0, b"abc".to_vec())
        .await;
    assert_eq!(patch.status, StatusCode::NO_CONTENT);
    assert_eq!(own("d.txt").await, b"abc");
}

#[tokio::test]
async fn a_public_upload_over_the_owners_quota_is_refused_and_stores_nothing() {
    let srv = TestServer::start().await;
    mkcol_admin(&srv, "/q").await;
    let (token, _) = link(&srv, "/q", "4", None).await;
    let admin = srv.state.store().user_by_name("admin").await.unwrap();
    srv.state
        .store()
        .set_quota(admin.id.0, Some(10))
        .await
        .unwrap();
    let c = srv.client();
    let put = c
        .put(public(&srv, &token, "/big.bin"))
        .body(vec![7u8; 100])
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::INSUFFICIENT_STORAGE);
    let tus = Client::anonymous()
        .tus_create(&public(&srv, &token, "/"), 100, &[("filename", "big.bin")])
        .await;
    assert_eq!(tus.status, StatusCode::INSUFFICIENT_STORAGE);
    // A body of unannounced length (chunked) is refused once it passes the quota.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..4).map(|_| Ok(vec![7u8; 64])).collect();
    let chunked = c
        .put(public(&srv, &token, "/chunked.bin"))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(chunked.status(), StatusCode::INSUFFICIENT_STORAGE);
    for name in ["big.bin", "chunked.bin"] {
        let (status, _) = get_admin(&srv, &format!("/q/{name}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}");
    }
    let quota = srv.state.store().quota(admin.id.0).await.unwrap();
    assert_eq!(quota.used, 0, "nothing counted");
    assert!(
        srv.state.store().blobs().list().await.unwrap().is_empty(),
        "no blob kept"
    );
}

#[tokio::test]
async fn webs_public_page_reads_the_link_permission_and_item_type() {
    let srv = TestServer::start().await;
    mkcol_admin(&srv, "/inbox").await;
    let (token, _) = link(&srv, "/inbox", "4", None).await;
    let body = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:public-link-permission/><oc:public-link-item-type/><oc:public-link-share-owner/><oc:permissions/></d:prop></d:propfind>"#;
    let res = srv
        .client()
        .request(
            m("PROPFIND"),
            srv.url(&format!("/dav/public-files/{token}")),
        )
        .header("Depth", "0")
        .header("public-token", &token)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 207);
    let xml = res.text().await.unwrap();
    for part in [
        "<oc:public-link-permission>4</oc:public-link-permission>",
        "<oc:public-link-item-type>folder</oc:public-link-item-type>",
        "<oc:public-link-share-owner>Administrator</oc:public-link-share-owner>",
    ] {
        assert!(xml.contains(part), "missing {part} in {xml}");
    }
}

#[tokio::test]
async fn a_file_links_root_lists_the_shared_file_and_nothing_else() {
    let srv = TestServer::start().await;
    mkcol_admin(&srv, "/docs").await;
    put_admin(&srv, "/docs/shared.txt", b"for everyone").await;
    put_admin(&srv, "/docs/private.txt", b"not for you").await;
    let (token, _) = link(&srv, "/docs/shared.txt", "1", None).await;
    let res = srv
        .client()
        .request(m("PROPFIND"), public(&srv, &token, "/"))
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 207);
    let xml = res.text().await.unwrap();
    assert!(xml.contains("shared.txt"), "{xml}");
    assert!(!xml.contains("private.txt"), "{xml}");
    assert_eq!(xml.matches("<d:response>").count(), 2, "{xml}");
    let hidden = srv
        .client()
        .get(public(&srv, &token, "/private.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_edit_link_on_a_file_cannot_lock_or_change_the_folder_holding_it() {
    let srv = TestServer::start().await;
    put_admin(&srv, "/f.txt", b"f").await;
    let (token, _) = link(&srv, "/f.txt", "3", None).await;
    let c = srv.client();
    let lock = c
        .request(m("LOCK"), public(&srv, &token, "/"))
        .header("Depth", "infinity")
        .body(
            "<?xml version=\"1.0\"?><d:lockinfo xmlns:d=\"DAV:\"><d:lockscope><d:exclusive/>\
             </d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(lock.status(), StatusCode::FORBIDDEN);
    // The file itself stays editable through the link, and the owner's folder unlocked.
    let put = c
        .put(public(&srv, &token, "/f.txt"))
        .body("g")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    put_admin(&srv, "/other.txt", b"o").await;
}
