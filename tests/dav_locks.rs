//! Locks in the metadata database: they expire by their timeout and survive a restart.

mod common;
mod dav_support;

use common::TestServer;
use dav_support::*;

const LOCKINFO: &str = "<?xml version=\"1.0\"?><d:lockinfo xmlns:d=\"DAV:\"><d:lockscope>\
    <d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype><d:owner>me</d:owner>\
    </d:lockinfo>";

async fn lock(s: &TestServer, url: &str, timeout: &str) -> String {
    let r = req(s, "LOCK", url)
        .header("Timeout", timeout)
        .header("Depth", "0")
        .body(LOCKINFO)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.headers()["lock-token"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_lock_blocks_writers_and_expires_after_its_timeout() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let url = format!("{root}/l.txt");
    put(&s, &url, b"v1").await;
    let token = lock(&s, &url, "Second-1").await;
    assert_eq!(put(&s, &url, b"v2").await.status(), 423);
    let with = req(&s, "PUT", &url)
        .header("If", format!("({token})"))
        .body("v3")
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), 204);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        put(&s, &url, b"v4").await.status(),
        204,
        "expired lock is gone"
    );
    let (_, xml) = propfind(&s, &url, "0", "<d:lockdiscovery/>").await;
    assert!(!xml.contains("activelock"), "{xml}");
}

#[tokio::test]
async fn a_lock_survives_a_restart_and_unlocks_with_a_bare_token() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let url = format!("{root}/r.txt");
    put(&s, &url, b"v1").await;
    let token = lock(&s, &url, "Second-3600").await;
    let (dir, config) = s.stop();
    let s = TestServer::start_in(dir, config).await;
    let root = admin_root(&s).await;
    let url = format!("{root}/r.txt");
    assert_eq!(put(&s, &url, b"v2").await.status(), 423);
    let (_, xml) = propfind(&s, &url, "0", "<d:lockdiscovery/>").await;
    let bare = token.trim_matches(['<', '>']);
    assert!(xml.contains(bare), "{xml}");
    assert!(xml.contains("<d:owner>me</d:owner>"), "{xml}");
    let r = req(&s, "UNLOCK", &url)
        .header("Lock-Token", bare)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(put(&s, &url, b"v3").await.status(), 204);
}

#[tokio::test]
async fn is_locked_for_reports_locks_the_request_does_not_hold() {
    let s = TestServer::start().await;
    let sid = s.admin_space().await;
    let root = s.space_url(&sid);
    mkcol(&s, &format!("{root}/d")).await;
    let r = req(&s, "LOCK", &format!("{root}/d"))
        .header("Depth", "infinity")
        .body(LOCKINFO)
        .send()
        .await
        .unwrap();
    let token = r.headers()["lock-token"].to_str().unwrap().to_string();
    let path = spacedav::spaces::SpacePath::parse("d/new.txt").unwrap();
    let mut headers = http::HeaderMap::new();
    assert!(spacedav::dav::is_locked_for(&s.state, sid.space, &path, &headers).await);
    headers.insert("if", format!("({token})").parse().unwrap());
    assert!(!spacedav::dav::is_locked_for(&s.state, sid.space, &path, &headers).await);
    let other = spacedav::spaces::SpacePath::parse("elsewhere.txt").unwrap();
    assert!(
        !spacedav::dav::is_locked_for(&s.state, sid.space, &other, &http::HeaderMap::new()).await
    );
}

#[tokio::test]
async fn deleting_a_folder_spares_locked_members_and_otherwise_removes_the_tree() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/t")).await;
    mkcol(&s, &format!("{root}/t/u")).await;
    put(&s, &format!("{root}/t/u/f.txt"), b"x").await;
    let token = lock(&s, &format!("{root}/t/u/f.txt"), "Second-600").await;
    let r = req(&s, "DELETE", &format!("{root}/t"))
        .send()
        .await
        .unwrap();
    assert!(
        !r.status().is_success() || r.status() == 207,
        "{}",
        r.status()
    );
    let g = req(&s, "GET", &format!("{root}/t/u/f.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(g.status(), 200, "the locked member survives");
    let r = req(&s, "UNLOCK", &format!("{root}/t/u/f.txt"))
        .header("Lock-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = req(&s, "DELETE", &format!("{root}/t"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (st, _) = propfind(&s, &format!("{root}/t/u/f.txt"), "0", "").await;
    assert_eq!(st, 404);
    let (_, xml) = propfind(&s, &format!("{root}/"), "0", "<oc:size/>").await;
    assert_eq!(prop(&xml, "/", "oc:size"), Some("0"));
}
