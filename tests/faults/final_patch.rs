//! The final PATCH of a tus upload (issue 15, defect 2): no upload is ever reported complete
//! (`Upload-Offset` = `Upload-Length` on HEAD) unless its file is there with the right
//! content. The final offset becomes visible only in the transaction that commits the file.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use crate::binary::{ADMIN_PASSWORD, Server, create_upload, personal_space_id, run, stdout};
use crate::common::TestServer;
use crate::common::client::Client;
use crate::connections::sqlite;
use crate::support::{Env, bytes, offset};

const MIB: usize = 1 << 20;

/// A commit that fails after every byte arrived leaves the upload at its last acknowledged
/// offset; the client sends the rest again and the file appears then.
#[tokio::test]
async fn a_final_patch_whose_commit_fails_does_not_report_the_upload_complete() {
    let env = Env::start().await;
    if !env.srv.state.config().metadata_url.starts_with("sqlite:") {
        return; // The injected fault is an SQLite trigger.
    }
    let data = bytes(3000, 7);
    let loc = env.create("f.bin", data.len() as u64).await;
    let res = env
        .patch(&loc, 0, data[..1000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    fail_commits(&env.srv, true).await;
    let res = env
        .patch(&loc, 1000, data[1000..].to_vec())
        .send()
        .await
        .unwrap();
    assert!(res.status().is_server_error(), "{}", res.status());
    let head = env.head(&loc).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(offset(&head), 1000, "not complete without its file");
    assert!(env.node("f.bin").await.is_none());
    fail_commits(&env.srv, false).await;
    let res = env
        .patch(&loc, 1000, data[1000..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(env.content("f.bin").await, Some(data));
}

/// Makes every commit of a new file fail (or work again).
async fn fail_commits(srv: &TestServer, fail: bool) {
    let sql = if fail {
        "CREATE TRIGGER failing_commit BEFORE INSERT ON nodes \
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    } else {
        "DROP TRIGGER failing_commit"
    };
    sqlite(srv, sql).await;
}

/// Tries, as CI runs them.
const TRIES: usize = 40;

/// SIGKILL at 40 points spread over the duration of a final PATCH (before it, while the
/// bytes arrive, around the commit, after the answer), restart on the same data root: the
/// upload is either complete with its file, byte for byte, or resumable from an offset
/// short of its length, and resuming completes it. `spacedav fsck` is clean at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_around_the_final_patch_never_reports_an_upload_complete_without_its_file() {
    let dir = tempfile::tempdir().unwrap();
    drop(Server::start(dir.path()));
    let sid = personal_space_id(dir.path(), "admin");
    let http = reqwest::Client::new();
    let tus = Client::anonymous();
    // Calibration: how long an undisturbed final PATCH takes on this machine.
    let mut span = Duration::ZERO;
    let mut stranded = Vec::new();
    for i in 0..=TRIES {
        let server = Server::start(dir.path());
        let base = format!("http://{}", server.addr);
        let name = format!("kill{i}.bin");
        let data = bytes(2 * MIB + 4099 * i, i as u8);
        let last = data.len() - MIB;
        let path = create_upload(
            &server.addr,
            &sid,
            ("admin", ADMIN_PASSWORD),
            &name,
            data.len() as u64,
        )
        .await;
        let url = format!("{base}{path}");
        let res = tus_patch(&tus, &url, 0, data[..last].to_vec()).await;
        assert_eq!(res.unwrap().status(), StatusCode::NO_CONTENT);
        let started = Instant::now();
        let (h, u, tail) = (tus.clone(), url.clone(), data[last..].to_vec());
        let patch = tokio::spawn(async move { tus_patch(&h, &u, last as u64, tail).await });
        if i == 0 {
            let res = patch.await.unwrap().unwrap();
            assert_eq!(res.status(), StatusCode::NO_CONTENT);
            span = started.elapsed();
            drop(server);
        } else {
            // From just after sending to half again the calibrated duration.
            tokio::time::sleep(span.mul_f64(1.5 * i as f64 / TRIES as f64)).await;
            drop(server); // SIGKILL
            let _ = patch.await;
        }

        let server = Server::start(dir.path());
        let base = format!("http://{}", server.addr);
        let url = format!("{base}{path}");
        let file = format!("{base}/remote.php/dav/spaces/{sid}/{name}");
        let head = tus.tus_head_request(&url).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK, "try {i}");
        let at = offset_of(&head);
        let got = get(&http, &file).await;
        if at == data.len() as u64 {
            let got = got.unwrap_or_else(|| panic!("try {i}: reported complete, no file"));
            assert!(
                sha(&got) == sha(&data),
                "try {i}: reported complete, wrong content"
            );
        } else {
            assert!(got.is_none(), "try {i}: a file before its upload completed");
            stranded.push(i);
            let res = tus_patch(&tus, &url, at, data[at as usize..].to_vec()).await;
            assert_eq!(
                res.unwrap().status(),
                StatusCode::NO_CONTENT,
                "try {i}: resume"
            );
            assert!(
                get(&http, &file)
                    .await
                    .is_some_and(|g| sha(&g) == sha(&data))
            );
        }
        drop(server);
    }
    eprintln!("final PATCH {span:?}; killed before the commit in tries {stranded:?} of {TRIES}");
    let fsck = run(dir.path(), &["fsck"]);
    assert!(fsck.status.success(), "fsck: {}", stdout(&fsck));
}

async fn tus_patch(
    tus: &Client,
    url: &str,
    at: u64,
    body: Vec<u8>,
) -> reqwest::Result<reqwest::Response> {
    tus.tus_patch_request(url, at, body).send().await
}

fn offset_of(res: &reqwest::Response) -> u64 {
    res.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The file's content, or `None` when it does not exist.
async fn get(http: &reqwest::Client, url: &str) -> Option<Vec<u8>> {
    let res = http
        .get(url)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    match res.status() {
        StatusCode::NOT_FOUND => None,
        StatusCode::OK => Some(res.bytes().await.unwrap().to_vec()),
        other => panic!("GET {url}: {other}"),
    }
}

fn sha(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
