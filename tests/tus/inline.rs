//! Small contents inline in the metadata database (issue 13, `storage.inline_max_size`): a
//! small PUT and a small creation-with-upload become files whose bytes live beside the tree
//! (no blob, no session left behind), and every reader serves them as it serves blobs: GET with
//! ranges, COPY, a version restore, a trash restore, fsck. A file above the limit, or any file
//! with the limit at 0, goes to the blob store.

use reqwest::StatusCode;
use reqwest::header::{ETAG, RANGE};
use spacedav::spaces::Node;
use spacedav::tus::headers::UPLOAD_OFFSET;

use crate::common::TestServer;
use crate::common::client::Transfer;
use crate::support::*;

fn is_inline(node: &Node) -> bool {
    node.blob
        .as_ref()
        .is_some_and(|k| k.as_str().starts_with("inline:"))
}

/// A server keeping contents up to `limit` bytes inline.
async fn with_limit(limit: u64) -> Env {
    Env::with(TestServer::start_with(|c| c.inline_max_size = limit).await).await
}

#[tokio::test]
async fn a_small_creation_with_upload_is_one_inline_file_readable_by_ranges_and_leaves_no_session()
{
    let env = Env::start().await;
    let data = bytes(16 << 10, 3);
    let res = env.upload("small.bin", &data).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(offset(&res), data.len() as u64);
    assert!(header(&res, ETAG).is_some(), "completion headers");
    let node = env.node("small.bin").await.expect("committed");
    assert!(is_inline(&node), "{:?}", node.blob);
    assert_eq!(node.size, data.len() as u64);
    let store = env.srv.state.store();
    assert!(store.uploads().await.unwrap().is_empty(), "no session row");
    assert!(store.blobs().list().await.unwrap().is_empty(), "no blob");

    let url = format!("{}small.bin", env.root());
    let (status, body) = env.client.get(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, data);
    let ranged = env
        .client
        .request("GET", &url)
        .header(RANGE, "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.bytes().await.unwrap().as_ref(), &data[100..200]);

    // The Location names no session: like a finished upload that was cleaned up.
    let head = env.head(&location(&res)).await;
    assert_eq!(head.status(), StatusCode::NOT_FOUND);
    env.assert_fsck_clean().await;
}

#[tokio::test]
async fn a_small_put_is_inline_and_a_copy_shares_it_past_the_originals_deletion() {
    let env = Env::start().await;
    let root = env.root();
    let data = bytes(1000, 7);
    let put = env
        .client
        .put(&format!("{root}a.txt"), data.clone(), None)
        .await;
    assert_eq!(put.status(), StatusCode::CREATED);
    let a = env.node("a.txt").await.unwrap();
    assert!(is_inline(&a));
    assert_eq!(
        env.client
            .transfer(
                Transfer::Copy { overwrite: false },
                &format!("{root}a.txt"),
                &format!("{root}b.txt")
            )
            .await,
        StatusCode::CREATED
    );
    assert_eq!(
        env.client.delete(&format!("{root}a.txt")).await,
        StatusCode::NO_CONTENT
    );
    let store = env.srv.state.store();
    assert_eq!(store.empty_trash(env.sid.space).await.unwrap(), 1);
    let (status, body) = env.client.get(&format!("{root}b.txt")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, data, "the copy keeps the shared content");
    env.assert_fsck_clean().await;
}

#[tokio::test]
async fn versions_and_the_trash_restore_inline_contents() {
    let env = Env::start().await;
    let root = env.root();
    let url = format!("{root}v.txt");
    for body in [&b"first"[..], b"second"] {
        assert!(
            env.client
                .put(&url, body.to_vec(), None)
                .await
                .status()
                .is_success()
        );
    }
    let node = env.node("v.txt").await.unwrap();
    assert!(is_inline(&node));
    let versions = env.versions("v.txt").await;
    assert_eq!(versions.len(), 1);
    assert!(versions[0].blob.as_str().starts_with("inline:"));
    let file_id = env
        .srv
        .state
        .store()
        .space_id(env.sid.space)
        .resource(node.id);
    let version_url = env
        .srv
        .url(&format!("/dav/meta/{file_id}/v/{}", versions[0].id));
    let (status, body) = env.client.get(&version_url).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"first"[..]));
    let restore = env
        .client
        .request("COPY", &version_url)
        .header("Destination", &url)
        .send()
        .await
        .unwrap();
    assert_eq!(restore.status(), StatusCode::NO_CONTENT);
    assert_eq!(env.client.get(&url).await.1, b"first");

    assert_eq!(env.client.delete(&url).await, StatusCode::NO_CONTENT);
    assert_eq!(env.client.get(&url).await.0, StatusCode::NOT_FOUND);
    let trash = env.srv.url(&format!(
        "/remote.php/dav/spaces/trash-bin/{}/{}",
        env.sid, node.id
    ));
    let back = env
        .client
        .request("MOVE", &trash)
        .header("Destination", &url)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::CREATED);
    assert_eq!(env.client.get(&url).await.1, b"first");
    assert_eq!(
        env.versions("v.txt").await.len(),
        1,
        "the versions came back too"
    );
    env.assert_fsck_clean().await;
}

#[tokio::test]
async fn contents_above_the_limit_and_all_contents_at_limit_zero_go_to_the_blob_store() {
    let env = with_limit(1024).await;
    let root = env.root();
    env.client
        .put(&format!("{root}at.bin"), bytes(1024, 1), None)
        .await;
    env.client
        .put(&format!("{root}over.bin"), bytes(1025, 2), None)
        .await;
    let res = env.upload("tus-over.bin", &bytes(4096, 3)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(header(&res, UPLOAD_OFFSET).as_deref(), Some("4096"));
    assert!(is_inline(&env.node("at.bin").await.unwrap()));
    assert!(!is_inline(&env.node("over.bin").await.unwrap()));
    assert!(!is_inline(&env.node("tus-over.bin").await.unwrap()));
    assert_eq!(env.content("tus-over.bin").await.unwrap(), bytes(4096, 3));

    let off = with_limit(0).await;
    off.client
        .put(&format!("{}tiny.txt", off.root()), b"x".to_vec(), None)
        .await;
    let res = off.upload("tiny-tus.txt", b"y").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(!is_inline(&off.node("tiny.txt").await.unwrap()));
    assert!(!is_inline(&off.node("tiny-tus.txt").await.unwrap()));
    assert_eq!(off.content("tiny-tus.txt").await.unwrap(), b"y");
}

/// Rows of `inline_contents` in the server's metadata database.
async fn inline_rows(env: &Env) -> i64 {
    use sqlx::Connection;
    let mut db = sqlx::AnyConnection::connect(&env.srv.state.config().metadata_url)
        .await
        .unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM inline_contents")
        .fetch_one(&mut db)
        .await
        .unwrap()
}

#[tokio::test]
async fn purged_and_expired_inline_contents_are_freed() {
    let env = Env::start().await;
    let root = env.root();
    for name in ["a", "b"] {
        env.client
            .put(&format!("{root}{name}.txt"), b"one".to_vec(), None)
            .await;
        env.client
            .put(&format!("{root}{name}.txt"), b"two".to_vec(), None)
            .await;
    }
    assert_eq!(inline_rows(&env).await, 4, "two files with a version each");
    let store = env.srv.state.store();
    assert_eq!(store.expire_versions(100, i64::MAX).await.unwrap(), 2);
    assert_eq!(inline_rows(&env).await, 2, "the versions' contents went");
    assert_eq!(
        env.client.delete(&format!("{root}a.txt")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(inline_rows(&env).await, 2, "the trash keeps its content");
    assert_eq!(store.empty_trash(env.sid.space).await.unwrap(), 1);
    assert_eq!(inline_rows(&env).await, 1, "a purge frees it");
    assert_eq!(env.client.get(&format!("{root}b.txt")).await.1, b"two");
}
