//! Completion (SPEC §3–§4): creation-with-upload, zero-byte uploads, the acted-on metadata
//! (`mtime`, `checksum`, `filetype`), the completion headers, overwrites and versions.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use spacedav::tus::headers::OFFSET_OCTET_STREAM;

use crate::support::*;

#[tokio::test]
async fn creation_with_upload_completes_with_the_file_headers() {
    let env = Env::start().await;
    let data = b"upload content";
    let res = env
        .post(
            &env.root(),
            data.len() as u64,
            &[
                ("filename", "test.txt"),
                ("mtime", "1697446179"),
                ("filetype", "text/plain"),
            ],
        )
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_tus_headers(&res);
    assert_eq!(offset(&res), 14);
    let node = env.node("test.txt").await.unwrap();
    let rid = env.sid.resource(node.id).to_string();
    assert_eq!(header(&res, "oc-fileid"), Some(rid));
    assert_eq!(header(&res, "etag"), Some(node.quoted_etag()));
    assert_eq!(header(&res, "oc-etag"), Some(node.quoted_etag()));
    assert_eq!(header(&res, "oc-perm").as_deref(), Some("RDNVWZP"));
    assert_eq!(
        header(&res, "last-modified").as_deref(),
        Some("Mon, 16 Oct 2023 08:49:39 GMT")
    );
    assert_eq!(header(&res, "x-oc-mtime").as_deref(), Some("accepted"));
    assert_eq!(node.content_type.as_deref(), Some("text/plain"));
    assert_eq!(node.checksums.sha1, Some(sha1_hex(data)));
    assert_eq!(env.content("test.txt").await.unwrap(), data);
}

#[tokio::test]
async fn creation_with_a_partial_body_answers_its_offset() {
    let env = Env::start().await;
    let res = env
        .post(&env.root(), 10, &[("filename", "p.txt")])
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .body("1234")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(offset(&res), 4);
    assert!(header(&res, "oc-fileid").is_none());
    assert!(env.node("p.txt").await.is_none());
    let loc = location(&res);
    let res = env.patch(&loc, 4, b"567890".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(env.content("p.txt").await.unwrap(), b"1234567890");
    // A body longer than Upload-Length: 413, and the Location of the session still comes.
    let res = env
        .post(&env.root(), 2, &[("filename", "q.txt")])
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .body("toolong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(header(&res, "location").is_some());
    assert!(env.node("q.txt").await.is_none());
}

#[tokio::test]
async fn zero_byte_upload_completes_at_creation_and_truncates() {
    let env = Env::start().await;
    for round in 0..2 {
        if round == 1 {
            assert_eq!(
                env.upload("empty.txt", b"data").await.status(),
                StatusCode::CREATED
            );
        }
        let res = env
            .post(&env.root(), 0, &[("filename", "empty.txt")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let loc = location(&res);
        assert!(loc.contains("/data/"), "{loc}");
        assert!(header(&res, "oc-fileid").is_some());
        let head = env.head(&loc).await;
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(offset(&head), 0);
        assert_eq!(header(&head, "upload-length").as_deref(), Some("0"));
        let node = env.node("empty.txt").await.unwrap();
        assert_eq!(node.size, 0);
        assert_eq!(env.content("empty.txt").await.unwrap(), b"");
    }
}

#[tokio::test]
async fn metadata_checksum_is_verified_at_completion() {
    let env = Env::start().await;
    let data = b"hello world";
    for (alg, digest) in [
        ("SHA1", sha1_hex(data)),
        ("md5", md5_hex(data)),
        ("ADLER32", "1a0b045d".to_string()),
        (
            "SHA256",
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9".to_string(),
        ),
    ] {
        let name = format!("ok-{alg}.txt");
        let sum = format!("{alg} {digest}");
        let res = env
            .post(&env.root(), 11, &[("filename", &name), ("checksum", &sum)])
            .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
            .body(data.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "{sum}");
        assert_eq!(env.content(&name).await.unwrap(), data);
    }
    let sum = format!("SHA1 {}", sha1_hex(b"something else"));
    let res = env
        .post(
            &env.root(),
            11,
            &[("filename", "bad.txt"), ("checksum", &sum)],
        )
        .send()
        .await
        .unwrap();
    let loc = location(&res);
    let res = env.patch(&loc, 0, data.to_vec()).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 460);
    assert!(env.node("bad.txt").await.is_none());
    assert_eq!(env.head(&loc).await.status(), StatusCode::NOT_FOUND);
    let quota = env.srv.state.store().quota(env.sid.space).await.unwrap();
    assert_eq!(quota.reserved, 0);
}

#[tokio::test]
async fn uppy_metadata_with_many_keys_is_accepted() {
    let env = Env::start().await;
    let res = env
        .post(
            &env.root(),
            3,
            &[
                ("name", "pic.png"),
                ("type", "image/png"),
                ("filetype", "image/png"),
                ("filename", "pic.png"),
                ("relativePath", "null"),
                ("spaceId", "undefined"),
                ("currentFolder", "/"),
                ("uppyId", "uppy-pic/png-1e-image/png-3-1697446179123"),
                ("mtime", "1697446179.123"),
            ],
        )
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .body("png")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let node = env.node("pic.png").await.unwrap();
    assert_eq!(node.mtime.0, 1_697_446_179_123_000_000);
    assert_eq!(node.content_type.as_deref(), Some("image/png"));
}

#[tokio::test]
async fn overwrite_keeps_the_file_id_and_makes_a_version() {
    let env = Env::start().await;
    assert_eq!(
        env.upload("v.txt", b"one").await.status(),
        StatusCode::CREATED
    );
    let first = env.node("v.txt").await.unwrap();
    let res = env.upload("v.txt", b"two!").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let second = env.node("v.txt").await.unwrap();
    assert_eq!(first.id, second.id);
    assert_ne!(first.etag, second.etag);
    assert_eq!(env.content("v.txt").await.unwrap(), b"two!");
    let versions = env.versions("v.txt").await;
    assert_eq!(versions.len(), 1);
    assert_eq!((versions[0].size, &versions[0].etag), (3, &first.etag));
}

#[tokio::test]
async fn x_oc_mtime_on_the_post_sets_the_mtime() {
    let env = Env::start().await;
    let res = env
        .post(&env.root(), 1, &[("filename", "desk.txt")])
        .header("X-OC-Mtime", "1000000000")
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .body("d")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(header(&res, "x-oc-mtime").as_deref(), Some("accepted"));
    assert_eq!(
        env.node("desk.txt").await.unwrap().mtime.unix_secs(),
        1_000_000_000
    );
}

/// A crash between the commit and the session's bookkeeping leaves a complete session whose
/// blob is already the file's: the next PATCH finishes the bookkeeping instead of committing
/// the same bytes again (which would add a version of the file pointing at itself).
#[tokio::test]
async fn completing_a_session_whose_bytes_were_already_committed_commits_once() {
    use spacedav::spaces::{NewContent, Precondition, SpacePath};
    let env = Env::start().await;
    let loc = env.create("r.txt", 3).await;
    let store = env.srv.state.store();
    let s = strand(&env, b"abc").await;
    let content = NewContent {
        blob: s.blob.clone(),
        size: 3,
        checksums: Default::default(),
        mtime: None,
        content_type: None,
        reservation: Some(s.id.to_string()),
    };
    let path = SpacePath::parse("r.txt").unwrap();
    let node = store.commit_file(s.space, &path, content, Precondition::None);
    let node = node.await.unwrap().node;
    let res = env.patch(&loc, 3, Vec::new()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let rid = env.sid.resource(node.id).to_string();
    assert_eq!(header(&res, "oc-fileid"), Some(rid));
    assert_eq!(env.content("r.txt").await.unwrap(), b"abc");
    assert!(env.versions("r.txt").await.is_empty());
    assert!(store.upload(s.id).await.unwrap().unwrap().done);
}

/// Writes `data` into the staging blob of the only open session and records its offset at
/// the full length, without committing: what a kill between the final offset and the commit
/// left behind in versions before issue 15.
async fn strand(env: &Env, data: &[u8]) -> spacedav::spaces::Upload {
    let store = env.srv.state.store();
    let mut s = store.uploads().await.unwrap().pop().unwrap();
    crate::common::stage_without_committing(store, &mut s, data).await;
    s
}

/// Issue 15: a client that sees `Upload-Offset` = `Upload-Length` considers the upload done
/// and sends nothing more, so HEAD commits a stranded upload before answering.
#[tokio::test]
async fn head_of_an_upload_stranded_at_its_length_commits_the_file_first() {
    let env = Env::start().await;
    let loc = env.create("s.txt", 3).await;
    strand(&env, b"abc").await;
    let res = env.head(&loc).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(offset(&res), 3);
    assert_eq!(env.content("s.txt").await.as_deref(), Some(&b"abc"[..]));
    let again = env.head(&loc).await;
    assert_eq!(offset(&again), 3);
    assert!(env.versions("s.txt").await.is_empty(), "committed once");
}

/// Issue 15: at start-up (and on every sweep) stranded uploads are committed, even if no
/// client ever asks again.
#[tokio::test]
async fn the_sweep_commits_uploads_stranded_at_their_length() {
    let env = Env::start().await;
    env.create("t.txt", 4).await;
    let s = strand(&env, b"abcd").await;
    let swept = spacedav::router::maintenance::sweep_once(&env.srv.state).await;
    assert_eq!(swept.committed, 1);
    assert_eq!(env.content("t.txt").await.as_deref(), Some(&b"abcd"[..]));
    let store = env.srv.state.store();
    assert!(store.upload(s.id).await.unwrap().unwrap().done);
    assert_eq!(
        spacedav::router::maintenance::sweep_once(&env.srv.state)
            .await
            .committed,
        0
    );
}

/// Issue 15: the finished upload session no longer pins the file's blob, so deleting a
/// tus-uploaded file and purging it from the trash (issue 11) frees its bytes like a PUT
/// file's (at once; at the latest by the sweep).
#[tokio::test]
async fn purging_a_deleted_tus_uploaded_file_frees_its_blob_within_one_sweep() {
    let env = Env::start().await;
    let res = env.upload("gone.bin", &bytes(70_000, 5)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let blob = env.node("gone.bin").await.unwrap().blob.unwrap();
    let store = env.srv.state.store();
    let stored = |list: Vec<(spacedav::spaces::BlobKey, std::time::SystemTime)>| {
        list.iter().any(|(k, _)| *k == blob)
    };
    assert!(stored(store.blobs().list().await.unwrap()));
    let del = env
        .req(reqwest::Method::DELETE, &format!("{}gone.bin", env.root()))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    spacedav::router::maintenance::sweep_once(&env.srv.state).await;
    assert!(
        stored(store.blobs().list().await.unwrap()),
        "kept by the trash"
    );
    let bin = env.root().replace("/dav/spaces/", "/dav/spaces/trash-bin/");
    let purge = env.req(reqwest::Method::DELETE, &bin).send().await.unwrap();
    assert_eq!(purge.status(), StatusCode::NO_CONTENT);
    spacedav::router::maintenance::sweep_once(&env.srv.state).await;
    assert!(!stored(store.blobs().list().await.unwrap()), "blob freed");
}
