//! tuspy (PyPI `tuspy` 1.1): plain creation then PATCHes (it never uses creation-with-upload),
//! `Upload-Checksum` on every PATCH, metadata, and resume by fingerprint after the client
//! process is killed (issue 4). The script is `python/tuspy_client.py`; a recording proxy
//! shows what went over the wire.

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};
use crate::dav::Dav;
use crate::dav::escape_path;
use crate::proxy::Proxy;
use crate::support::{FIXTURE_MTIME, events, noise, python, run, script, sha256, spawn_until};

const LIMIT: Duration = Duration::from_secs(120);
const MIB: usize = 1024 * 1024;

fn tuspy(py: &Path, endpoint: &str, file: &Path) -> Command {
    let mut cmd = Command::new(py);
    cmd.arg(script("python/tuspy_client.py"))
        .args(["--endpoint", endpoint, "--user", ADMIN])
        .args(["--password", ADMIN_PASSWORD])
        .arg("--file")
        .arg(file);
    cmd
}

/// Starts a server, a proxy in front of it, and creates the folder `tuspy/` in the personal
/// space; returns the tus endpoint (the folder URL through the proxy).
async fn setup() -> (TestServer, Proxy, String) {
    let srv = TestServer::start().await;
    let proxy = Proxy::start(&srv.base).await;
    Dav::admin()
        .mkcol(&format!("{}tuspy/", srv.root(Root::Spaces)))
        .await;
    let endpoint = format!("{}tuspy/", srv.root_at(&proxy.base, Root::Spaces));
    (srv, proxy, endpoint)
}

#[tokio::test]
#[ignore = "real client: needs tuspy (venv); .ci/run runs it with --include-ignored"]
async fn tuspy_uploads_in_several_checksummed_chunks_with_metadata() {
    let py = require!("tuspy (venv python)", python());
    let (srv, proxy, endpoint) = setup().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("local name.bin");
    let bytes = noise(5 * MIB + 3, 41);
    std::fs::write(&file, &bytes).expect("write");
    let sha1 = hex::encode(<sha1::Sha1 as sha1::Digest>::digest(&bytes));

    let out = run(
        tuspy(&py, &endpoint, &file)
            .args(["--chunk-size", &MIB.to_string(), "--checksum"])
            .args(["--meta", "filename=report 2024.bin"])
            .args(["--meta", &format!("mtime={FIXTURE_MTIME}")])
            .args(["--meta", "filetype=application/x-spacedav-test"])
            .args(["--meta", &format!("checksum=SHA1 {sha1}")]),
        LIMIT,
    )
    .await;
    out.assert_success("tuspy upload");
    let wire = proxy.exchanges();
    let posts: Vec<_> = wire.iter().filter(|e| e.method == "POST").collect();
    let patches: Vec<_> = wire.iter().filter(|e| e.method == "PATCH").collect();
    assert_eq!(posts.len(), 1, "{}", proxy.summary());
    assert_eq!(posts[0].status, 201, "{}", proxy.summary());
    assert_eq!(
        patches.len(),
        6,
        "5 MiB + 3 in 1 MiB chunks\n{}",
        proxy.summary()
    );
    assert!(
        patches
            .iter()
            .all(|p| p.status == 204 && p.req_header("upload-checksum").is_some()),
        "every PATCH carries Upload-Checksum and succeeds\n{}",
        proxy.summary()
    );

    let url = format!(
        "{}tuspy/{}",
        srv.root(Root::Spaces),
        escape_path("report 2024.bin")
    );
    let dav = Dav::admin();
    assert_eq!(
        sha256(&dav.get(&url).await),
        sha256(&bytes),
        "stored content"
    );
    let entry = dav.stat(&url).await;
    assert_eq!(entry.mtime(), FIXTURE_MTIME, "mtime from the metadata");
    assert_eq!(
        entry.prop("getcontenttype"),
        Some("application/x-spacedav-test")
    );
    assert_eq!(entry.checksum("SHA1"), Some(sha1), "oc:checksums");
}

#[tokio::test]
#[ignore = "real client: needs tuspy (venv); .ci/run runs it with --include-ignored"]
async fn tuspy_uploads_an_empty_file_with_the_creation_alone() {
    let py = require!("tuspy (venv python)", python());
    let (srv, proxy, endpoint) = setup().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("empty");
    std::fs::write(&file, b"").expect("write");
    run(
        tuspy(&py, &endpoint, &file).args(["--meta", "filename=empty.txt"]),
        LIMIT,
    )
    .await
    .assert_success("tuspy empty upload");
    let wire = proxy.exchanges();
    assert_eq!(
        wire.iter()
            .map(|e| (e.method.as_str(), e.status))
            .collect::<Vec<_>>(),
        vec![("POST", 201)],
        "an empty upload is one creation"
    );
    let url = format!("{}tuspy/empty.txt", srv.root(Root::Spaces));
    assert!(Dav::admin().get(&url).await.is_empty(), "empty file stored");
}

#[tokio::test]
#[ignore = "real client: needs tuspy (venv); .ci/run runs it with --include-ignored"]
async fn tuspy_resumes_by_fingerprint_after_the_client_process_is_killed() {
    let py = require!("tuspy (venv python)", python());
    let (srv, proxy, endpoint) = setup().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("resume.bin");
    let bytes = noise(8 * MIB, 8);
    std::fs::write(&file, &bytes).expect("write");
    let store = dir.path().join("urls.json");
    let store = store.to_str().expect("utf-8");
    let chunk = MIB.to_string();

    let (mut child, _) = spawn_until(
        tuspy(&py, &endpoint, &file)
            .args([
                "--chunk-size",
                &chunk,
                "--store",
                store,
                "--pause-after",
                "3",
            ])
            .args(["--meta", "filename=resume.bin"]),
        "\"paused\"",
        LIMIT,
    )
    .await;
    child.start_kill().expect("SIGKILL the client");
    child.wait().await.expect("reap");

    let folder = format!("{}tuspy/", srv.root(Root::Spaces));
    let dav = Dav::admin();
    let listed = dav.walk(&folder).await;
    assert!(
        listed.is_empty(),
        "a partial upload must not be visible: {listed:?}"
    );

    proxy.clear();
    let out = run(
        tuspy(&py, &endpoint, &file)
            .args(["--chunk-size", &chunk, "--store", store])
            .args(["--meta", "filename=resume.bin"]),
        LIMIT,
    )
    .await;
    out.assert_success("tuspy resume");
    let start = &events(&out.stdout)[0];
    assert!(
        start["url"].is_string(),
        "resumed from the stored URL: {}",
        out.text()
    );
    assert_eq!(
        start["offset"],
        3 * MIB,
        "HEAD reports what was acknowledged"
    );
    let methods: Vec<_> = proxy.exchanges().iter().map(|e| e.method.clone()).collect();
    assert_eq!(
        methods,
        ["HEAD", "PATCH", "PATCH", "PATCH", "PATCH", "PATCH"],
        "resume is HEAD then the remaining chunks, no new creation\n{}",
        proxy.summary()
    );
    assert_eq!(
        sha256(&dav.get(&format!("{folder}resume.bin")).await),
        sha256(&bytes),
        "stored content"
    );
}
