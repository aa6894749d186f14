//! litmus (Debian `litmus` 0.13): the RFC 4918 compliance suite, all 104 tests of the basic,
//! copymove, props, locks and http suites, on each WebDAV root of SPEC §1 (issue 3).
//!
//! `litmus -k` exits 0 even when tests fail, so the per-suite summaries are parsed instead.

use std::time::Duration;

use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};
use crate::support::{bin, run};

const SUITES: [&str; 5] = ["basic", "copymove", "props", "locks", "http"];
const ALL_TESTS: u32 = 104;

/// `(suite, run, passed, failed)` from lines like
/// ``<- summary for `props': of 30 tests run: 30 passed, 0 failed. 100.0%``.
fn summaries(out: &str) -> Vec<(String, u32, u32, u32)> {
    out.lines()
        .filter_map(|line| {
            let rest = line.split("<- summary for `").nth(1)?;
            let (suite, rest) = rest.split_once("':")?;
            let num = |after: &str| -> Option<u32> {
                let (before, _) = rest.split_once(after)?;
                before.split_whitespace().last()?.parse().ok()
            };
            Some((
                suite.to_string(),
                num(" tests run")?,
                num(" passed")?,
                num(" failed")?,
            ))
        })
        .collect()
}

async fn litmus_passes_all_tests(root: Root) {
    litmus_passes_all_tests_on(&TestServer::start().await, root).await;
}

async fn litmus_passes_all_tests_on(srv: &TestServer, root: Root) {
    let litmus = require!("litmus", bin("litmus"));
    let url = srv.root(root);
    // litmus writes debug.log and child.log into its working directory.
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = run(
        Command::new(litmus)
            .arg("-k")
            .arg(&url)
            .arg(ADMIN)
            .arg(ADMIN_PASSWORD)
            .env("TESTS", SUITES.join(" "))
            .current_dir(cwd.path()),
        Duration::from_secs(300),
    )
    .await;
    let found = summaries(&out.stdout);
    let failures: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("FAIL") || l.contains("SKIPPED"))
        .collect();
    let report = format!(
        "litmus on {url}: summaries {found:?}\nfailing/skipped lines:\n{}\n{}",
        failures.join("\n"),
        out.text()
    );
    for suite in SUITES {
        assert!(
            found.iter().any(|(s, ..)| s == suite),
            "suite {suite} printed no summary (its `begin` failed?)\n{report}"
        );
    }
    let ran: u32 = found.iter().map(|f| f.1).sum();
    let passed: u32 = found.iter().map(|f| f.2).sum();
    let failed: u32 = found.iter().map(|f| f.3).sum();
    assert_eq!(
        (ran, passed, failed),
        (ALL_TESTS, ALL_TESTS, 0),
        "(run, passed, failed)\n{report}"
    );
}

#[tokio::test]
#[ignore = "real client: needs litmus; .ci/run runs it with --include-ignored"]
async fn litmus_passes_all_104_tests_on_the_spaces_root() {
    litmus_passes_all_tests(Root::Spaces).await;
}

#[tokio::test]
#[ignore = "real client: needs litmus; .ci/run runs it with --include-ignored"]
async fn litmus_passes_all_104_tests_on_the_files_root() {
    litmus_passes_all_tests(Root::Files).await;
}

#[tokio::test]
#[ignore = "real client: needs litmus; .ci/run runs it with --include-ignored"]
async fn litmus_passes_all_104_tests_on_the_webdav_root() {
    litmus_passes_all_tests(Root::Webdav).await;
}

/// The same suite with the file bytes in S3 (a single-node Garage; issue 14).
#[tokio::test]
#[ignore = "real client: needs litmus and garage; .ci/run runs it with --include-ignored"]
async fn litmus_passes_all_104_tests_with_the_bytes_in_garage() {
    let garage = crate::common::garage::Garage::start().await;
    let srv = TestServer::start_with(|c| garage.configure(c)).await;
    litmus_passes_all_tests_on(&srv, Root::Spaces).await;
}

#[test]
fn summaries_are_parsed_per_suite() {
    let out = "-> running `basic':\n 0. init.................. pass\n\
               <- summary for `basic': of 16 tests run: 15 passed, 1 failed. 93.8%\n\
               <- summary for `http': of 4 tests run: 4 passed, 0 failed. 100.0%\n";
    assert_eq!(
        summaries(out),
        vec![("basic".into(), 16, 15, 1), ("http".into(), 4, 4, 0)]
    );
}
