//! A SIGKILL during an upload through a public link (issue 12): a file-drop link's tus upload
//! resumes after a restart of the real binary, exactly as a signed-in upload does (the
//! `/data/{token}` it was handed names the owner's space), and the file lands there.

use reqwest::header::CONTENT_TYPE;
use spacedav::tus::headers::{
    OFFSET_OCTET_STREAM, TUS_RESUMABLE, UPLOAD_LENGTH, UPLOAD_METADATA, UPLOAD_OFFSET, VERSION,
};
use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use crate::binary::{ADMIN_PASSWORD, Server};
use crate::common::client::tus_metadata;
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
    let res = c
        .post(format!("{base}/remote.php/dav/public-files/{link}/"))
        .header(TUS_RESUMABLE, VERSION)
        .header(UPLOAD_LENGTH, data.len().to_string())
        .header(
            UPLOAD_METADATA,
            tus_metadata(&[("filename", "dropped.bin")]),
        )
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
        c.patch(format!("{base}/data/{token}"))
            .header(TUS_RESUMABLE, VERSION)
            .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
            .header(UPLOAD_OFFSET, (8 * MIB).to_string())
            .body(reqwest::Body::wrap_stream(rx))
            .send(),
    );
    for chunk in data[8 * MIB..78 * MIB].chunks(MIB) {
        tx.send(Ok(Bytes::copy_from_slice(chunk))).await.unwrap();
    }
    let mut acked = 0;
    for _ in 0..3000 {
        let head = c.head(format!("{base}/data/{token}")).send().await.unwrap();
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
    let head = c.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let resume = offset(&head);
    assert!(resume >= acked, "{resume} < {acked}");
    let res = c
        .patch(&url)
        .header(TUS_RESUMABLE, VERSION)
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .header(UPLOAD_OFFSET, resume.to_string())
        .body(data[resume as usize..].to_vec())
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
