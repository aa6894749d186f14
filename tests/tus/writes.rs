//! Whole writes (issue 13): a completion re-checks every precondition of DESIGN.md's "one
//! commit" (locks, etag), an upload's offset never moves backwards, and a database failure
//! is a 5xx with its cause logged, never an answer about the upload's state.

use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use spacedav::tus::headers::OFFSET_OCTET_STREAM;

use crate::common::TestServer;
use crate::common::log::{assert_failure_logged_once, captured_log};
use crate::support::*;

/// A project space where the admin manages and bob edits, seen as the admin.
async fn shared_space() -> Env {
    let srv = TestServer::start().await;
    let sid = srv.shared_project_space().await;
    let mut env = Env::with(srv).await;
    env.sid = sid;
    env
}

/// bob locks `path` (a folder lock is deep); returns the lock token.
async fn bob_locks(env: &Env, path: &str) -> String {
    let bob = env.srv.client_as("bob", "bob-pw");
    bob.lock(&format!("{}{path}", env.root())).await
}

#[tokio::test]
async fn completion_into_a_folder_another_user_locked_is_423_and_stays_resumable() {
    let env = shared_space().await;
    let res = env
        .post(&env.root(), 4, &[("filename", "docs/f.txt")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let loc = location(&res);
    let token = bob_locks(&env, "docs").await;

    let res = env.patch(&loc, 0, b"data".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::LOCKED);
    assert!(env.node("docs/f.txt").await.is_none(), "nothing committed");
    let head = env.head(&loc).await;
    assert_eq!(head.status(), StatusCode::OK, "the upload is still there");
    assert_eq!(
        offset(&head),
        0,
        "the completing bytes were not acknowledged"
    );

    // Once bob lets go, the same bytes complete the upload.
    let res = env
        .http
        .request(
            Method::from_bytes(b"UNLOCK").unwrap(),
            format!("{}docs", env.root()),
        )
        .basic_auth("bob", Some("bob-pw"))
        .header("Lock-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = env.patch(&loc, 0, b"data".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(env.content("docs/f.txt").await.unwrap(), b"data");
}

#[tokio::test]
async fn completion_over_a_file_another_user_locked_is_423_and_keeps_the_old_content() {
    let env = shared_space().await;
    assert_eq!(
        env.upload("docs/f.txt", b"v1").await.status(),
        StatusCode::CREATED
    );
    let res = env
        .post(&env.root(), 2, &[("filename", "docs/f.txt")])
        .send()
        .await
        .unwrap();
    let loc = location(&res);
    bob_locks(&env, "docs/f.txt").await;
    let res = env.patch(&loc, 0, b"v2".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::LOCKED);
    assert_eq!(env.content("docs/f.txt").await.unwrap(), b"v1");
    assert!(env.versions("docs/f.txt").await.is_empty());
}

#[tokio::test]
async fn the_lock_holder_completes_an_upload_into_its_locked_folder() {
    let env = shared_space().await;
    // The admin takes the lock this time, and uploads without naming the token again: the
    // lock is the uploader's own.
    let token = env.client.lock(&format!("{}docs", env.root())).await;
    let res = env
        .post(&env.root(), 4, &[("filename", "docs/mine.txt")])
        .header("If", format!("({token})"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = env
        .patch(&location(&res), 0, b"mine".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(env.content("docs/mine.txt").await.unwrap(), b"mine");
}

/// The body of a PATCH streamed in 1 MiB chunks without a `Content-Length`, so that the
/// server only learns that it is too long while reading it.
fn streamed(data: Vec<u8>) -> reqwest::Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(1 << 20)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    reqwest::Body::wrap_stream(futures::stream::iter(chunks))
}

#[tokio::test]
async fn an_over_long_body_after_a_checkpoint_keeps_the_checkpoint() {
    let env = Env::start().await;
    let length: usize = (64 << 20) + (1 << 20);
    let data = bytes(length, 7);
    let loc = env.create("long.bin", length as u64).await;
    // Two MiB more than the upload's length: the server checkpoints at 64 MiB, then meets
    // the surplus.
    let mut long = data.clone();
    long.extend(bytes(2 << 20, 9));
    let res = env
        .patch(&loc, 0, Vec::new())
        .body(streamed(long))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let head = env.head(&loc).await;
    let kept = offset(&head);
    assert!(
        kept >= 64 << 20,
        "the checkpoint was given up: offset {kept}"
    );
    assert!(kept < length as u64, "{kept}");

    // The client resumes from there and completes with the right bytes.
    let res = env
        .patch(&loc, kept, data[kept as usize..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let node = env.node("long.bin").await.unwrap();
    assert_eq!(node.size, length as u64);
    assert_eq!(
        node.checksums.sha1.as_deref(),
        Some(sha1_hex(&data).as_str())
    );
}

#[tokio::test]
async fn a_database_error_during_the_lock_check_is_500_with_its_cause_logged() {
    let log = captured_log();
    let env = Env::start().await;
    env.srv.drop_table("dav_locks").await;
    let res = env
        .post(&env.root(), 1, &[("filename", "f.txt")])
        .header("X-Request-ID", "tus-lock-db-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_failure_logged_once(&log, "tus-lock-db-1", "dav_locks");
}

#[tokio::test]
async fn a_database_error_during_the_completion_lock_check_is_500_and_commits_nothing() {
    let log = captured_log();
    let env = Env::start().await;
    let loc = env.create("f.txt", 1).await;
    env.srv.drop_table("dav_locks").await;
    let res = env
        .patch(&loc, 0, b"x".to_vec())
        .header("X-Request-ID", "tus-lock-db-2")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_failure_logged_once(&log, "tus-lock-db-2", "dav_locks");
    assert!(env.node("f.txt").await.is_none());
}

#[tokio::test]
async fn a_negative_mtime_is_400_in_the_header_and_in_the_metadata() {
    let env = Env::start().await;
    let res = env
        .post(&env.root(), 1, &[("filename", "a.txt")])
        .header("X-OC-Mtime", "-10")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = env
        .post(&env.root(), 1, &[("filename", "b.txt"), ("mtime", "-10")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // The same value WebDAV accepts is accepted here.
    let res = env
        .post(&env.root(), 1, &[("filename", "c.txt")])
        .header("X-OC-Mtime", "1500000000.5")
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .body("c")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let node = env.node("c.txt").await.unwrap();
    assert_eq!(node.mtime.0, 1_500_000_000_500_000_000);
}

/// `DELETE` of `url` as `client`, with `If: (<token>)` when given; the status.
async fn delete_with(
    client: &crate::common::client::Client,
    url: &str,
    token: Option<&str>,
) -> u16 {
    let mut req = client.request("DELETE", url);
    if let Some(t) = token {
        req = req.header("If", format!("({t})"));
    }
    req.send().await.unwrap().status().as_u16()
}

/// The URL of `docs`, after the admin put `a.txt` and `b.txt` into it.
async fn docs_with_two_files(env: &Env) -> String {
    let docs = format!("{}docs", env.root());
    for name in ["a.txt", "b.txt"] {
        let put = env
            .client
            .put(&format!("{docs}/{name}"), b"x".to_vec(), None)
            .await;
        assert_eq!(put.status(), StatusCode::CREATED);
    }
    docs
}

#[tokio::test]
async fn a_locked_tree_is_deleted_whole_by_its_lock_holder_and_by_nobody_else() {
    let env = shared_space().await;
    let docs = docs_with_two_files(&env).await;
    let token = env.client.lock(&docs).await;
    let bob = env.srv.client_as("bob", "bob-pw");
    assert_eq!(
        delete_with(&bob, &docs, None).await,
        423,
        "bob holds no lock"
    );
    assert_eq!(
        delete_with(&env.client, &docs, None).await,
        423,
        "no token submitted"
    );
    assert_eq!(
        delete_with(&bob, &docs, Some(&token)).await,
        423,
        "another user's token"
    );
    assert!(env.node("docs/a.txt").await.is_some(), "nothing deleted");

    assert_eq!(delete_with(&env.client, &docs, Some(&token)).await, 204);
    assert!(env.node("docs").await.is_none());
    let store = env.srv.state.store();
    let trash = store.trash_items(env.sid.space).await.unwrap();
    assert_eq!(trash.len(), 1, "the folder went to the trash whole");
    assert!(
        store
            .locks_of_space(env.sid.space)
            .await
            .unwrap()
            .is_empty(),
        "its lock went with it"
    );
}

#[tokio::test]
async fn a_tree_with_another_users_lock_below_is_not_deleted() {
    let env = shared_space().await;
    let docs = docs_with_two_files(&env).await;
    let own = env.client.lock(&format!("{docs}/a.txt")).await;
    bob_locks(&env, "docs/b.txt").await;
    assert_eq!(delete_with(&env.client, &docs, None).await, 423);
    let status = delete_with(&env.client, &docs, Some(&own)).await;
    assert!(status == 423 || status == 412 || status == 207, "{status}");
    assert!(env.node("docs/b.txt").await.is_some(), "bob's file stays");
    assert!(env.node("docs").await.is_some(), "the folder stays");
}
