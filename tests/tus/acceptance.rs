//! oCIS acceptance scenarios (ocis-spec.md §9, `coreApiWebdavUploadTUS/*`, `apiSpaces/tusUpload`)
//! as black-box tests on the three WebDAV roots, including the ones oCIS lists as expected
//! failures: 460 on checksum mismatch, `Tus-Checksum-Algorithm: md5,sha1,adler32`, and 401 on
//! `OPTIONS` with wrong credentials.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use spacedav::http::headers::OC_PERM;
use spacedav::spaces::{NewSpace, Role};
use spacedav::tus::headers::{
    OFFSET_OCTET_STREAM, TUS_RESUMABLE, UPLOAD_CHECKSUM, UPLOAD_METADATA, VERSION,
};

use crate::common::ADMIN_PASSWORD;
use crate::common::client::tus_metadata;
use crate::support::*;

/// The folder URLs of the admin's personal space on the three roots ("old", "new", "spaces").
fn roots(env: &Env) -> [String; 3] {
    [
        format!("{}/remote.php/webdav/", env.srv.base),
        format!("{}/remote.php/dav/files/admin/", env.srv.base),
        env.root(),
    ]
}

async fn get(env: &Env, url: &str) -> (StatusCode, Vec<u8>) {
    env.client.get(url).await
}

async fn propfind(env: &Env, url: &str, props: &str) -> String {
    let (status, body) = env.client.propfind(url, "0", props).await;
    assert_eq!(status, 207, "PROPFIND {url}");
    body
}

fn tus_post(env: &Env, url: &str, len: u64, name: &str) -> reqwest::RequestBuilder {
    env.post(url, len, &[("filename", name)])
}

#[tokio::test]
async fn low_level_creation_on_every_root() {
    let env = Env::start().await;
    for root in roots(&env) {
        let res = tus_post(&env, &root, 100, "textFile.txt")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "{root}");
        assert_eq!(header(&res, "tus-resumable").as_deref(), Some("1.0.0"));
        let loc = location(&res);
        let (scheme_host, rest) = loc.split_once("://").unwrap();
        assert!(scheme_host.starts_with("http"), "{loc}");
        assert!(
            rest.split_once("/data/")
                .is_some_and(|(h, _)| h.contains(':')),
            "{loc}"
        );
        let res = env
            .req(Method::POST, &root)
            .header(TUS_RESUMABLE, VERSION)
            .header(
                UPLOAD_METADATA,
                tus_metadata(&[("filename", "textFile.txt")]),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED, "{root}");
        assert!(header(&res, "location").is_none());
    }
}

#[tokio::test]
async fn creation_with_upload_on_every_root() {
    let env = Env::start().await;
    for root in roots(&env) {
        let res = tus_post(&env, &root, 16, "cwu.txt")
            .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
            .header("Tus-Extension", "creation-with-upload")
            .body("uploaded content")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "{root}");
        assert!(header(&res, "location").is_some());
        assert_eq!(offset(&res), 16);
        let (status, body) = get(&env, &format!("{root}cwu.txt")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, b"uploaded content");
    }
}

#[tokio::test]
async fn low_level_upload_offsets() {
    let env = Env::start().await;
    let loc = location(
        &tus_post(&env, &env.root(), 10, "lowlevel.txt")
            .send()
            .await
            .unwrap(),
    );
    let res = env.patch(&loc, 0, b"123".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = env.patch(&loc, 0, b"000".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let (status, _) = get(&env, &format!("{}lowlevel.txt", env.root())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = env
        .patch(&loc, 3, b"4567890".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, body) = get(&env, &format!("{}lowlevel.txt", env.root())).await;
    assert_eq!(body, b"1234567890");
    let res = env
        .patch(&loc, 3, b"4567890".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (_, body) = get(&env, &format!("{}lowlevel.txt", env.root())).await;
    assert_eq!(body, b"1234567890");
    let loc = location(
        &tus_post(&env, &env.root(), 10, "other.txt")
            .send()
            .await
            .unwrap(),
    );
    let res = env.patch(&loc, 1, b"123".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn upload_file_names_chunks_and_versions() {
    let env = Env::start().await;
    let root = env.root();
    let res = env
        .req(
            Method::from_bytes(b"MKCOL").unwrap(),
            &format!("{root}strängé%20folder"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    for name in [
        "नेपाली.txt",
        "strängé file.txt",
        "s,a,m,p,l,e.txt",
        "C++ file.cpp",
        "?fi=le&%#2 . txt",
        "# %ab ab?=ed",
        "strängé folder/नेपाली.txt",
    ] {
        let loc = location(&tus_post(&env, &root, 9, name).send().await.unwrap());
        for (i, chunk) in [b"abc", b"def", b"ghi"].iter().enumerate() {
            let res = env
                .patch(&loc, 3 * i as u64, chunk.to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NO_CONTENT, "{name} chunk {i}");
        }
        assert_eq!(
            env.content(name).await.as_deref(),
            Some(&b"abcdefghi"[..]),
            "{name}"
        );
    }
    // Ten one-byte chunks.
    let loc = location(&tus_post(&env, &root, 10, "ten.txt").send().await.unwrap());
    for i in 0..10u64 {
        let res = env
            .patch(&loc, i, vec![b'0' + i as u8])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(env.content("ten.txt").await.unwrap(), b"0123456789");
    // Overwrite: one version after the second upload.
    assert!(env.versions("ten.txt").await.is_empty());
    assert_eq!(
        env.upload("ten.txt", b"overwritten").await.status(),
        StatusCode::CREATED
    );
    let versions = env.versions("ten.txt").await;
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].size, 10);
}

#[tokio::test]
async fn mtime_metadata_sets_getlastmodified() {
    let env = Env::start().await;
    for (mtime, date) in [
        ("1697446179", "Mon, 16 Oct 2023 08:49:39 GMT"),
        ("5000000000", "Fri, 11 Jun 2128 08:53:20 GMT"),
        ("1000000000", "Sun, 09 Sep 2001 01:46:40 GMT"),
    ] {
        let res = env
            .post(&env.root(), 3, &[("filename", "m.txt"), ("mtime", mtime)])
            .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
            .body("abc")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let xml = propfind(
            &env,
            &format!("{}m.txt", env.root()),
            "<d:getlastmodified/>",
        )
        .await;
        assert!(xml.contains(date), "{mtime}: {xml}");
    }
}

#[tokio::test]
async fn checksums_are_verified_and_recorded() {
    let env = Env::start().await;
    let root = env.root();
    let loc = location(&tus_post(&env, &root, 10, "sum.txt").send().await.unwrap());
    let res = env
        .patch(&loc, 0, b"12345".to_vec())
        .header(UPLOAD_CHECKSUM, format!("MD5 {}", md5_hex(b"12345")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = env
        .patch(&loc, 5, b"67890".to_vec())
        .header(UPLOAD_CHECKSUM, format!("SHA1 {}", sha1_hex(b"67890")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let all = b"1234567890";
    let xml = propfind(&env, &format!("{root}sum.txt"), "<oc:checksums/>").await;
    assert!(xml.contains(&format!("SHA1:{}", sha1_hex(all))), "{xml}");
    assert!(xml.contains(&format!("MD5:{}", md5_hex(all))), "{xml}");
    assert!(xml.contains("ADLER32:"), "{xml}");
    let res = env
        .req(Method::GET, &format!("{root}sum.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&res, "oc-checksum"),
        Some(format!("SHA1:{}", sha1_hex(all)))
    );

    // A wrong checksum: 460 and no file (oCIS: expected failure #1755).
    let loc = location(&tus_post(&env, &root, 5, "wrong.txt").send().await.unwrap());
    let res = env
        .patch(&loc, 0, b"12345".to_vec())
        .header(UPLOAD_CHECKSUM, format!("MD5 {}", md5_hex(b"54321")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 460);
    let (status, _) = get(&env, &format!("{root}wrong.txt")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // First chunk wrong, then the second chunk: 409 (the first never counted).
    let loc = location(&tus_post(&env, &root, 10, "twice.txt").send().await.unwrap());
    let res = env
        .patch(&loc, 0, b"12345".to_vec())
        .header(UPLOAD_CHECKSUM, format!("SHA1 {}", sha1_hex(b"xxxxx")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 460);
    let res = env
        .patch(&loc, 5, b"67890".to_vec())
        .header(UPLOAD_CHECKSUM, format!("SHA1 {}", sha1_hex(b"67890")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn options_on_every_root_with_and_without_credentials() {
    let env = Env::start().await;
    for root in roots(&env) {
        for creds in [None, Some(("admin", ADMIN_PASSWORD))] {
            let mut req = env.http.request(Method::OPTIONS, &root);
            if let Some((u, p)) = creds {
                req = req.basic_auth(u, Some(p));
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NO_CONTENT, "{root} {creds:?}");
            assert_eq!(header(&res, "tus-resumable").as_deref(), Some("1.0.0"));
            assert_eq!(header(&res, "tus-version").as_deref(), Some("1.0.0"));
            let ext = header(&res, "tus-extension").unwrap();
            for e in ["creation", "creation-with-upload", "checksum", "expiration"] {
                assert!(ext.split(',').any(|x| x == e), "{e} in {ext}");
            }
            assert_eq!(
                header(&res, "tus-checksum-algorithm").as_deref(),
                Some("md5,sha1,adler32")
            );
        }
        // Wrong credentials: 401 with the same tus headers (oCIS: expected failure #1012).
        let res = env
            .http
            .request(Method::OPTIONS, &root)
            .basic_auth("admin", Some("wrong"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{root}");
        assert_eq!(header(&res, "tus-resumable").as_deref(), Some("1.0.0"));
        assert!(header(&res, "tus-extension").is_some());
    }
}

#[tokio::test]
async fn upload_to_a_missing_folder_creates_nothing() {
    let env = Env::start().await;
    for root in roots(&env) {
        let res = tus_post(&env, &root, 3, "nonExistentFolder/textfile.txt")
            .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
            .body("abc")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
        let (status, _) = get(&env, &format!("{root}nonExistentFolder/textfile.txt")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn project_space_uploads_for_editors_and_quota() {
    let env = Env::start().await;
    let store = env.srv.state.store();
    let admin = store.user_by_name("admin").await.unwrap();
    let alice = env.srv.add_user("alice", "alice-pw").await;
    let space = store
        .create_project_space(NewSpace {
            name: "Project".into(),
            alias: None,
            quota: Some(10000),
            owner: admin.id,
        })
        .await
        .unwrap();
    store
        .set_member(space.id.space, alice.id, Some(Role::Editor))
        .await
        .unwrap();
    let url = format!("{}/", env.srv.space_url(&space.id));
    let alice = env.srv.client_as("alice", "alice-pw");
    let post =
        |data: Vec<u8>, name: &str| alice.tus_upload_request(&url, data, &[("filename", name)]);
    let res = post(vec![b'a'; 24], "textfile.txt").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(header(&res, OC_PERM).as_deref(), Some("DNVW"));
    let (_, body) = alice.get(&format!("{url}textfile.txt")).await;
    assert_eq!(body.len(), 24);
    // Zero-byte upload into the project space.
    let res = post(Vec::new(), "empty.txt").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    store.set_quota(space.id.space, Some(10)).await.unwrap();
    let res = post(vec![b'a'; 24], "toolarge.txt").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
}

#[tokio::test]
async fn capabilities_and_every_tus_extension_header_agree() {
    let env = Env::start().await;
    let caps = env.srv.capabilities().await;
    let tus = &caps["files"]["tus_support"];
    let advertised = tus["extension"].as_str().unwrap().to_string();
    for e in [
        "creation",
        "creation-with-upload",
        "creation-defer-length",
        "checksum",
        "expiration",
        "termination",
        "concatenation",
    ] {
        assert!(advertised.split(',').any(|x| x == e), "{e} in {advertised}");
    }
    assert_eq!(tus["version"], "1.0.0");
    assert_eq!(tus["resumable"], "1.0.0");
    let mut seen = Vec::new();
    let dav_options = env
        .http
        .request(Method::OPTIONS, env.root())
        .send()
        .await
        .unwrap();
    seen.push(dav_options);
    let created = tus_post(&env, &env.root(), 4, "agree.txt")
        .send()
        .await
        .unwrap();
    let loc = location(&created);
    seen.push(created);
    seen.push(
        env.http
            .request(Method::OPTIONS, &loc)
            .send()
            .await
            .unwrap(),
    );
    seen.push(env.patch(&loc, 0, b"ab".to_vec()).send().await.unwrap());
    seen.push(env.head(&loc).await);
    seen.push(env.patch(&loc, 9, b"ab".to_vec()).send().await.unwrap());
    for res in &seen {
        assert_eq!(
            header(res, "tus-extension").as_deref(),
            Some(advertised.as_str()),
            "{} {}",
            res.url(),
            res.status()
        );
    }
    for res in [&seen[0], &seen[2]] {
        assert_eq!(
            header(res, "tus-checksum-algorithm").as_deref(),
            Some("md5,sha1,adler32")
        );
        assert_eq!(
            header(res, "tus-max-size").as_deref(),
            Some("1099511627776")
        );
    }
}
