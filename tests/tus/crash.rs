//! Crash safety with the real binary: SIGKILL in the middle of a PATCH, restart on the same
//! data root, resume from `HEAD`'s offset; the finished file's SHA-256 matches (verified by
//! the server at completion and by reading it back), no partial file is ever visible, and the
//! old content of the overwritten file stays readable until the commit.

use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};

use crate::binary::{ADMIN_PASSWORD, Server};
use crate::support::*;

const MIB: usize = 1 << 20;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn personal_space(base: &str) -> String {
    let drives: serde_json::Value = client()
        .get(format!("{base}/graph/v1.0/me/drives"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    drives["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["driveType"] == "personal")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn propfind(url: &str, depth: &str) -> String {
    let res = client()
        .request(Method::from_bytes(b"PROPFIND").unwrap(), url)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .header("Depth", depth)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 207);
    res.text().await.unwrap()
}

async fn get(url: &str) -> Vec<u8> {
    let res = client()
        .get(url)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET {url}");
    res.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_patch_then_restart_resumes_to_a_matching_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let base = format!("http://{}", server.addr);
    let sid = personal_space(&base).await;
    let root = format!("{base}/remote.php/dav/spaces/{sid}/");
    let file_url = format!("{root}data.bin");

    // An old version that must stay readable until the new one is committed.
    let res = client()
        .put(&file_url)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .body("old content")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    let data = bytes(100 * MIB, 3);
    let want = hex::encode(Sha256::digest(&data));
    let res = client()
        .post(&root)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", data.len().to_string())
        .header(
            "Upload-Metadata",
            metadata(&[
                ("filename", "data.bin"),
                ("checksum", &format!("SHA256 {want}")),
            ]),
        )
        .header("Content-Type", "application/offset+octet-stream")
        .body(data[..8 * MIB].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(offset(&res), (8 * MIB) as u64);
    let token = location(&res).rsplit('/').next().unwrap().to_string();

    // A long PATCH that sends 70 MiB (past one 64 MiB checkpoint) and then stalls.
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let patch = client()
        .patch(format!("{base}/data/{token}"))
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", (8 * MIB).to_string())
        .body(reqwest::Body::wrap_stream(rx))
        .send();
    let patch = tokio::spawn(patch);
    for chunk in data[8 * MIB..78 * MIB].chunks(MIB) {
        tx.send(Ok(Bytes::copy_from_slice(chunk))).await.unwrap();
    }
    // Wait until the server acknowledged the checkpoint (HEAD moves), still mid-PATCH.
    let mut acked = 0;
    for _ in 0..3000 {
        let head = client()
            .head(format!("{base}/data/{token}"))
            .send()
            .await
            .unwrap();
        acked = offset(&head);
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
    let head = client().head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let resume = offset(&head);
    assert!(resume >= acked, "{resume} < {acked}");
    let root = format!("{base}/remote.php/dav/spaces/{sid}/");
    let file_url = format!("{root}data.bin");
    assert_eq!(get(&file_url).await, b"old content");
    let seen = propfind(&file_url, "0").await;
    assert!(seen.contains("getcontentlength>11<"), "{seen}");
    let res = client()
        .patch(&url)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", resume.to_string())
        .body(data[resume as usize..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "resumed PATCH");
    assert!(header(&res, "oc-fileid").is_some(), "completed");
    let got = get(&file_url).await;
    assert_eq!(hex::encode(Sha256::digest(&got)), want);
    let seen = propfind(&root, "1").await;
    assert!(
        seen.contains(&format!("getcontentlength>{}<", data.len())),
        "{seen}"
    );
}
