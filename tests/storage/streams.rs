//! Bodies streamed in odd frame sizes (issue 13): the core cuts what arrives into hash pieces
//! (256 KiB) and write batches (1 MiB) of its own, passes large frames on without copying
//! them, and finishes hashing while the tail is synced. Whatever sizes a client's frames and
//! its tus PATCHes have, the stored content and the recorded SHA1, MD5 and ADLER32 are those
//! of exactly the bytes sent, over tus and over WebDAV PUT.

use md5::{Digest, Md5};
use reqwest::StatusCode;
use sha1::Sha1;
use spacedav::tus::headers::{CHECKSUM_MISMATCH, UPLOAD_CHECKSUM};

use crate::common::client::Client;
use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};

/// Frame sizes around the piece and batch boundaries, tiny ones, and a frame larger than a
/// piece arriving while a piece is half full.
const FRAMES: &[usize] = &[
    1, 7, 4093, 262_143, 262_144, 262_145, 65_536, 524_289, 1_048_577, 3, 300_000,
];

/// `len` bytes that repeat only after a long odd period, so a piece stored at the wrong
/// place changes the content.
fn content(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// `data` as a streamed body of frames cycling through [`FRAMES`], starting at frame `skew`.
fn streamed(data: &[u8], skew: usize) -> reqwest::Body {
    let mut frames = Vec::new();
    let mut at = 0;
    let mut i = skew;
    while at < data.len() {
        let n = FRAMES[i % FRAMES.len()].min(data.len() - at);
        frames.push(Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(
            &data[at..at + n],
        )));
        at += n;
        i += 1;
    }
    reqwest::Body::wrap_stream(futures::stream::iter(frames))
}

/// The `oc:checksums` a server must record for `data`.
fn expected(data: &[u8]) -> [String; 3] {
    [
        format!("SHA1:{}", hex::encode(Sha1::digest(data))),
        format!("MD5:{}", hex::encode(Md5::digest(data))),
        format!("ADLER32:{:08x}", adler::adler32_slice(data)),
    ]
}

/// Asserts the file at `url` holds `data` and records its checksums.
async fn assert_stored(client: &Client, url: &str, data: &[u8]) {
    let (status, got) = client.get(url).await;
    assert_eq!(status, StatusCode::OK, "{url}");
    assert!(
        got == data,
        "{url}: {} bytes stored, {} sent",
        got.len(),
        data.len()
    );
    let (status, xml) = client.propfind(url, "0", "<oc:checksums/>").await;
    assert_eq!(status, 207, "{xml}");
    for sum in expected(data) {
        assert!(xml.contains(&sum), "{url}: {sum} missing in {xml}");
    }
}

async fn tus_create(client: &Client, srv: &TestServer, name: &str, len: usize) -> String {
    client
        .tus_create(&srv.root(Root::Spaces), len as u64, &[("filename", name)])
        .await
        .location()
        .to_string()
}

#[tokio::test]
async fn a_tus_upload_in_odd_patch_and_frame_sizes_stores_exactly_its_bytes_and_checksums() {
    let srv = TestServer::start().await;
    let client = srv.client_as(ADMIN, ADMIN_PASSWORD);
    let patches = [1, 262_144, 300_007, 1_048_576, 2_500_001, 17, 1_310_720];
    let data = content(patches.iter().sum(), 1);
    let loc = tus_create(&client, &srv, "odd.bin", data.len()).await;
    let mut at = 0;
    for (i, n) in patches.into_iter().enumerate() {
        let res = client
            .tus_patch_request(&loc, at as u64, streamed(&data[at..at + n], i))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "PATCH {i}");
        at += n;
        if at < data.len() {
            assert_eq!(client.tus_head(&loc).await.offset, Some(at as u64));
        }
    }
    assert_stored(
        &client,
        &format!("{}odd.bin", srv.root(Root::Spaces)),
        &data,
    )
    .await;
}

/// A PATCH refused for its `Upload-Checksum` after its whole body was hashed leaves the
/// upload's own hashing where the last acknowledged byte left it.
#[tokio::test]
async fn a_patch_refused_for_its_checksum_leaves_the_whole_files_checksums_exact() {
    let srv = TestServer::start().await;
    let client = srv.client_as(ADMIN, ADMIN_PASSWORD);
    let data = content(3 * 1_048_576 + 12_345, 2);
    let half = 1_048_576 + 5;
    let loc = tus_create(&client, &srv, "sum.bin", data.len()).await;
    assert_eq!(
        client
            .tus_patch(&loc, 0, data[..half].to_vec())
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let wrong = client
        .tus_patch_request(&loc, half as u64, streamed(&data[half..], 3))
        .header(UPLOAD_CHECKSUM, "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), CHECKSUM_MISMATCH);
    assert_eq!(client.tus_head(&loc).await.offset, Some(half as u64));
    let sha1 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        Sha1::digest(&data[half..]),
    );
    let res = client
        .tus_patch_request(&loc, half as u64, streamed(&data[half..], 5))
        .header(UPLOAD_CHECKSUM, format!("sha1 {sha1}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_stored(
        &client,
        &format!("{}sum.bin", srv.root(Root::Spaces)),
        &data,
    )
    .await;
}

/// Around the inline limit (64 KiB: kept in the database) and well past it (a blob).
#[tokio::test]
async fn a_put_streamed_in_odd_frame_sizes_stores_exactly_its_bytes_and_checksums() {
    let srv = TestServer::start().await;
    let client = srv.client_as(ADMIN, ADMIN_PASSWORD);
    for (i, len) in [65_536, 65_537, 3 * 262_144 + 1, 3_000_017]
        .into_iter()
        .enumerate()
    {
        let data = content(len, 10 + i as u32);
        let url = format!("{}put{i}.bin", srv.root(Root::Spaces));
        let res = client
            .request("PUT", &url)
            .body(streamed(&data, i))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "PUT {len}: {}", res.status());
        assert_stored(&client, &url, &data).await;
    }
}
