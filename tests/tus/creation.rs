//! Creation (`POST` on a space folder): every row of SPEC §3's table, in order, and the
//! success answers (plain, creation-with-upload, zero-byte, acted-on metadata).

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use spacedav::spaces::{NewSpace, Role, SpacePath};
use spacedav::tus::headers::{
    OFFSET_OCTET_STREAM, TUS_RESUMABLE, UPLOAD_LENGTH, UPLOAD_METADATA, VERSION,
};

use crate::common::TestServer;
use crate::common::client::{Client, tus_metadata};
use crate::support::*;

#[tokio::test]
async fn creation_answers_201_with_a_data_location_and_expiry() {
    let env = Env::start().await;
    let res = env
        .post(&env.root(), 100, &[("filename", "a.txt")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_tus_headers(&res);
    let loc = location(&res);
    assert!(loc.starts_with(&format!("{}/data/", env.srv.base)), "{loc}");
    let expires: i64 = header(&res, "upload-expires").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((expires - (now + 86400)).abs() < 60, "{expires} vs {now}");
    // Nothing is visible before the bytes arrive.
    assert!(env.node("a.txt").await.is_none());
    let head = env.head(&loc).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(offset(&head), 0);
    assert_eq!(header(&head, "upload-length").as_deref(), Some("100"));
}

#[tokio::test]
async fn missing_or_wrong_tus_resumable_is_412_with_tus_version() {
    let env = Env::start().await;
    for version in [None, Some("0.2.2")] {
        let mut req = env
            .req(Method::POST, &env.root())
            .header(UPLOAD_LENGTH, "10")
            .header(UPLOAD_METADATA, tus_metadata(&[("filename", "a")]));
        if let Some(v) = version {
            req = req.header(TUS_RESUMABLE, v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED, "{version:?}");
        assert_eq!(header(&res, "tus-version").as_deref(), Some("1.0.0"));
        assert_tus_headers(&res);
        assert!(header(&res, "location").is_none());
    }
}

#[tokio::test]
async fn missing_upload_length_is_412_and_bad_length_400_and_oversize_413() {
    let env = Env::with(TestServer::start_with(|c| c.max_upload_size = 1000).await).await;
    let res = env
        .req(Method::POST, &env.root())
        .header(TUS_RESUMABLE, VERSION)
        .header(UPLOAD_METADATA, tus_metadata(&[("filename", "a")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    assert!(header(&res, "location").is_none());
    for bad in ["abc", "-1", "1.5"] {
        let res = env
            .req(Method::POST, &env.root())
            .header(TUS_RESUMABLE, VERSION)
            .header(UPLOAD_LENGTH, bad)
            .header(UPLOAD_METADATA, tus_metadata(&[("filename", "a")]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let res = env
        .post(&env.root(), 1001, &[("filename", "a")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_tus_headers(&res);
    let res = env
        .post(&env.root(), 1000, &[("filename", "a")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn malformed_metadata_is_400_naming_the_pair() {
    let env = Env::start().await;
    let good = tus_metadata(&[("filename", "a.txt")]);
    for (raw, needle) in [
        (format!("{good},broken a b"), "broken a b"),
        (format!("{good},bad !!notbase64"), "bad !!notbase64"),
        (format!("{good},{good}"), "duplicate"),
    ] {
        let res = env
            .req(Method::POST, &env.root())
            .header(TUS_RESUMABLE, VERSION)
            .header(UPLOAD_LENGTH, "1")
            .header(UPLOAD_METADATA, raw.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{raw}");
        let body = res.text().await.unwrap();
        assert!(body.contains(needle), "{body}");
    }
}

#[tokio::test]
async fn bad_filenames_are_412_and_create_nothing() {
    let env = Env::start().await;
    let long = "x".repeat(256);
    for name in [
        " ",
        "",
        "dir/",
        "filewithLF-and-CR\r\n",
        "my\u{c}file",
        "back\\slash",
        "..",
        ".",
        "nul\0byte",
        long.as_str(),
        "../escape.txt",
        "a/../../escape.txt",
        "/a/./b.txt",
    ] {
        let res = env
            .post(&env.root(), 1, &[("filename", name)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED, "{name:?}");
        assert!(header(&res, "location").is_none(), "{name:?}");
    }
    let res = env
        .post(&env.root(), 1, &[("name", "a.txt")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED, "no filename");
    let children = env
        .srv
        .state
        .store()
        .children(env.sid.root())
        .await
        .unwrap();
    assert!(children.is_empty(), "{children:?}");
}

#[tokio::test]
async fn bad_mtime_and_checksum_metadata_are_400() {
    let env = Env::start().await;
    for meta in [
        [("filename", "a"), ("mtime", "yesterday")],
        [("filename", "a"), ("checksum", "SHA1 123")],
        [("filename", "a"), ("checksum", "CRC32 1a0b045d")],
    ] {
        let res = env.post(&env.root(), 1, &meta).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{meta:?}");
    }
    // Placeholders that browsers send count as absent.
    for placeholder in ["null", "undefined", ""] {
        let res = env
            .post(&env.root(), 1, &[("filename", "a"), ("mtime", placeholder)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "{placeholder:?}");
    }
}

#[tokio::test]
async fn existing_folder_is_409_and_missing_parent_412() {
    let env = Env::start().await;
    let store = env.srv.state.store();
    store
        .create_folder(env.sid.space, &SpacePath::parse("docs").unwrap())
        .await
        .unwrap();
    let res = env
        .post(&env.root(), 1, &[("filename", "docs")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = env
        .post(&env.root(), 1, &[("filename", "nope/file.txt")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    // A sub-path into an existing folder, with or without a leading slash, and a POST to the
    // folder itself both land in the folder.
    for (url, name) in [
        (env.root(), "/docs/one.txt"),
        (env.root(), "docs/two.txt"),
        (format!("{}docs/", env.root()), "three.txt"),
    ] {
        let res = env
            .post(&url, 1, &[("filename", name)])
            .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "{url} {name}");
    }
    for f in ["docs/one.txt", "docs/two.txt", "docs/three.txt"] {
        assert_eq!(env.content(f).await.as_deref(), Some(&b"x"[..]), "{f}");
    }
}

#[tokio::test]
async fn if_match_is_checked_at_creation() {
    let env = Env::start().await;
    assert_eq!(
        env.upload("f.txt", b"old").await.status(),
        StatusCode::CREATED
    );
    let etag = env.node("f.txt").await.unwrap().quoted_etag();
    let res = env
        .post(&env.root(), 3, &[("filename", "f.txt")])
        .header("If-Match", "\"not-the-etag\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    let res = env
        .post(&env.root(), 3, &[("filename", "f.txt")])
        .header("If-Match", etag)
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .body("new")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(env.content("f.txt").await.unwrap(), b"new");
}

#[tokio::test]
async fn if_match_is_checked_again_at_completion() {
    let env = Env::start().await;
    assert_eq!(
        env.upload("f.txt", b"v1").await.status(),
        StatusCode::CREATED
    );
    let etag = env.node("f.txt").await.unwrap().quoted_etag();
    let res = env
        .post(&env.root(), 2, &[("filename", "f.txt")])
        .header("If-Match", etag)
        .send()
        .await
        .unwrap();
    let loc = location(&res);
    // Someone else changes the file meanwhile.
    assert_eq!(
        env.upload("f.txt", b"v2").await.status(),
        StatusCode::CREATED
    );
    let res = env.patch(&loc, 0, b"v3".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(env.content("f.txt").await.unwrap(), b"v2");
    assert_eq!(env.head(&loc).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn viewers_get_403_and_non_members_404() {
    let env = Env::start().await;
    let store = env.srv.state.store();
    let admin = store.user_by_name("admin").await.unwrap();
    let bob = env.srv.add_user("bob", "bob-pw").await;
    let _eve = env.srv.add_user("eve", "eve-pw").await;
    let space = store
        .create_project_space(NewSpace {
            name: "Project".into(),
            alias: None,
            quota: None,
            owner: admin.id,
        })
        .await
        .unwrap();
    store
        .set_member(space.id.space, bob.id, Some(Role::Viewer))
        .await
        .unwrap();
    let url = format!("{}/", env.srv.space_url(&space.id));
    for (user, pw, want) in [
        ("bob", "bob-pw", StatusCode::FORBIDDEN),
        ("eve", "eve-pw", StatusCode::NOT_FOUND),
        ("admin", crate::common::ADMIN_PASSWORD, StatusCode::CREATED),
    ] {
        let res = env
            .srv
            .client_as(user, pw)
            .tus_create(&url, 1, &[("filename", "x")])
            .await;
        assert_eq!(res.status, want, "{user}");
    }
    let res = Client::anonymous()
        .tus_create(&url, 1, &[("filename", "x")])
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn quota_counts_open_reservations_and_answers_507() {
    let env = Env::start().await;
    let store = env.srv.state.store();
    store.set_quota(env.sid.space, Some(100)).await.unwrap();
    let res = env
        .post(&env.root(), 101, &[("filename", "big")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
    let first = env.create("a", 60).await;
    let res = env
        .post(&env.root(), 50, &[("filename", "b")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
    // Terminating the first upload frees its reservation.
    let res = env
        .client
        .tus_terminate_request(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = env
        .post(&env.root(), 50, &[("filename", "b")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // creation-with-upload over quota (ocis apiSpaces/tusUpload.feature): 507, nothing stored.
    store.set_quota(env.sid.space, Some(10)).await.unwrap();
    let res = env.upload("c.txt", &[b'z'; 24]).await;
    assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
    assert!(env.node("c.txt").await.is_none());
}

#[tokio::test]
async fn locked_target_is_423_unless_the_request_holds_the_lock() {
    let env = Env::start().await;
    assert_eq!(
        env.upload("locked.txt", b"v1").await.status(),
        StatusCode::CREATED
    );
    let token = env.client.lock(&format!("{}locked.txt", env.root())).await;
    let res = env
        .post(&env.root(), 2, &[("filename", "locked.txt")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::LOCKED);
    assert_tus_headers(&res);
    let res = env
        .post(&env.root(), 2, &[("filename", "locked.txt")])
        .header("If", format!("({token})"))
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .body("v2")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(env.content("locked.txt").await.unwrap(), b"v2");
}
