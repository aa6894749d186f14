//! The `webdav` npm client (5.x, Node): compliance, recursive mkdir, `overwrite: false` (412),
//! listing, stat, oc: properties, ranged reads, copy/move, lock/unlock (its Lock-Token has no
//! `<>`), named quota properties and delete (clients.md §9). Script: `node/webdav_client.mjs`.

use std::time::Duration;

use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};
use crate::dav::Dav;
use crate::support::{bin, node_modules, node_workdir, run};

#[tokio::test]
#[ignore = "real client: needs webdav (npm dir); .ci/run runs it with --include-ignored"]
async fn webdav_npm_client_runs_its_common_operations() {
    let node = require!("node", bin("node"));
    let modules = require!("webdav (npm)", node_modules());
    let work = node_workdir(&modules, &["node/webdav_client.mjs"]);
    let script = work.path().join("webdav_client.mjs");
    let srv = TestServer::start().await;
    let root = srv.root(Root::Spaces);
    let out = run(
        Command::new(node)
            .arg(&script)
            .args([&root, ADMIN, ADMIN_PASSWORD])
            .current_dir(work.path()),
        Duration::from_secs(120),
    )
    .await;
    out.assert_success("webdav npm client");
    assert!(out.stdout.contains("ok delete"), "{}", out.text());
    let dav = Dav::admin();
    assert_eq!(
        dav.get(&format!("{root}npm/a.txt")).await,
        b"after unlock\n"
    );
    assert_eq!(
        dav.get(&format!("{root}npm/deep/moved.txt")).await,
        b"alpha\n"
    );
}
