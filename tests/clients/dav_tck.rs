//! dav-tck (PyPI `webdav-tck`): a second RFC 4918 suite, a Python rewrite of litmus's plus
//! `largefile` (clients.md §1). It exits 1 when any test fails. `largefile` runs in its small
//! mode (8 MB) here; the >4 GiB path is covered by the tus suite's 5 GiB upload.

use std::time::Duration;

use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};
use crate::support::run;

fn dav_tck() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("SPACEDAV_CI_DAV_TCK") {
        return Some(p.into());
    }
    // Beside the venv python (.ci/run's cache).
    crate::support::python().map(|py| py.with_file_name("dav-tck"))
}

#[tokio::test]
#[ignore = "real client: needs webdav-tck (venv); .ci/run runs it with --include-ignored"]
async fn dav_tck_passes_on_the_spaces_root() {
    let tck = require!("dav-tck (PyPI webdav-tck)", dav_tck());
    let srv = TestServer::start().await;
    let out = run(
        Command::new(tck)
            .args([
                "--no-colour",
                &srv.root(Root::Spaces),
                ADMIN,
                ADMIN_PASSWORD,
            ])
            .env("WEBDAV_TCK_TEST_MODE", "1")
            .env("COLUMNS", "200"),
        Duration::from_secs(300),
    )
    .await;
    out.assert_success("dav-tck");
}
