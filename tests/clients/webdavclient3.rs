//! webdavclient3 (PyPI 3.14): check (a HEAD on folders), mkdir, file and tree upload, list,
//! info, dead properties (its PROPPATCH comes with `Depth: 1` and a form Content-Type),
//! download, copy, move, clean (clients.md §9). Script: `python/webdavclient3_client.py`.

use std::time::Duration;

use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};
use crate::dav::Dav;
use crate::support::{python, run, script};

#[tokio::test]
#[ignore = "real client: needs webdavclient3 (venv); .ci/run runs it with --include-ignored"]
async fn webdavclient3_runs_its_common_operations() {
    let py = require!("webdavclient3 (venv python)", python());
    let srv = TestServer::start().await;
    let work = tempfile::tempdir().expect("temp dir");
    let root = srv.root(Root::Spaces);
    let dav_root = crate::dav::url_path(&root);
    let out = run(
        Command::new(py)
            .arg(script("python/webdavclient3_client.py"))
            .args([&srv.base, ADMIN, ADMIN_PASSWORD, &dav_root])
            .arg(work.path()),
        Duration::from_secs(120),
    )
    .await;
    out.assert_success("webdavclient3");
    assert!(out.stdout.contains("ok clean"), "{}", out.text());
    let tree = Dav::admin().content_tree(&format!("{root}wdc3/")).await;
    assert_eq!(
        tree.keys().map(String::as_str).collect::<Vec<_>>(),
        ["moved.txt", "one.txt", "tree", "tree/two.txt"],
        "what the session left on the server"
    );
    assert_eq!(
        tree["one.txt"], tree["moved.txt"],
        "copy has the same content"
    );
}
