//! A SIGKILL during an upload through a public link (issue 12): a file-drop link's tus upload
//! resumes after a restart of the real binary, exactly as a signed-in upload does (the
//! `/data/{token}` it was handed names the owner's space), and the file lands there.

use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use sha2::{Digest, Sha256};
use spacedav::tus::headers::OFFSET_OCTET_STREAM;

use crate::binary::{ADMIN_PASSWORD, Server};
use crate::common::client::Client;
use crate::support::*;

const MIB: usize = 1 << 20;

async fn drop_link(base: &str) -> String {
    let c = reqwest::Client::new();
    let res = c
        .request(
            reqwest::Method::from_bytes(b"MKCOL").unwrap(),
            format!("{base}/remote.php/webdav/inbox"),
        )
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let share: serde_json::Value = c
        .post(format!(
            "{base}/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json"
        ))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .form(&[("shareType", "3"), ("path", "/inbox"), ("permissions", "4")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    share["ocs"]["data"]["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_public_upload_then_restart_resumes_into_the_owners_space() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let base = format!("http://{}", server.addr);
    let link = drop_link(&base).await;
    let c = reqwest::Client::new();

    let data = bytes(80 * MIB, 9);
    let want = hex::encode(Sha256::digest(&data));
    let anonymous = Client::anonymous();
    let folder = format!("{base}/remote.php/dav/public-files/{link}/");
    // Creation-with-upload of the first 8 MiB of a longer upload.
    let meta = [("filename", "dropped.bin")];
    let res = anonymous
        .tus_create_request(&folder, data.len() as u64, &meta)
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .body(data[..8 * MIB].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = location(&res).rsplit('/').next().unwrap().to_string();

    // A PATCH that sends 70 MiB (past one 64 MiB checkpoint), then stalls.
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let patch = tokio::spawn(
        anonymous
            .tus_patch_request(
                &format!("{base}/data/{token}"),
                (8 * MIB) as u64,
                reqwest::Body::wrap_stream(rx),
            )
            .send(),
    );
    for chunk in data[8 * MIB..78 * MIB].chunks(MIB) {
        tx.send(Ok(Bytes::copy_from_slice(chunk))).await.unwrap();
    }
    let mut acked = 0;
    for _ in 0..3000 {
        let head = anonymous.tus_head_request(&format!("{base}/data/{token}"));
        let head = head.send().await.unwrap();
        acked = offset(&head);
        if acked > (8 * MIB) as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(acked > (8 * MIB) as u64, "checkpoint reached: {acked}");

    drop(server); // SIGKILL with the PATCH still open
    drop(tx);
    let _ = patch.await;

    let server = Server::start(dir.path());
    let base = format!("http://{}", server.addr);
    let url = format!("{base}/data/{token}");
    let head = anonymous.tus_head_request(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let resume = offset(&head);
    assert!(resume >= acked, "{resume} < {acked}");
    let res = anonymous
        .tus_patch_request(&url, resume, data[resume as usize..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT, "resumed PATCH");
    let got = c
        .get(format!("{base}/remote.php/webdav/inbox/dropped.bin"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(
        hex::encode(Sha256::digest(got.bytes().await.unwrap())),
        want
    );
}
