//! litmus (the RFC 4918 suite, as in tests/clients/litmus.rs) against the second node of a
//! cluster whose bytes are in Garage: every WebDAV write and read goes through the object
//! store and the shared database.

use std::time::Duration;

use tokio::process::Command;

use crate::binary::ADMIN_PASSWORD;
use crate::cluster::Cluster;
use crate::support::{bin, run};

const SUITES: [&str; 5] = ["basic", "copymove", "props", "locks", "http"];
const ALL_TESTS: u32 = 104;

/// `(run, passed, failed)` of each line like
/// ``<- summary for `props': of 30 tests run: 30 passed, 0 failed. 100.0%``.
fn summaries(out: &str) -> Vec<(u32, u32, u32)> {
    out.lines()
        .filter_map(|line| {
            let rest = line.split("<- summary for `").nth(1)?;
            let num = |after: &str| -> Option<u32> {
                rest.split_once(after)?
                    .0
                    .split_whitespace()
                    .last()?
                    .parse()
                    .ok()
            };
            Some((num(" tests run")?, num(" passed")?, num(" failed")?))
        })
        .collect()
}

#[tokio::test]
#[ignore = "real client: needs PostgreSQL, garage and litmus"]
async fn litmus_passes_all_tests_against_the_second_node() {
    let litmus = crate::support::require("litmus", bin("litmus")).expect("litmus");
    let cluster = Cluster::start(3).await;
    let url = format!("{}/", cluster.space(1));
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = run(
        Command::new(litmus)
            .arg("-k")
            .arg(&url)
            .arg("admin")
            .arg(ADMIN_PASSWORD)
            .env("TESTS", SUITES.join(" "))
            .current_dir(cwd.path()),
        Duration::from_secs(300),
    )
    .await;
    let found = summaries(&out.stdout);
    let total = found
        .iter()
        .fold((0, 0, 0), |t, s| (t.0 + s.0, t.1 + s.1, t.2 + s.2));
    assert_eq!(found.len(), SUITES.len(), "{}", out.text());
    assert_eq!(total, (ALL_TESTS, ALL_TESTS, 0), "{}", out.text());
}
