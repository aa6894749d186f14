//! File bytes in S3 (issue 14): one spacedav on SQLite with its blobs in a real single-node
//! Garage (`tests/common/garage.rs`). tus uploads stream into multipart parts and tail
//! objects, survive a restart, complete with the right checksums and leave no multipart
//! upload or tail behind; WebDAV PUT, ranged GET, COPY, MOVE and DELETE work on objects.
//!
//! Every test needs the `garage` binary, so each is `#[ignore]`d: `cargo test --test s3`
//! reports them as ignored, `.ci/run` runs them with `--include-ignored`, and a missing binary
//! then fails them.

#[path = "../common/mod.rs"]
mod common;

mod tus;
mod webdav;

use common::TestServer;
use common::garage::Garage;
use sha1::{Digest, Sha1};
use spacedav::spaces::{SpaceId, SpacePath};

const MIB: usize = 1 << 20;

/// A spacedav on SQLite whose blobs live in `garage`.
async fn server(garage: &Garage) -> TestServer {
    TestServer::start_with(|c| garage.configure(c)).await
}

/// `n` bytes that differ from part to part (so a part in the wrong place shows).
fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 4093) as u8).collect()
}

/// SHA-1 hex of `bytes`.
fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

/// What the bucket holds besides finished blobs: open multipart uploads and tail objects.
async fn leftovers(garage: &Garage) -> (Vec<(String, String)>, Vec<String>) {
    let blobs = garage.blobs();
    let uploads = blobs.open_multipart_uploads().await.expect("list uploads");
    let tails = blobs
        .object_keys()
        .await
        .expect("list objects")
        .into_iter()
        .filter(|k| k.contains(".tail."))
        .collect();
    (uploads, tails)
}

/// Every object in the bucket.
async fn objects(garage: &Garage) -> Vec<String> {
    garage.blobs().object_keys().await.expect("list objects")
}

/// The SHA-1 the server recorded for the file at `path` of `sid`, and its stored bytes
/// read back through the store (so from Garage).
async fn recorded(srv: &TestServer, sid: &SpaceId, path: &str) -> (String, Vec<u8>) {
    let store = srv.state.store();
    let node = store
        .resolve(sid.space, &SpacePath::parse(path).unwrap())
        .await
        .expect("file");
    let key = node.blob.clone().expect("a blob");
    let mut reader = store.blobs().open(&key, None).await.expect("open");
    let mut bytes = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut bytes)
        .await
        .expect("read");
    (node.checksums.sha1.clone().expect("sha1"), bytes)
}
