//! Several `spacedav serve` processes on one PostgreSQL database and one blob directory
//! (issue 14): the race-and-kill suite. A node is a real child process, so it can be killed
//! (SIGKILL), paused (SIGSTOP) and restarted; the test talks to each over HTTP.
//!
//! Every test needs a PostgreSQL server (`SPACEDAV_TEST_POSTGRES`, as in tests/common) and is
//! `#[ignore]`d, so a plain `cargo test` reports it as ignored; `.ci/run` runs the suite in its
//! PostgreSQL pass with `--include-ignored`, where a missing server fails it.

mod balancer;
#[path = "../binary/mod.rs"]
mod binary;
mod cluster;
mod cluster_races;
mod cluster_start;
mod cluster_tus_js;
mod cluster_views;
#[path = "../common/mod.rs"]
mod common;
#[path = "../clients/support.rs"]
#[allow(dead_code, unused_macros)]
mod support;
