//! Crash safety with the real binary: SIGKILL in the middle of a PATCH, restart on the same
//! data root, resume from `HEAD`'s offset; the finished file's SHA-256 matches (verified by
//! the server at completion and by reading it back), no partial file is ever visible, and the
//! old content of the overwritten file stays readable until the commit.

use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use spacedav::http::headers::OC_FILEID;
use spacedav::tus::headers::OFFSET_OCTET_STREAM;

use crate::binary::{ADMIN_PASSWORD, Server, personal_space_id};
use crate::common::client::Client;
use crate::support::{bytes, location, offset};

const MIB: usize = 1 << 20;

fn admin() -> Client {
    Client::new("admin", ADMIN_PASSWORD)
}

/// The multistatus of a PROPFIND (allprop) at `depth`.
async fn propfind(url: &str, depth: &str) -> String {
    let (status, body) = admin().propfind(url, depth, "").await;
    assert_eq!(status, 207);
    body
}

async fn get(url: &str) -> Vec<u8> {
    let (status, body) = admin().get(url).await;
    assert_eq!(status, StatusCode::OK, "GET {url}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_patch_then_restart_resumes_to_a_matching_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let base = format!("http://{}", server.addr);
    let sid = personal_space_id(dir.path(), "admin");
    let root = format!("{base}/remote.php/dav/spaces/{sid}/");
    let file_url = format!("{root}data.bin");

    // An old version that must stay readable until the new one is committed.
    let res = admin().put(&file_url, b"old content".to_vec(), None).await;
    assert!(res.status().is_success(), "{}", res.status());

    let data = bytes(100 * MIB, 3);
    let want = hex::encode(Sha256::digest(&data));
    let checksum = format!("SHA256 {want}");
    let meta = [("filename", "data.bin"), ("checksum", checksum.as_str())];
    // Creation-with-upload of the first 8 MiB of a longer upload.
    let res = admin()
        .tus_create_request(&root, data.len() as u64, &meta)
        .header(reqwest::header::CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .body(data[..8 * MIB].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(offset(&res), (8 * MIB) as u64);
    let token = location(&res).rsplit('/').next().unwrap().to_string();

    // A long PATCH that sends 70 MiB (past one 64 MiB checkpoint) and then stalls.
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let patch = admin()
        .tus_patch_request(
            &format!("{base}/data/{token}"),
            (8 * MIB) as u64,
            reqwest::Body::wrap_stream(rx),
        )
        .send();
    let patch = tokio::spawn(patch);
    for chunk in data[8 * MIB..78 * MIB].chunks(MIB) {
        tx.send(Ok(Bytes::copy_from_slice(chunk))).await.unwrap();
    }
    // Wait until the server acknowledged the checkpoint (HEAD moves), still mid-PATCH.
    let mut acked = 0;
    for _ in 0..3000 {
        let head = admin().tus_head(&format!("{base}/data/{token}")).await;
        acked = head.offset.expect("Upload-Offset");
        if acked > (8 * MIB) as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(acked > (8 * MIB) as u64, "checkpoint reached: {acked}");
    // Nothing of the new content is visible: the file is still the old one.
    let seen = propfind(&file_url, "0").await;
    assert!(seen.contains("getcontentlength>11<"), "{seen}");
    assert_eq!(get(&file_url).await, b"old content");

    // SIGKILL (Child::kill) while the PATCH is still open.
    drop(server);
    drop(tx);
    let _ = patch.await;

    let server = Server::start(dir.path());
    let base = format!("http://{}", server.addr);
    let url = format!("{base}/data/{token}");
    let head = admin().tus_head(&url).await;
    assert_eq!(head.status, StatusCode::OK);
    let resume = head.offset.expect("Upload-Offset");
    assert!(resume >= acked, "{resume} < {acked}");
    let root = format!("{base}/remote.php/dav/spaces/{sid}/");
    let file_url = format!("{root}data.bin");
    assert_eq!(get(&file_url).await, b"old content");
    let seen = propfind(&file_url, "0").await;
    assert!(seen.contains("getcontentlength>11<"), "{seen}");
    let res = admin()
        .tus_patch_request(&url, resume, data[resume as usize..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "resumed PATCH");
    assert!(res.headers().contains_key(OC_FILEID), "completed");
    let got = get(&file_url).await;
    assert_eq!(hex::encode(Sha256::digest(&got)), want);
    let seen = propfind(&root, "1").await;
    assert!(
        seen.contains(&format!("getcontentlength>{}<", data.len())),
        "{seen}"
    );
}
