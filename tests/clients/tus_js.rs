//! tus-js-client (npm 4.x) in Node: creation-with-upload and plain creation in several chunks
//! with metadata, and resume by fingerprint (`FileUrlStorage`) in a new process after the
//! first one was killed (issue 4). The script is `node/tus_js_client.mjs`.

use std::time::Duration;

use serde_json::json;
use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};
use crate::dav::Dav;
use crate::proxy::Proxy;
use crate::support::{
    FIXTURE_MTIME, bin, events, node_modules, node_workdir, noise, run, sha256, spawn_until,
};

const LIMIT: Duration = Duration::from_secs(120);
const MIB: usize = 1024 * 1024;

struct Fixture {
    srv: TestServer,
    proxy: Proxy,
    endpoint: String,
    node: std::path::PathBuf,
    work: tempfile::TempDir,
    script: std::path::PathBuf,
}

async fn setup() -> Option<Fixture> {
    let node = crate::support::require("node", bin("node"))?;
    let modules = crate::support::require("tus-js-client (npm)", node_modules())?;
    let work = node_workdir(&modules, &["node/tus_js_client.mjs"]);
    let script = work.path().join("tus_js_client.mjs");
    let srv = TestServer::start().await;
    let proxy = Proxy::start(&srv.base).await;
    Dav::admin()
        .mkcol(&format!("{}tusjs/", srv.root(Root::Spaces)))
        .await;
    let endpoint = format!("{}tusjs/", srv.root_at(&proxy.base, Root::Spaces));
    Some(Fixture {
        srv,
        proxy,
        endpoint,
        node,
        work,
        script,
    })
}

impl Fixture {
    fn client(&self, opts: serde_json::Value) -> Command {
        let mut opts = opts;
        opts["endpoint"] = json!(self.endpoint);
        opts["user"] = json!(ADMIN);
        opts["password"] = json!(ADMIN_PASSWORD);
        let mut cmd = Command::new(&self.node);
        cmd.arg(&self.script)
            .arg(opts.to_string())
            .current_dir(self.work.path());
        cmd
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.work.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path.to_str().expect("utf-8").to_string()
    }

    async fn stored(&self, name: &str) -> Vec<u8> {
        let url = format!("{}tusjs/{name}", self.srv.root(Root::Spaces));
        Dav::admin().get(&url).await
    }
}

fn assert_file(stored: &[u8], sent: &[u8]) {
    assert_eq!(stored.len(), sent.len(), "stored size");
    assert_eq!(sha256(stored), sha256(sent), "stored content");
}

#[tokio::test]
#[ignore = "real client: needs tus-js-client (npm dir); .ci/run runs it with --include-ignored"]
async fn tus_js_client_uploads_with_creation_with_upload_then_patches() {
    let Some(f) = setup().await else { return };
    let bytes = noise(3 * MIB + MIB / 2, 3);
    let file = f.file("cwu.bin", &bytes);
    let out = run(
        &mut f.client(json!({
            "file": file, "chunkSize": MIB, "uploadDataDuringCreation": true,
            "metadata": {"filename": "cwu.bin", "filetype": "application/x-cwu",
                         "mtime": FIXTURE_MTIME.to_string(), "relativePath": "null"},
        })),
        LIMIT,
    )
    .await;
    out.assert_success("tus-js-client creation-with-upload");
    let wire = f.proxy.exchanges();
    let calls: Vec<_> = wire.iter().map(|e| (e.method.as_str(), e.status)).collect();
    assert_eq!(
        calls,
        [
            ("POST", 201),
            ("PATCH", 204),
            ("PATCH", 204),
            ("PATCH", 204)
        ],
        "first MiB in the POST, the rest in PATCHes\n{}",
        f.proxy.summary()
    );
    assert_eq!(
        wire[0]
            .response
            .get("upload-offset")
            .and_then(|v| v.to_str().ok()),
        Some(MIB.to_string().as_str()),
        "the creation-with-upload answer reports the bytes it took"
    );
    assert_file(&f.stored("cwu.bin").await, &bytes);
    let entry = Dav::admin()
        .stat(&format!("{}tusjs/cwu.bin", f.srv.root(Root::Spaces)))
        .await;
    assert_eq!(entry.mtime(), FIXTURE_MTIME, "mtime from the metadata");
    assert_eq!(entry.prop("getcontenttype"), Some("application/x-cwu"));
}

#[tokio::test]
#[ignore = "real client: needs tus-js-client (npm dir); .ci/run runs it with --include-ignored"]
async fn tus_js_client_uploads_with_plain_creation_in_five_patches() {
    let Some(f) = setup().await else { return };
    let bytes = noise(5 * MIB - 1, 5);
    let file = f.file("chunked.bin", &bytes);
    run(
        &mut f.client(json!({
            "file": file, "chunkSize": MIB,
            "metadata": {"filename": "chunked.bin", "name": "chunked.bin", "type": "undefined"},
        })),
        LIMIT,
    )
    .await
    .assert_success("tus-js-client chunked upload");
    let wire = f.proxy.exchanges();
    let methods: Vec<_> = wire.iter().map(|e| e.method.as_str()).collect();
    assert_eq!(
        methods,
        ["POST", "PATCH", "PATCH", "PATCH", "PATCH", "PATCH"],
        "{}",
        f.proxy.summary()
    );
    assert_file(&f.stored("chunked.bin").await, &bytes);
}

#[tokio::test]
#[ignore = "real client: needs tus-js-client (npm dir); .ci/run runs it with --include-ignored"]
async fn tus_js_client_resumes_by_fingerprint_after_the_client_process_is_killed() {
    let Some(f) = setup().await else { return };
    let bytes = noise(6 * MIB + 11, 6);
    let file = f.file("resume.bin", &bytes);
    let store = f.work.path().join("urls.json");
    let opts = json!({
        "file": file, "chunkSize": MIB, "store": store,
        "metadata": {"filename": "resume.bin"},
    });
    let mut first = opts.clone();
    first["pauseAfter"] = json!(2);
    let (mut child, _) = spawn_until(&mut f.client(first), "\"paused\"", LIMIT).await;
    child.start_kill().expect("SIGKILL the client");
    child.wait().await.expect("reap");
    f.proxy.clear();
    let out = run(&mut f.client(opts), LIMIT).await;
    out.assert_success("tus-js-client resume");
    assert_eq!(events(&out.stdout)[0]["previous"], 1, "{}", out.text());
    let wire = f.proxy.exchanges();
    let methods: Vec<_> = wire.iter().map(|e| e.method.as_str()).collect();
    assert_eq!(
        methods,
        ["HEAD", "PATCH", "PATCH", "PATCH", "PATCH", "PATCH"],
        "resume is HEAD then the remaining chunks, no new creation\n{}",
        f.proxy.summary()
    );
    assert_eq!(
        wire[0]
            .response
            .get("upload-offset")
            .and_then(|v| v.to_str().ok()),
        Some((2 * MIB).to_string().as_str()),
        "HEAD reports the two acknowledged chunks"
    );
    assert_file(&f.stored("resume.bin").await, &bytes);
}
