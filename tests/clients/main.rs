//! Real clients nobody on this team wrote, driven against a started spacedav (issue 5, and the
//! client items of issues 3 and 4): each test starts the server through the shared helper,
//! runs the unmodified client as a process, and asserts both on what the client reports and
//! on what the server then stores (content hashes, mtimes, checksums, file ids).
//!
//! Each client test is `#[ignore]`d (with the client it needs as the reason), so `cargo test`
//! reports it as ignored; `.ci/run` installs the clients and runs them with
//! `--include-ignored`, where a missing client fails the test. How each client is
//! installed and what it needs from a server: `shared/research/clients.md`.

#[path = "../common/mod.rs"]
mod common;

#[macro_use]
mod support;

mod cadaver;
mod dav;
mod dav_tck;
mod davfs2;
mod desktop;
mod desktop_shares;
mod litmus;
mod oidc_authlib;
mod owncloud_sdk;
mod proxy;
mod pyocclient;
mod rclone;
mod tus_js;
mod tus_py;
mod uppy;
mod web_recovery;
mod web_sharing;
mod web_ui;
mod webdav_npm;
mod webdavclient3;
