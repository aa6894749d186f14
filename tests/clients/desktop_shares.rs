//! The desktop client on the "Shares" space (issue 12): `owncloudcmd` (Debian
//! owncloud-client-cmd 2.11, which knows no Graph and no spaces) syncs oCIS's share jail as a
//! plain WebDAV folder when given it as its dav path: the recipient gets the received folder
//! and file (and nothing else of the owner's), and the owner's later changes on the next run.
//!
//! It cannot upload there: 2.11 sends every tus creation to `remote.php/dav/files/{user}/`
//! with the path below its sync root, whatever `--davpath` says, so a new file in a received
//! folder is refused (412, no such folder in the user's own space) and an edit of a received
//! file becomes a new file in the user's own space, as with oCIS. Uploads into received shares
//! are covered by the HTTP tests (`tests/sharing/jail.rs`).

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};
use crate::dav::Dav;
use crate::support::{bin, local_tree, run};

const LIMIT: Duration = Duration::from_secs(180);
const JAIL: &str = "a0ca6a90-a365-4782-871e-d44447bbc668$a0ca6a90-a365-4782-871e-d44447bbc668";

async fn share_with_bob(srv: &TestServer, path: &str, perms: &str) {
    let res = reqwest::Client::new()
        .post(format!(
            "{}/ocs/v2.php/apps/files_sharing/api/v1/shares?format=json",
            srv.base
        ))
        .basic_auth(ADMIN, Some(ADMIN_PASSWORD))
        .form(&[
            ("shareType", "0"),
            ("path", path),
            ("shareWith", "bob"),
            ("permissions", perms),
        ])
        .send()
        .await
        .expect("share");
    assert!(res.status().is_success(), "share {path}: {}", res.status());
}

async fn owncloudcmd(bin: &Path, srv: &TestServer, local: &Path, home: &Path) {
    let exclude = home.join("exclude.lst");
    std::fs::write(
        &exclude,
        "*~\n.sync_*.db*\n._sync_*.db*\n.owncloudsync.log*\n",
    )
    .expect("exclude list");
    let mut cmd = Command::new(bin);
    // The share jail as the client's dav root: the server URL is everything before it.
    cmd.args(["--non-interactive", "--max-sync-retries", "1"])
        .arg("--exclude")
        .arg(&exclude)
        .args(["-u", "bob", "-p", "bob-pw"])
        .args(["--davpath", &format!("remote.php/dav/spaces/{JAIL}")])
        .arg(local)
        .arg(format!("{}/remote.php/dav/spaces/{JAIL}", srv.base))
        .env("HOME", home);
    run(&mut cmd, LIMIT).await.assert_success("owncloudcmd");
}

#[tokio::test]
#[ignore = "real client: needs owncloudcmd; .ci/run runs it with --include-ignored"]
async fn owncloudcmd_syncs_received_shares_through_the_share_jail() {
    let bin = require!(
        "owncloudcmd (Debian owncloud-client-cmd)",
        bin("owncloudcmd")
    );
    let srv = TestServer::start().await;
    srv.add_user("bob", "bob-pw").await;
    let dav = Dav::admin();
    let own = srv.root(Root::Webdav);
    dav.mkcol(&format!("{own}team")).await;
    dav.mkcol(&format!("{own}team/sub")).await;
    dav.put(&format!("{own}team/a.txt"), b"alpha\n".to_vec())
        .await;
    dav.put(&format!("{own}team/sub/b.txt"), b"beta\n".to_vec())
        .await;
    dav.put(&format!("{own}report.txt"), b"v1\n".to_vec()).await;
    dav.put(&format!("{own}private.txt"), b"mine\n".to_vec())
        .await;
    share_with_bob(&srv, "/team", "15").await;
    share_with_bob(&srv, "/report.txt", "3").await;

    let home = tempfile::tempdir().expect("home");
    let local = tempfile::tempdir().expect("local");
    owncloudcmd(&bin, &srv, local.path(), home.path()).await;
    let tree = local_tree(local.path());
    let names: Vec<_> = tree.keys().cloned().collect();
    assert_eq!(
        names,
        [
            "report.txt",
            "team",
            "team/a.txt",
            "team/sub",
            "team/sub/b.txt"
        ],
        "{tree:#?}"
    );
    assert_eq!(
        std::fs::read(local.path().join("team/a.txt")).expect("a"),
        b"alpha\n"
    );

    // The owner changes the shared folder and file; the next run brings both down.
    dav.put(&format!("{own}team/a.txt"), b"alpha 2\n".to_vec())
        .await;
    dav.put(&format!("{own}team/sub/c.txt"), b"gamma\n".to_vec())
        .await;
    dav.put(&format!("{own}report.txt"), b"v2\n".to_vec()).await;
    owncloudcmd(&bin, &srv, local.path(), home.path()).await;
    let read = |rel: &str| std::fs::read(local.path().join(rel)).expect(rel);
    assert_eq!(read("team/a.txt"), b"alpha 2\n");
    assert_eq!(read("team/sub/c.txt"), b"gamma\n");
    assert_eq!(read("report.txt"), b"v2\n");
    assert!(!local.path().join("private.txt").exists());
}
