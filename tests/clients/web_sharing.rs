//! ownCloud Web 12.5.0's sharing pages against spacedav, in headless Chromium (issue 12, "Done
//! when", second bullet): a view link opened in a browser context with no session downloads its
//! file; a file-drop link's public upload page sends 20 MiB over tus, is cut off after the first
//! PATCH, reloaded and resumes the same upload (Web asks the offset with HEAD); a folder shared with a second user shows under "Shared with
//! me", where an editor uploads and a viewer's upload button is disabled.
//!
//! The view link is created in Web's share panel ("Add link"); the file-drop link and the user
//! shares are created over Graph as that panel sends them (`createLink`, `invite`). Same rules as
//! [`crate::web_ui`]: screenshots per step (in `target/web-sharing-e2e/`), no 5xx, no 4xx beyond
//! [`crate::web_ui::EXPECTED_4XX`].

use serde_json::{Value, json};

use crate::common::{ADMIN_PASSWORD, TestServer};
use crate::dav::Dav;
use crate::support::{node_workdir, noise, sha256};
use crate::web_ui::{
    BrowserTools, assert_no_failures, browser_tools, drive, print_wire, serve_web, shots_dir,
};

/// 20 MiB: two full 10 MB tus chunks and a tail.
const DROP: usize = 20 * 1024 * 1024;

const VIEWER: &str = "b1e2218d-eef8-4d4c-b82d-0f1a1b48f3b5";
const EDITOR: &str = "fb6c3e19-e378-47e5-b277-9732f9de6e21";

/// `POST /graph/v1beta1{path}` as the admin; the answer's JSON.
async fn graph(srv: &TestServer, path: &str, body: Value) -> Value {
    let res = srv
        .client()
        .post(srv.url(&format!("/graph/v1beta1{path}")))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .json(&body)
        .send()
        .await
        .expect("graph request");
    let status = res.status();
    let v: Value = res.json().await.expect("graph JSON");
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

/// The Graph item path of `path` in the admin's personal space.
async fn item(srv: &TestServer, path: &str) -> String {
    let store = srv.state.store();
    let admin = store.user_by_name("admin").await.expect("admin");
    let node = store
        .resolve(
            admin.id.0,
            &spacedav::spaces::SpacePath::parse(path).expect("path"),
        )
        .await
        .expect("resolve");
    let sid = store.space_id(admin.id.0);
    format!("/drives/{sid}/items/{sid}!{}", node.id.0)
}

/// The token at the end of a link's `webUrl`.
fn token(link: &Value) -> String {
    let url = link["link"]["webUrl"].as_str().expect("webUrl");
    url.rsplit('/').next().expect("token").to_string()
}

#[tokio::test]
#[ignore = "real client: needs ownCloud Web, playwright-core and chromium; .ci/run runs it with --include-ignored"]
async fn ownclouds_web_opens_links_drops_files_over_tus_and_uploads_into_shares_on_spacedav() {
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
    let bob = srv.add_user("bob", "bob-password").await;

    // What the admin shares: a file behind a view link, a drop folder, two folders for bob.
    let admin = Dav::new("admin", ADMIN_PASSWORD);
    let space = srv.admin_space().await;
    let root = srv.space_url(&space);
    let note = b"handed out through a public link\n".to_vec();
    admin
        .put(&format!("{root}/handout.txt"), note.clone())
        .await;
    for dir in ["Drop", "Editable", "Readonly"] {
        admin.mkcol(&format!("{root}/{dir}")).await;
    }
    let drop = graph(
        &srv,
        &format!("{}/createLink", item(&srv, "/Drop").await),
        json!({"type": "createOnly"}),
    )
    .await;
    for (dir, role) in [("/Editable", EDITOR), ("/Readonly", VIEWER)] {
        let recipient =
            json!({"objectId": bob.id.to_string(), "@libre.graph.recipient.type": "user"});
        graph(
            &srv,
            &format!("{}/invite", item(&srv, dir).await),
            json!({"recipients": [recipient], "roles": [role]}),
        )
        .await;
    }

    let work = node_workdir(&modules, &["web/sharing.mjs"]);
    let drop_bytes = noise(DROP, 12);
    let drop_file = work.path().join("dropped.bin");
    std::fs::write(&drop_file, &drop_bytes).expect("write upload");
    let small_bytes = b"uploaded by bob into a share\n".to_vec();
    let small = work.path().join("bob-note.txt");
    std::fs::write(&small, &small_bytes).expect("write upload");
    let download = work.path().join("handout.txt");
    let opts = json!({
        "chromium": chromium, "base": proxy.base, "shots": shots_dir("web-sharing-e2e"),
        "admin": {"name": "admin", "password": ADMIN_PASSWORD},
        "dropLink": format!("{}/s/{}", proxy.base, token(&drop)),
        "drop": drop_file, "small": small, "download": download,
        "editable": "Editable", "readonly": "Readonly",
        "user": {"name": "bob", "password": "bob-password"},
    });

    let mut checked = Vec::new();
    let report = drive(
        &node,
        work.path(),
        "sharing.mjs",
        &opts,
        async |name: &str| {
            let (url, want) = match name {
                "dropped" => (format!("{root}/Drop/dropped.bin"), sha256(&drop_bytes)),
                _ => (
                    format!("{root}/Editable/bob-note.txt"),
                    sha256(&small_bytes),
                ),
            };
            assert_eq!(sha256(&admin.get(&url).await), want, "{url} at {name}");
            checked.push(name.to_string());
        },
    )
    .await;
    assert_eq!(checked, ["dropped", "share-uploaded"]);

    let wire = proxy.exchanges();
    let listing = print_wire(&wire);
    eprintln!("after the reload: {}", report["afterReload"]);

    // Web's "Add link" made a view link; its file reached the anonymous browser intact.
    assert_eq!(report["viewLinkType"], "view", "{report:#}");
    let got = std::fs::read(&download).expect("the downloaded file");
    assert_eq!(sha256(&got), sha256(&note));

    // The drop went over tus: creation POSTs on the public link, PATCHes on /data/; the first
    // PATCH got through before the cut.
    let drop_token = token(&drop);
    let creations = wire
        .iter()
        .filter(|e| {
            e.method == "POST"
                && e.status == 201
                && e.path.contains(&drop_token)
                && e.req_header("tus-resumable") == Some("1.0.0")
        })
        .count();
    // After the reload Web resumed the same upload: one creation only, then a HEAD for the
    // offset on its URL before the remaining PATCHes.
    assert_eq!(creations, 1, "tus creation POSTs on the link\n{listing}");
    let head = wire
        .iter()
        .position(|e| e.method == "HEAD" && e.path.starts_with("/data/") && e.status == 200);
    let head = head.unwrap_or_else(|| panic!("no tus HEAD after the reload\n{listing}"));
    assert!(
        wire[head..]
            .iter()
            .any(|e| e.method == "PATCH" && e.path == wire[head].path && e.status == 204),
        "no PATCH after the HEAD\n{listing}"
    );
    let dropped = admin.walk(&format!("{root}/Drop/")).await;
    assert_eq!(
        dropped.len(),
        1,
        "the drop folder holds one file: {dropped:?}"
    );
    let patches = wire
        .iter()
        .filter(|e| e.method == "PATCH" && e.path.starts_with("/data/") && e.status == 204)
        .count();
    assert!(patches >= 2, "{patches} tus PATCHes\n{listing}");

    assert_eq!(report["viewerUploadDisabled"], true, "{report:#}");

    assert_no_failures(&wire, &listing);
}
