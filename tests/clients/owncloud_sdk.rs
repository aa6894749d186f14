//! owncloud-sdk (npm, 1.x): the JavaScript library ownCloud's own tools were built on, driving
//! the recovery endpoints of issue 11 through its `files` (favorites, search), `fileVersions`
//! and `fileTrash` APIs. Script: `node/owncloud_sdk.mjs`.

use std::time::Duration;

use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};
use crate::dav::Dav;
use crate::support::{bin, node_modules, node_workdir, run};

#[tokio::test]
#[ignore = "real client: needs owncloud-sdk (npm dir); .ci/run runs it with --include-ignored"]
async fn owncloud_sdk_restores_versions_and_trash_and_finds_favorites_and_names() {
    let node = require!("node", bin("node"));
    let modules = require!(
        "owncloud-sdk (npm)",
        node_modules().filter(|m| m.join("owncloud-sdk").exists())
    );
    let work = node_workdir(&modules, &["node/owncloud_sdk.mjs"]);
    let script = work.path().join("owncloud_sdk.mjs");
    let srv = TestServer::start().await;
    let out = run(
        Command::new(node)
            .arg(&script)
            .args([&format!("{}/", srv.base), ADMIN, ADMIN_PASSWORD])
            .current_dir(work.path()),
        Duration::from_secs(120),
    )
    .await;
    out.assert_success("owncloud-sdk");
    for step in [
        "fileVersions",
        "favorites",
        "search",
        "fileTrash restore",
        "fileTrash purge",
    ] {
        assert!(
            out.stdout.contains(&format!("ok {step}\n")),
            "{}",
            out.text()
        );
    }
    // What the server stores after the script: the folder and the file are gone for good,
    // and the trash bin is empty.
    let dav = Dav::admin();
    let tree = dav.content_tree(&srv.root(Root::Spaces)).await;
    assert!(tree.keys().all(|k| !k.contains("sdk")), "{tree:?}");
    let bin = format!(
        "{}/remote.php/dav/spaces/trash-bin/{}/",
        srv.base,
        srv.admin_space_id()
    );
    assert_eq!(dav.propfind(&bin, 1).await.len(), 1, "only the bin itself");
}
