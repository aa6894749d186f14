//! ownCloud Web 12.5.0 served by spacedav, driven in headless Chromium by playwright-core
//! (issue 10, "Done when"): sign in on the built-in provider's page, list the personal space,
//! create a folder, upload 25 MiB with Web's upload button over tus, see it listed with its
//! size, compare its content over WebDAV, rename it, delete it, sign out and back in; a project
//! space is visible to its members, an editor (through a group) uploads into it, a viewer sees
//! the upload button disabled. On the account page the admin switches Web to German.
//!
//! The browser talks to the server through the recording proxy, so the test sees every request
//! Web made and its status: no 5xx at all, and no 4xx beyond [`EXPECTED_4XX`]. Screenshots of
//! each step land in `target/web-e2e/`. The Web build is unpacked from the archive in
//! `../shared/clients/` (or `SPACEDAV_WEB_TARBALL`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::common::{ADMIN_PASSWORD, TestServer};
use crate::dav::Dav;
use crate::proxy::{Exchange, Proxy};
use crate::support::{bin, node_modules, node_workdir, noise, require, run, sha256};

/// The whole browser session: several sign-ins and a 25 MiB upload in a debug build.
pub(crate) const LIMIT: Duration = Duration::from_secs(600);

/// 25 MiB: more than the 10 MB chunk size the capabilities advertise, so tus needs several
/// requests.
const BIG: usize = 25 * 1024 * 1024;

/// 4xx answers Web may receive, each with the reason it is fine.
pub(crate) const EXPECTED_4XX: &[(&str, u16, &str, &str)] = &[
    (
        "GET",
        404,
        "/assets/themes/owncloud/assets/loginBackground.jpg",
        "Web's built-in default theme names its login background with a relative URL that the \
         browser resolves against the stylesheet in /assets/; the image lives under /themes/",
    ),
    (
        "GET",
        404,
        "/favicon.ico",
        "the browser asks for it on its own; Web's build has none (its icon comes from the \
         theme), and an HTML page must not pass for an icon",
    ),
    (
        "GET",
        404,
        "/graph/v1beta1/extensions/org.libregraph/activities",
        "Web's sidebar asks for a file's activities whenever it opens; spacedav keeps no \
         activity log (oCIS's activitylog service), and Web then shows no activities",
    ),
];

/// Where the Web build archive is.
pub(crate) fn tarball() -> Option<PathBuf> {
    std::env::var_os("SPACEDAV_WEB_TARBALL")
        .map(PathBuf::from)
        .or_else(|| {
            Some(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../shared/clients/owncloud-web-12.5.0.tar.gz"),
            )
        })
}

/// `target/{name}/` (emptied), for the screenshots.
pub(crate) fn shots_dir(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the screenshot dir");
    dir
}

pub(crate) fn allowed_4xx(e: &Exchange) -> bool {
    EXPECTED_4XX
        .iter()
        .any(|(m, s, p, _)| e.method == *m && e.status == *s && e.path == *p)
}

/// Runs the driver; at each checkpoint it prints, `at_checkpoint` looks at the server, then the
/// driver goes on. Returns the driver's final report.
pub(crate) async fn drive(
    node: &Path,
    work: &Path,
    script: &str,
    opts: &Value,
    mut at_checkpoint: impl AsyncFnMut(&str),
) -> Value {
    let mut child = Command::new(node)
        .arg(work.join(script))
        .arg(opts.to_string())
        .current_dir(work)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn node driver.mjs");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let stderr = child.stderr.take().expect("stderr");
    let err = tokio::spawn(async move {
        let mut s = String::new();
        let mut r = tokio::io::BufReader::new(stderr);
        let _ = tokio::io::AsyncReadExt::read_to_string(&mut r, &mut s).await;
        s
    });
    let mut report = None;
    let read = tokio::time::timeout(LIMIT, async {
        while let Some(line) = lines.next_line().await.expect("driver stdout") {
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if let Some(name) = v["checkpoint"].as_str() {
                at_checkpoint(name).await;
                stdin.write_all(b"go\n").await.expect("answer the driver");
            } else {
                report = Some(v);
            }
        }
    })
    .await;
    drop(stdin);
    let status = child.wait().await;
    let stderr = err.await.unwrap_or_default();
    assert!(
        read.is_ok(),
        "driver did not finish within {LIMIT:?}\n{stderr}"
    );
    let report =
        report.unwrap_or_else(|| panic!("driver printed no report ({status:?})\n{stderr}"));
    assert!(
        report.get("error").is_none(),
        "the browser session failed: {}\nsteps done: {}\nstderr: {stderr}",
        report["error"].as_str().unwrap_or_default(),
        report["steps"]
    );
    report
}

/// Every request Web made, a line each; printed for the log, and returned for failure messages.
pub(crate) fn print_wire(wire: &[Exchange]) -> String {
    let listing: String = wire
        .iter()
        .map(|e| format!("{} {} -> {}\n", e.method, e.path, e.status))
        .collect();
    eprintln!("requests Web made:\n{listing}");
    listing
}

/// The suites' rule: no 5xx at all, and no 4xx beyond the expected ones ([`allowed_4xx`]).
pub(crate) fn assert_no_failures(wire: &[Exchange], listing: &str) {
    let server_errors: Vec<_> = wire.iter().filter(|e| e.status >= 500).collect();
    assert!(server_errors.is_empty(), "5xx answers:\n{listing}");
    let unexpected: Vec<_> = wire
        .iter()
        .filter(|e| (400..500).contains(&e.status) && !allowed_4xx(e))
        .map(|e| format!("{} {} -> {}", e.method, e.path, e.status))
        .collect();
    assert!(
        unexpected.is_empty(),
        "unexpected 4xx: {unexpected:#?}\n{listing}"
    );
}

/// What a browser suite drives: node, Chromium, the npm dir with playwright-core, and the
/// ownCloud Web archive.
pub(crate) struct BrowserTools {
    pub node: PathBuf,
    pub chromium: PathBuf,
    pub modules: PathBuf,
    pub tarball: PathBuf,
}

/// The browser suite's tools; `None` after a note when one is missing (a failure under CI).
pub(crate) fn browser_tools() -> Option<BrowserTools> {
    let chromium = std::env::var_os("SPACEDAV_CI_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| bin("chromium"));
    Some(BrowserTools {
        node: require("node", bin("node"))?,
        chromium: require("chromium", chromium)?,
        modules: require("playwright-core (npm)", node_modules())?,
        tarball: require("the ownCloud Web 12.5.0 archive", tarball())?,
    })
}

/// ownCloud Web unpacked into a temp dir (kept alive by the first value), served by a fresh
/// test server, behind the recording proxy.
pub(crate) async fn serve_web(tarball: &Path) -> (tempfile::TempDir, TestServer, Proxy) {
    let web = tempfile::tempdir().expect("temp dir");
    run(
        Command::new("tar")
            .arg("-xzf")
            .arg(tarball)
            .arg("-C")
            .arg(web.path()),
        LIMIT,
    )
    .await
    .assert_success("unpack ownCloud Web");
    let assets = web.path().to_path_buf();
    let srv = TestServer::start_with(move |c| c.web_assets_path = Some(assets)).await;
    let proxy = Proxy::start(&srv.base).await;
    (web, srv, proxy)
}

#[tokio::test]
#[ignore = "real client: needs ownCloud Web, playwright-core and chromium; .ci/run runs it with --include-ignored"]
async fn ownclouds_web_signs_in_uploads_over_tus_and_manages_files_on_spacedav() {
    let Some(BrowserTools {
        node,
        chromium,
        modules,
        tarball,
    }) = browser_tools()
    else {
        return;
    };
    let (_web, srv, proxy) = serve_web(&tarball).await;

    // The people and the project space: the editor gets the role through a group.
    let store = srv.state.store();
    let editor = srv.add_user("editor", "editor-password").await;
    let viewer = srv.add_user("viewer", "viewer-password").await;
    let admin = store.user_by_name("admin").await.expect("admin");
    let team = store
        .create_project_space(spacedav::spaces::NewSpace {
            name: "Team".into(),
            alias: None,
            quota: None,
            owner: admin.id,
        })
        .await
        .expect("project space");
    let editors = store
        .create_group("team-editors", "Team editors")
        .await
        .expect("group");
    store
        .set_group_member(editors.id, editor.id, true)
        .await
        .expect("join");
    let grant = spacedav::spaces::Role::Editor;
    store
        .set_group_grant(team.id.space, editors.id, Some(grant))
        .await
        .expect("grant");
    let viewer_role = Some(spacedav::spaces::Role::Viewer);
    store
        .set_member(team.id.space, viewer.id, viewer_role)
        .await
        .expect("viewer");

    let work = node_workdir(&modules, &["web/driver.mjs"]);
    let big_bytes = noise(BIG, 10);
    let big = work.path().join("big-upload.bin");
    std::fs::write(&big, &big_bytes).expect("write upload");
    let small_bytes = b"uploaded by an editor of the project space\n".to_vec();
    let small = work.path().join("team-note.txt");
    std::fs::write(&small, &small_bytes).expect("write upload");
    let shots = shots_dir("web-e2e");
    let opts = json!({
        "chromium": chromium, "base": proxy.base, "shots": shots, "file": big, "small": small,
        "team": "Team",
        "users": {
            "admin": {"name": "admin", "password": ADMIN_PASSWORD},
            "editor": {"name": "editor", "password": "editor-password"},
            "viewer": {"name": "viewer", "password": "viewer-password"},
        },
    });

    let admin_space = srv.state.store().space_id(admin.id.0).to_string();
    let base = srv.base.clone();
    let mut checked = Vec::new();
    let report = drive(
        &node,
        work.path(),
        "driver.mjs",
        &opts,
        async |name: &str| {
            let (dav, url, want) = match name {
                "uploaded" => (
                    Dav::new("admin", ADMIN_PASSWORD),
                    format!("{base}/dav/spaces/{admin_space}/big-upload.bin"),
                    sha256(&big_bytes),
                ),
                _ => (
                    Dav::new("editor", "editor-password"),
                    format!("{base}/dav/spaces/{}/team-note.txt", team.id),
                    sha256(&small_bytes),
                ),
            };
            assert_eq!(
                sha256(&dav.get(&url).await),
                want,
                "content of {url} at {name}"
            );
            checked.push(name.to_string());
        },
    )
    .await;
    assert_eq!(checked, ["uploaded", "editor-uploaded"]);

    let wire = proxy.exchanges();
    let listing = print_wire(&wire);
    // Web listed the file with its size (26,214,400 bytes in Web's decimal units).
    assert_eq!(report["size"], "26.2 MB", "{report:#}");
    assert_eq!(report["viewerUploadDisabled"], true, "{report:#}");

    // The 25 MiB travelled over tus: a creation POST on the space, then PATCHes on /data/.
    let creation = wire.iter().any(|e| {
        e.method == "POST"
            && e.status == 201
            && e.path.starts_with(&format!("/dav/spaces/{admin_space}"))
            && e.req_header("tus-resumable") == Some("1.0.0")
    });
    assert!(creation, "no tus creation POST\n{listing}");
    let patches = wire
        .iter()
        .filter(|e| e.method == "PATCH" && e.path.starts_with("/data/") && e.status == 204)
        .count();
    assert!(patches >= 2, "{patches} tus PATCHes\n{listing}");

    assert_no_failures(&wire, &listing);

    // The language chosen on Web's account page is the user's.
    let lang = store
        .user_setting(admin.id, spacedav::graph::LANGUAGE)
        .await
        .expect("setting");
    assert_eq!(lang.as_deref(), Some("de"));

    // Renamed, then deleted: nothing of the upload is left.
    let left = Dav::new("admin", ADMIN_PASSWORD)
        .walk(&format!("{}/dav/spaces/{admin_space}/", srv.base))
        .await;
    assert!(
        left.keys().all(|k| !k.contains("big-upload")),
        "the renamed upload was deleted: {left:?}"
    );
    assert!(
        left.keys().any(|k| k.contains("Created in Web")),
        "{left:?}"
    );
}
