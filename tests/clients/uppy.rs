//! Uppy (@uppy/core + @uppy/tus, as ownCloud Web uses them) in headless Chromium driven by
//! playwright-core, from a page served on a *different* origin than the server, so every tus
//! request is cross-origin and only the CORS configuration of SPEC §8 lets it through
//! (clients.md §8, issue 5 item 4). The page is bundled by esbuild from `uppy/page-main.js`
//! and served by a tiny static server on another 127.0.0.1 port.

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::response::IntoResponse;
use base64::Engine;
use serde_json::{Value, json};
use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};
use crate::dav::Dav;
use crate::proxy::Proxy;
use crate::support::{bin, node_modules, node_workdir, noise, require, run, sha256};

const LIMIT: Duration = Duration::from_secs(180);
const CHUNK: usize = 256 * 1024;

/// The bundled page and the driver, ready to run.
struct Page {
    node: PathBuf,
    chromium: PathBuf,
    work: tempfile::TempDir,
    /// `http://127.0.0.1:port` of the static server (the page's origin).
    origin: String,
}

impl Page {
    async fn build() -> Option<Page> {
        let node = require("node", bin("node"))?;
        let chromium = require(
            "chromium",
            std::env::var_os("SPACEDAV_CI_CHROMIUM")
                .map(PathBuf::from)
                .or_else(|| bin("chromium")),
        )?;
        let modules = require("Uppy, playwright-core, esbuild (npm)", node_modules())?;
        let work = node_workdir(
            &modules,
            &["uppy/index.html", "uppy/page-main.js", "uppy/driver.mjs"],
        );
        run(
            Command::new(work.path().join("node_modules/.bin/esbuild"))
                .args([
                    "page-main.js",
                    "--bundle",
                    "--format=iife",
                    "--outfile=page.js",
                ])
                .current_dir(work.path()),
            LIMIT,
        )
        .await
        .assert_success("esbuild bundle of the Uppy page");
        let origin = serve_static(work.path()).await;
        Some(Page {
            node,
            chromium,
            work,
            origin,
        })
    }

    /// Runs the driver; returns its JSON report and the process output.
    async fn drive(&self, endpoint: &str, files: &[PathBuf], mode: &str, cwu: bool) -> Value {
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", ADMIN, ADMIN_PASSWORD))
        );
        let mut page = url::Url::parse(&format!("{}/index.html", self.origin)).expect("url");
        page.query_pairs_mut()
            .append_pair("endpoint", endpoint)
            .append_pair("auth", &auth)
            .append_pair("chunk", &CHUNK.to_string())
            .append_pair("cwu", if cwu { "1" } else { "0" });
        let opts = json!({
            "chromium": self.chromium, "page": page.as_str(), "files": files, "mode": mode,
        });
        let out = run(
            Command::new(&self.node)
                .arg(self.work.path().join("driver.mjs"))
                .arg(opts.to_string())
                .current_dir(self.work.path()),
            LIMIT,
        )
        .await;
        out.assert_success("Uppy driver (playwright-core + chromium)");
        let mut report: Value = out
            .stdout
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| panic!("driver printed no report\n{}", out.text()));
        report["stderr"] = json!(out.stderr);
        report
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.work.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    }
}

/// Serves `dir/index.html` and `dir/page.js` on 127.0.0.1:0; returns its origin.
async fn serve_static(dir: &Path) -> String {
    let html = std::fs::read(dir.join("index.html")).expect("index.html");
    let js = std::fs::read(dir.join("page.js")).expect("bundled page.js");
    let app = axum::Router::new()
        .route(
            "/index.html",
            axum::routing::get(move || async move {
                ([("content-type", "text/html; charset=utf-8")], html).into_response()
            }),
        )
        .route(
            "/page.js",
            axum::routing::get(move || async move {
                ([("content-type", "text/javascript")], js).into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind static server");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    origin
}

/// A server allowing `origins` by CORS, a proxy in front, and the folder `uppy/`; returns
/// the tus endpoint through the proxy.
async fn server(origins: Vec<String>) -> (TestServer, Proxy, String) {
    let srv = TestServer::start_with(|c| c.cors_origins = origins).await;
    let proxy = Proxy::start(&srv.base).await;
    Dav::admin()
        .mkcol(&format!("{}uppy/", srv.root(Root::Spaces)))
        .await;
    let endpoint = format!("{}uppy/", srv.root_at(&proxy.base, Root::Spaces));
    (srv, proxy, endpoint)
}

async fn assert_stored(srv: &TestServer, name: &str, bytes: &[u8]) {
    let url = format!("{}uppy/{name}", srv.root(Root::Spaces));
    assert_eq!(
        sha256(&Dav::admin().get(&url).await),
        sha256(bytes),
        "content of {name}"
    );
}

async fn uploads_several_files(cwu: bool) {
    let Some(page) = Page::build().await else {
        return;
    };
    let (srv, proxy, endpoint) = server(vec![page.origin.clone()]).await;
    let files = [
        ("small.txt", b"small file from a browser\n".to_vec()),
        ("medium.bin", noise(CHUNK * 3 + 100, 31)),
        ("large.bin", noise(CHUNK * 6, 32)),
    ];
    let paths: Vec<_> = files.iter().map(|(n, b)| page.file(n, b)).collect();
    let report = page.drive(&endpoint, &paths, "upload", cwu).await;
    assert_eq!(
        report["successful"],
        3,
        "Uppy's result: {report:#}\n{}",
        proxy.summary()
    );
    for (name, bytes) in &files {
        assert_stored(&srv, name, bytes).await;
    }
    let wire = proxy.exchanges();
    assert!(
        wire.iter()
            .filter(|e| e.method != "OPTIONS")
            .all(|e| e.req_header("origin") == Some(page.origin.as_str())),
        "every request came cross-origin from the page\n{}",
        proxy.summary()
    );
    assert!(
        wire.iter().any(|e| e.method == "OPTIONS"),
        "the browser preflighted\n{}",
        proxy.summary()
    );
}

#[tokio::test]
#[ignore = "real client: needs Uppy, playwright-core and chromium; .ci/run runs it with --include-ignored"]
async fn uppy_in_chromium_uploads_several_files_cross_origin_in_chunks() {
    uploads_several_files(false).await;
}

#[tokio::test]
#[ignore = "real client: needs Uppy, playwright-core and chromium; .ci/run runs it with --include-ignored"]
async fn uppy_in_chromium_uploads_several_files_with_creation_with_upload() {
    uploads_several_files(true).await;
}

#[tokio::test]
#[ignore = "real client: needs Uppy, playwright-core and chromium; .ci/run runs it with --include-ignored"]
async fn uppy_in_chromium_resumes_after_pause_and_page_reload() {
    let Some(page) = Page::build().await else {
        return;
    };
    let (srv, proxy, endpoint) = server(vec![page.origin.clone()]).await;
    let bytes = noise(CHUNK * 12 + 7, 12);
    let path = page.file("resume.bin", &bytes);
    let report = page
        .drive(&endpoint, &[path], "pause-reload-resume", false)
        .await;
    assert_eq!(
        report["successful"],
        1,
        "Uppy's result: {report:#}\n{}",
        proxy.summary()
    );
    // After the reload the page's own log starts empty: it must resume (HEAD), not re-create.
    let after: Vec<String> = report["log"]
        .as_array()
        .expect("log")
        .iter()
        .map(|e| e[0].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        after.first().map(String::as_str),
        Some("HEAD"),
        "{report:#}"
    );
    assert!(
        !after.contains(&"POST".to_string()),
        "no new creation: {report:#}"
    );
    let posts = proxy
        .exchanges()
        .iter()
        .filter(|e| e.method == "POST")
        .count();
    assert_eq!(posts, 1, "one creation in all\n{}", proxy.summary());
    assert_stored(&srv, "resume.bin", &bytes).await;
}

#[tokio::test]
#[ignore = "real client: needs Uppy, playwright-core and chromium; .ci/run runs it with --include-ignored"]
async fn uppy_in_chromium_is_blocked_when_the_page_origin_is_not_allowed() {
    let Some(page) = Page::build().await else {
        return;
    };
    // CORS allows some other origin only: the browser must refuse to let the page upload.
    let (srv, _proxy, endpoint) = server(vec!["http://elsewhere.invalid".into()]).await;
    let path = page.file("blocked.txt", b"must not arrive\n");
    let report = page.drive(&endpoint, &[path], "upload", false).await;
    assert_eq!(report["successful"], 0, "{report:#}");
    assert_eq!(
        report["failed"].as_array().map(Vec::len),
        Some(1),
        "{report:#}"
    );
    let listed = Dav::admin()
        .walk(&format!("{}uppy/", srv.root(Root::Spaces)))
        .await;
    assert!(listed.is_empty(), "nothing stored: {listed:?}");
}
