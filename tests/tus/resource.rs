//! The upload resource `/data/{token}` (SPEC §4): every status of PATCH, HEAD, DELETE and
//! OPTIONS, method override, tokens, checksums, deferred length, concatenation, expiry.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use spacedav::tus::headers::{
    OFFSET_OCTET_STREAM, TUS_RESUMABLE, UPLOAD_CHECKSUM, UPLOAD_CONCAT, UPLOAD_DEFER_LENGTH,
    UPLOAD_LENGTH, UPLOAD_METADATA, UPLOAD_OFFSET, VERSION,
};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::{Method, StatusCode};

use crate::common::TestServer;
use crate::common::client::tus_metadata;
use crate::support::*;

#[tokio::test]
async fn patch_checks_version_content_type_and_offset() {
    let env = Env::start().await;
    let loc = env.create("a.txt", 10).await;
    let res = env
        .http
        .patch(&loc)
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .header(UPLOAD_OFFSET, "0")
        .body("123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(header(&res, "tus-version").as_deref(), Some("1.0.0"));
    let res = env
        .http
        .patch(&loc)
        .header(TUS_RESUMABLE, VERSION)
        .header("Content-Type", "application/octet-stream")
        .header(UPLOAD_OFFSET, "0")
        .body("123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for bad in [None, Some("x"), Some("-1")] {
        let mut req = env
            .http
            .patch(&loc)
            .header(TUS_RESUMABLE, VERSION)
            .header(CONTENT_TYPE, OFFSET_OCTET_STREAM);
        if let Some(b) = bad {
            req = req.header(UPLOAD_OFFSET, b);
        }
        let res = req.body("123").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        assert_tus_headers(&res);
    }
    let res = env.patch(&loc, 1, b"123".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = env.patch(&loc, 0, b"123".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_tus_headers(&res);
    assert_eq!(offset(&res), 3);
    assert!(header(&res, "upload-expires").is_some());
    assert!(header(&res, "oc-fileid").is_none());
    let res = env.patch(&loc, 0, b"000".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // Beyond Upload-Length: 413 and nothing of the request kept.
    let res = env
        .patch(&loc, 3, b"45678901".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(offset(&env.head(&loc).await), 3);
    let res = env
        .patch(&loc, 3, b"4567890".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(offset(&res), 10);
    assert!(header(&res, "oc-fileid").is_some());
    assert!(header(&res, "oc-etag").is_some());
    assert_eq!(env.content("a.txt").await.unwrap(), b"1234567890");
    // The finished upload is gone for writing.
    let res = env
        .patch(&loc, 3, b"4567890".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(env.content("a.txt").await.unwrap(), b"1234567890");
}

#[tokio::test]
async fn upload_checksum_accepts_hex_and_base64_and_rejects_mismatch_with_460() {
    let env = Env::start().await;
    let loc = env.create("c.txt", 9).await;
    let patch = |off: u64, data: &'static [u8], sum: String| {
        env.patch(&loc, off, data.to_vec())
            .header(UPLOAD_CHECKSUM, sum)
    };
    let res = patch(0, b"abc", format!("SHA1 {}", sha1_hex(b"abc")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let b64 = STANDARD.encode(hex::decode(md5_hex(b"def")).unwrap());
    let res = patch(3, b"def", format!("md5 {b64}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = patch(6, b"ghi", format!("sha1 {}", sha1_hex(b"xyz")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 460);
    assert_tus_headers(&res);
    assert_eq!(offset(&env.head(&loc).await), 6);
    let res = patch(6, b"ghi", "crc32 AAAAAA==".into())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // sha256 is supported but not enabled by default.
    let res = patch(6, b"ghi", format!("sha256 {}", "00".repeat(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let adler = hex::encode(spacedav::spaces::checksum::digest(
        spacedav::spaces::Algorithm::Adler32,
        b"ghi",
    ));
    let res = patch(6, b"ghi", format!("ADLER32 {adler}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "adler32 of ghi");
    assert_eq!(env.content("c.txt").await.unwrap(), b"abcdefghi");
    let node = env.node("c.txt").await.unwrap();
    assert_eq!(node.checksums.sha1, Some(sha1_hex(b"abcdefghi")));
    assert_eq!(node.checksums.md5, Some(md5_hex(b"abcdefghi")));
}

#[tokio::test]
async fn head_reports_offset_length_metadata_and_no_store() {
    let env = Env::start().await;
    let pairs = [("filename", "h.txt"), ("extra", "kept")];
    let meta = tus_metadata(&pairs);
    let res = env.post(&env.root(), 5, &pairs).send().await.unwrap();
    let loc = location(&res);
    let expires = header(&res, "upload-expires");
    env.patch(&loc, 0, b"ab".to_vec()).send().await.unwrap();
    // HEAD needs no Tus-Resumable (oCIS), and ignores credentials.
    let head = env
        .http
        .head(&loc)
        .basic_auth("nobody", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(offset(&head), 2);
    assert_eq!(header(&head, "upload-length").as_deref(), Some("5"));
    assert_eq!(header(&head, "upload-metadata"), Some(meta));
    assert_eq!(header(&head, "upload-expires"), expires);
    assert_eq!(header(&head, "cache-control").as_deref(), Some("no-store"));
    assert_tus_headers(&head);
}

#[tokio::test]
async fn delete_terminates_and_frees_bytes_and_quota() {
    let env = Env::start().await;
    let loc = env.create("d.txt", 10).await;
    env.patch(&loc, 0, b"12345".to_vec()).send().await.unwrap();
    let store = env.srv.state.store();
    assert_eq!(store.quota(env.sid.space).await.unwrap().reserved, 10);
    let blobs_before = store.blobs().list().await.unwrap().len();
    let res = env.client.tus_terminate_request(&loc).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_tus_headers(&res);
    assert_eq!(store.quota(env.sid.space).await.unwrap().reserved, 0);
    assert_eq!(store.blobs().list().await.unwrap().len(), blobs_before - 1);
    assert_eq!(env.head(&loc).await.status(), StatusCode::NOT_FOUND);
    let res = env.patch(&loc, 5, b"67890".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(env.node("d.txt").await.is_none());
}

#[tokio::test]
async fn options_and_method_override() {
    let env = Env::start().await;
    let loc = env.create("o.txt", 6).await;
    let res = env
        .http
        .request(Method::OPTIONS, &loc)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&res, "tus-version").as_deref(), Some("1.0.0"));
    assert_eq!(
        header(&res, "tus-checksum-algorithm").as_deref(),
        Some("md5,sha1,adler32")
    );
    assert_eq!(
        header(&res, "tus-max-size").as_deref(),
        Some("1099511627776")
    );
    let over = |m: &str| {
        env.http
            .post(&loc)
            .header("X-HTTP-Method-Override", m)
            .header(TUS_RESUMABLE, VERSION)
    };
    let res = over("PATCH")
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .header(UPLOAD_OFFSET, "0")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(offset(&res), 3);
    let res = over("HEAD").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(offset(&res), 3);
    let res = over("DELETE").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(env.head(&loc).await.status(), StatusCode::NOT_FOUND);
    let res = env.http.get(&loc).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn bad_tokens_are_403_with_an_empty_body() {
    let env = Env::start().await;
    let loc = env.create("t.txt", 3).await;
    let token = loc.rsplit('/').next().unwrap().to_string();
    let parts: Vec<&str> = token.split('.').collect();
    let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let mut payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
    let last = payload.len() - 3;
    payload[last] ^= 1;
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(&payload),
        parts[2]
    );
    for bad in [
        "garbage".to_string(),
        format!("{none}.{}.", parts[1]),
        tampered,
        format!("{}.{}.{}", parts[0], parts[1], "AAAA"),
    ] {
        let url = format!("{}/data/{bad}", env.srv.base);
        let res = env.patch(&url, 0, b"abc".to_vec()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{bad}");
        assert_tus_headers(&res);
        assert!(res.bytes().await.unwrap().is_empty());
        assert_eq!(env.head(&url).await.status(), StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn expired_sessions_are_404_and_swept_with_their_bytes_and_reservation() {
    let env =
        Env::with(TestServer::start_with(|c| c.upload_expiry = Duration::from_secs(1)).await).await;
    let loc = env.create("e.txt", 10).await;
    env.patch(&loc, 0, b"123".to_vec()).send().await.unwrap();
    let store = env.srv.state.store();
    let tus = env.srv.state.tus();
    assert_eq!(tus.list_uploads().await.unwrap().len(), 1);
    env.srv.advance(Duration::from_millis(2100));
    assert_eq!(env.head(&loc).await.status(), StatusCode::NOT_FOUND);
    let res = env.patch(&loc, 3, b"4".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let blobs = store.blobs().list().await.unwrap().len();
    assert_eq!(tus.clean_expired().await.unwrap(), 1);
    assert!(tus.list_uploads().await.unwrap().is_empty());
    assert_eq!(store.blobs().list().await.unwrap().len(), blobs - 1);
    assert_eq!(store.quota(env.sid.space).await.unwrap().reserved, 0);
}

#[tokio::test]
async fn sweeping_a_finished_upload_keeps_its_file() {
    let env =
        Env::with(TestServer::start_with(|c| c.upload_expiry = Duration::from_secs(1)).await).await;
    // Creation, then PATCH: a session row stays behind when the PATCH finishes it (a
    // creation-with-upload that finishes at once leaves none).
    let loc = env.create("kept.txt", 4).await;
    let res = env.patch(&loc, 0, b"kept".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    env.srv.advance(Duration::from_millis(1100));
    assert_eq!(env.srv.state.tus().clean_expired().await.unwrap(), 1);
    assert_eq!(env.content("kept.txt").await.unwrap(), b"kept");
}

#[tokio::test]
async fn deferred_length_is_set_by_a_later_patch() {
    let env = Env::start().await;
    let res = env
        .req(Method::POST, &env.root())
        .header(TUS_RESUMABLE, VERSION)
        .header(UPLOAD_DEFER_LENGTH, "1")
        .header(UPLOAD_METADATA, tus_metadata(&[("filename", "defer.txt")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let loc = location(&res);
    let head = env.head(&loc).await;
    assert_eq!(header(&head, "upload-defer-length").as_deref(), Some("1"));
    assert!(header(&head, "upload-length").is_none());
    let res = env.patch(&loc, 0, b"abc".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = env
        .patch(&loc, 3, b"def".to_vec())
        .header(UPLOAD_LENGTH, "6")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(header(&res, "oc-fileid").is_some());
    assert_eq!(env.content("defer.txt").await.unwrap(), b"abcdef");
}

#[tokio::test]
async fn concatenation_assembles_finished_partials_into_one_file() {
    let env = Env::start().await;
    let partial = |len: u64| {
        env.req(Method::POST, &env.root())
            .header(TUS_RESUMABLE, VERSION)
            .header(UPLOAD_LENGTH, len.to_string())
            .header(UPLOAD_CONCAT, "partial")
    };
    let a = location(&partial(3).send().await.unwrap());
    let b = location(&partial(4).send().await.unwrap());
    let head = env.head(&a).await;
    assert_eq!(header(&head, "upload-concat").as_deref(), Some("partial"));
    env.patch(&b, 0, b"defg".to_vec()).send().await.unwrap();
    let fin = |urls: String| {
        env.req(Method::POST, &env.root())
            .header(TUS_RESUMABLE, VERSION)
            .header(UPLOAD_CONCAT, format!("final;{urls}"))
            .header(UPLOAD_METADATA, tus_metadata(&[("filename", "joined.txt")]))
    };
    // `a` is not finished yet.
    let res = fin(format!("{a} {b}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    env.patch(&a, 0, b"abc".to_vec()).send().await.unwrap();
    assert!(
        env.node("joined.txt").await.is_none(),
        "partials are no files"
    );
    let path_only = b
        .split_once("/data/")
        .map(|(_, t)| format!("/data/{t}"))
        .unwrap();
    let res = fin(format!("{a} {path_only}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(header(&res, "oc-fileid").is_some());
    assert_eq!(env.content("joined.txt").await.unwrap(), b"abcdefg");
    let node = env.node("joined.txt").await.unwrap();
    assert_eq!(node.checksums.sha1, Some(sha1_hex(b"abcdefg")));
    let fin_loc = location(&res);
    let res = env.patch(&fin_loc, 7, b"x".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let head = env.head(&fin_loc).await;
    assert!(
        header(&head, "upload-concat")
            .unwrap()
            .starts_with("final;")
    );
    // The parts are consumed.
    assert_eq!(env.head(&a).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        env.srv
            .state
            .store()
            .quota(env.sid.space)
            .await
            .unwrap()
            .reserved,
        0
    );
}
