//! cadaver (Debian 0.24, neon): a scripted session on the spaces root (clients.md §4). cadaver
//! exits 0 whatever happens, so every command's "succeeded"/"failed" line is checked, and then
//! what the server stored.

use std::time::Duration;

use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, Root, TestServer};
use crate::dav::Dav;
use crate::support::{bin, noise, run_with_input};

const CUSTOM_NS: &str = "http://webdav.org/cadaver/custom-properties/";

#[tokio::test]
#[ignore = "real client: needs cadaver; .ci/run runs it with --include-ignored"]
async fn cadaver_session_uploads_copies_moves_locks_and_sets_dead_properties() {
    let cadaver = require!("cadaver", bin("cadaver"));
    let srv = TestServer::start().await;
    let root = srv.root(Root::Spaces);
    let home = tempfile::tempdir().expect("temp dir");
    let netrc = home.path().join(".netrc");
    std::fs::write(
        &netrc,
        format!(
            "machine 127.0.0.1 login {} password {}\n",
            ADMIN, ADMIN_PASSWORD
        ),
    )
    .expect("netrc");
    let local = home.path().join("hello.txt");
    std::fs::write(&local, b"hello from cadaver\n").expect("write");
    let big = home.path().join("big.bin");
    let big_bytes = noise(2 * 1024 * 1024 + 1, 2);
    std::fs::write(&big, &big_bytes).expect("write");
    let got = home.path().join("got.txt");
    let script = format!(
        "mkcol cad\ncd cad\nput {local} hello.txt\nput {big} big.bin\nls\n\
         propset hello.txt color blue\npropget hello.txt color\n\
         copy hello.txt copy.txt\nmove copy.txt moved.txt\n\
         lock hello.txt\nunlock hello.txt\nget moved.txt {got}\n\
         mkcol sub\nrmcol sub\ndelete big.bin\nquit\n",
        local = local.display(),
        big = big.display(),
        got = got.display(),
    );
    let out = run_with_input(
        Command::new(cadaver).arg(&root).env("HOME", home.path()),
        Some(script.as_bytes()),
        Duration::from_secs(120),
    )
    .await;
    let log = out.text();
    let failed: Vec<_> = out
        .stdout
        .lines()
        .filter(|l| l.contains("failed") || l.contains("Could not"))
        .collect();
    assert!(
        failed.is_empty(),
        "cadaver reported failures {failed:?}\n{log}"
    );
    let succeeded = out.stdout.matches("succeeded").count();
    // mkcol, put ×2, propset, copy, move, lock, unlock, get, mkcol, rmcol, delete
    assert!(
        succeeded >= 12,
        "expected 12 successes, saw {succeeded}\n{log}"
    );
    assert!(
        out.stdout.contains("blue"),
        "propget shows the value\n{log}"
    );
    assert_eq!(
        std::fs::read(&got).expect("cadaver downloaded moved.txt"),
        b"hello from cadaver\n"
    );

    let dav = Dav::admin();
    let tree = dav.walk(&format!("{root}cad/")).await;
    assert_eq!(
        tree.keys().map(String::as_str).collect::<Vec<_>>(),
        ["hello.txt", "moved.txt"],
        "what is left after the session"
    );
    assert_eq!(
        dav.get(&format!("{root}cad/moved.txt")).await,
        b"hello from cadaver\n"
    );
    let props = dav
        .propfind_body(
            &format!("{root}cad/hello.txt"),
            0,
            &format!(
                r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><c:color xmlns:c="{CUSTOM_NS}"/></d:prop></d:propfind>"#
            ),
        )
        .await;
    assert_eq!(props[0].prop("color"), Some("blue"), "dead property stored");
}
