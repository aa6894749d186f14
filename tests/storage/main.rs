//! Storage core: the guarantees every protocol layer builds on (issue 2), through `Store`
//! on SQLite, or on PostgreSQL when `SPACEDAV_TEST_POSTGRES` is set.

#[path = "../common/mod.rs"]
mod common;

mod blobs;
mod streams;
mod tree;

use spacedav::auth::hash_password;
use spacedav::spaces::{Hasher, NewContent, NewUser, Node, SpacePath, Store, User};
use tokio::io::AsyncReadExt;
use uuid::Uuid;

pub(crate) struct Fixture {
    pub store: Store,
    pub user: User,
    _dir: tempfile::TempDir,
}

pub(crate) async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = common::metadata_url(dir.path()).await;
    let store = Store::open_local(&url, dir.path().join("blobs"), Uuid::new_v4())
        .await
        .unwrap();
    let user = store
        .create_user(NewUser {
            name: "Alice".into(),
            display_name: String::new(),
            email: None,
            password_hash: hash_password("pw"),
            is_admin: false,
        })
        .await
        .unwrap();
    Fixture {
        store,
        user,
        _dir: dir,
    }
}

pub(crate) fn p(s: &str) -> SpacePath {
    SpacePath::parse(s).unwrap()
}

/// Write `data` into a fresh blob the way every write path does: stream, hash, finish.
pub(crate) async fn blob_with(store: &Store, data: &[u8]) -> NewContent {
    let mut sink = store.blobs().create(None).await.unwrap();
    sink.write(data).await.unwrap();
    let mut h = Hasher::new(false);
    h.update(data);
    NewContent {
        blob: sink.finish().await.unwrap(),
        size: data.len() as u64,
        checksums: h.finish().recorded,
        mtime: None,
        content_type: None,
        reservation: None,
    }
}

pub(crate) async fn content(store: &Store, node: &Node) -> Vec<u8> {
    read_blob(store, node.blob.as_ref().unwrap()).await
}

pub(crate) async fn read_blob(store: &Store, key: &spacedav::spaces::BlobKey) -> Vec<u8> {
    let mut r = store.blobs().open(key, None).await.unwrap();
    let mut v = Vec::new();
    r.read_to_end(&mut v).await.unwrap();
    v
}

/// A copy of a whole tree that refuses an existing destination and leaves properties behind.
pub(crate) fn whole_copy() -> spacedav::spaces::CopySpec {
    spacedav::spaces::CopySpec {
        overwrite: spacedav::spaces::Overwrite::Refuse,
        depth: spacedav::spaces::CopyDepth::Whole,
        dead_props: false,
        mtime: None,
    }
}
