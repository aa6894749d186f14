//! Locks in the metadata database: they expire by their timeout and survive a restart.

mod common;

use common::TestServer;
use common::dav::*;

const LOCKINFO: &str = "<?xml version=\"1.0\"?><d:lockinfo xmlns:d=\"DAV:\"><d:lockscope>\
    <d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype><d:owner>me</d:owner>\
    </d:lockinfo>";

/// An exclusive lock of `url` itself (depth 0) for `timeout`; its token.
async fn lock(s: &TestServer, url: &str, timeout: &str) -> String {
    lock_with(s, url, "0", false, Some(timeout)).await
}

/// A lock of `url` with `depth`, shared or exclusive, for `timeout` (else the server's
/// default); its token.
async fn lock_with(
    s: &TestServer,
    url: &str,
    depth: &str,
    shared: bool,
    timeout: Option<&str>,
) -> String {
    let mut r = req(s, "LOCK", url).header("Depth", depth);
    if let Some(t) = timeout {
        r = r.header("Timeout", t);
    }
    let body = if shared {
        LOCKINFO.replace("<d:exclusive/>", "<d:shared/>")
    } else {
        LOCKINFO.to_string()
    };
    let r = r.body(body).send().await.unwrap();
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
    s.advance(std::time::Duration::from_millis(1500));
    assert_eq!(
        put(&s, &url, b"v4").await.status(),
        204,
        "expired lock is gone"
    );
    let (_, xml) = propfind(&s, &url, "0", "<d:lockdiscovery/>").await;
    assert!(!xml.contains("activelock"), "{xml}");
}

#[tokio::test]
async fn lockdiscovery_counts_the_seconds_left_on_the_servers_clock() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let url = format!("{root}/t.txt");
    put(&s, &url, b"v1").await;
    lock(&s, &url, "Second-600").await;
    s.advance(std::time::Duration::from_secs(200));
    let (_, xml) = propfind(&s, &url, "0", "<d:lockdiscovery/>").await;
    let left = between(&xml, "<d:timeout>Second-", "</d:timeout>");
    let left: u64 = left.and_then(|n| n.parse().ok()).expect(&xml);
    assert!((390..=400).contains(&left), "{left} seconds left:\n{xml}");
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

/// A small PUT without conditions leaves every check to its commit (dav-server looks up
/// neither the target nor its locks): the commit must refuse what dav-server's check refused.
#[tokio::test]
async fn a_small_put_into_a_locked_tree_is_423_and_stores_nothing_but_writes_with_the_token() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    mkcol(&s, &format!("{root}/deep")).await;
    mkcol(&s, &format!("{root}/shared")).await;
    put(&s, &format!("{root}/deep/old.txt"), b"old").await;
    let deep = lock_with(&s, &format!("{root}/deep"), "infinity", false, None).await;
    let shared = lock_with(&s, &format!("{root}/shared/f.txt"), "0", true, None).await;
    for (url, token) in [
        (format!("{root}/deep/new.txt"), &deep),
        (format!("{root}/deep/old.txt"), &deep),
        (format!("{root}/shared/f.txt"), &shared),
    ] {
        let before = s.admin().get(&url).await;
        let r = put(&s, &url, b"intruder").await;
        assert_eq!(r.status(), 423, "{url}");
        assert_eq!(s.admin().get(&url).await, before, "{url}");
        let with = req(&s, "PUT", &url)
            .header("If", format!("({token})"))
            .body("holder")
            .send()
            .await
            .unwrap();
        assert!(with.status().is_success(), "{url}: {}", with.status());
        assert_eq!(s.admin().get(&url).await.1, b"holder", "{url}");
    }
    // Outside the locked trees the same PUT writes, 201 new and 204 replaced (no length).
    let free = format!("{root}/free.txt");
    assert_eq!(put(&s, &free, b"a").await.status(), 201);
    let again = put(&s, &free, b"b").await;
    assert_eq!(again.status(), 204);
    assert!(
        again.headers().get("content-length").is_none(),
        "{:?}",
        again.headers()
    );
    assert!(again.headers().contains_key("oc-fileid"));
}

#[tokio::test]
async fn is_locked_for_reports_locks_the_request_does_not_hold() {
    let s = TestServer::start().await;
    let sid = s.admin_space().await;
    let root = s.space_url(&sid);
    mkcol(&s, &format!("{root}/d")).await;
    let token = lock_with(&s, &format!("{root}/d"), "infinity", false, None).await;
    let path = spacedav::spaces::SpacePath::parse("d/new.txt").unwrap();
    let mut headers = http::HeaderMap::new();
    assert!(
        spacedav::dav::is_locked_for(&s.state, sid.space, &path, &headers)
            .await
            .unwrap()
    );
    headers.insert("if", format!("({token})").parse().unwrap());
    assert!(
        !spacedav::dav::is_locked_for(&s.state, sid.space, &path, &headers)
            .await
            .unwrap()
    );
    let other = spacedav::spaces::SpacePath::parse("elsewhere.txt").unwrap();
    assert!(
        !spacedav::dav::is_locked_for(&s.state, sid.space, &other, &http::HeaderMap::new())
            .await
            .unwrap()
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

/// The `<D:timeout>` of a LOCK answer.
fn granted_timeout(xml: &str) -> &str {
    between(xml, "<D:timeout>", "</D:timeout>")
        .or_else(|| between(xml, "<d:timeout>", "</d:timeout>"))
        .unwrap_or("")
}

/// Every lock timeout is capped (issue 15 item 7): a `Second-N` too large to parse, a missing
/// `Timeout` and `Infinite` (on a new lock and on a refresh) all become the 600 s maximum,
/// so a lock that survives restarts still cannot last forever.
#[tokio::test]
async fn every_lock_timeout_is_capped_at_the_maximum() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    for (i, timeout) in [
        Some("Second-99999999999999"),
        Some("Second-4294967295"),
        Some("Infinite"),
        Some("Infinite, Second-99999999999"),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        let url = format!("{root}/t{i}.txt");
        put(&s, &url, b"x").await;
        let mut r = req(&s, "LOCK", &url).header("Depth", "0").body(LOCKINFO);
        if let Some(t) = timeout {
            r = r.header("Timeout", t);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 200, "{timeout:?}");
        let token = r.headers()["lock-token"].to_str().unwrap().to_string();
        let xml = r.text().await.unwrap();
        assert_eq!(granted_timeout(&xml), "Second-600", "{timeout:?}: {xml}");
        let (_, found) = propfind(&s, &url, "0", "<d:lockdiscovery/>").await;
        let left = between(&found, "<d:timeout>Second-", "</d:timeout>");
        let left: u64 = left.and_then(|n| n.parse().ok()).expect(&found);
        assert!(left <= 600, "{timeout:?}: {found}");
        let refresh = req(&s, "LOCK", &url)
            .header("If", format!("({token})"))
            .header("Timeout", timeout.unwrap_or("Infinite"))
            .send()
            .await
            .unwrap();
        assert_eq!(refresh.status(), 200, "refresh {timeout:?}");
        let xml = refresh.text().await.unwrap();
        assert_eq!(
            granted_timeout(&xml),
            "Second-600",
            "refresh {timeout:?}: {xml}"
        );
    }
}

/// An `If` header that does not follow RFC 4918 §10.4 is answered 400 (issue 15 item 10)
/// instead of being ignored; a well-formed one that does not match is 412.
#[tokio::test]
async fn a_malformed_if_header_is_a_bad_request() {
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    let url = format!("{root}/if.txt");
    put(&s, &url, b"v1").await;
    for bad in [
        "garbage",
        "<opaquelocktoken:x>",
        "(opaquelocktoken:x)",
        "(<opaquelocktoken:x>",
        "()",
        "(Not)",
        "([\"etag\")",
        "([etag])",
        "(<>)",
        "(<no scheme>)",
        "</a>",
        "</a> (<opaquelocktoken:x>) (<DAV:no-lock>) trailing",
        "(<opaquelocktoken:x>) </a> (<opaquelocktoken:y>)",
    ] {
        for method in ["PUT", "DELETE", "PROPPATCH", "MOVE", "LOCK", "MKCOL", "GET"] {
            let r = req(&s, method, &url)
                .header("If", bad)
                .header("Destination", format!("{root}/moved.txt"))
                .body("v2")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{method} with If: {bad}");
        }
    }
    let g = req(&s, "GET", &url).send().await.unwrap();
    assert_eq!(g.text().await.unwrap(), "v1", "nothing changed");
    let url_tag = format!("<{url}>");
    for (good, want) in [
        ("([\"not-the-etag\"])", 412),
        ("(Not <DAV:no-lock> [ETAG])", 204),
        ("TAG ([ETAG]) (Not <DAV:no-lock>)", 204),
        ("(<DAV:no-lock>)", 412),
    ] {
        let head = req(&s, "HEAD", &url).send().await.unwrap();
        let etag = head.headers()["etag"].to_str().unwrap();
        let good = good.replace("ETAG", etag).replace("TAG", &url_tag);
        let r = req(&s, "PUT", &url)
            .header("If", good.as_str())
            .body("v3")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), want, "If: {good}");
    }
}

/// A lock stored without a timeout by an earlier version (issue 15 item 7) gets the maximum
/// when the server starts: it survives the restart but no longer lasts forever.
#[tokio::test]
async fn an_endless_lock_from_before_the_cap_expires_after_a_restart() {
    let s = TestServer::start().await;
    let sid = s.admin_space().await;
    let root = s.space_url(&sid);
    put(&s, &format!("{root}/old.txt"), b"x").await;
    let path = spacedav::spaces::SpacePath::parse("old.txt").unwrap();
    let endless = spacedav::spaces::LockRecord {
        token: "opaquelocktoken:legacy".into(),
        path: spacedav::spaces::LockRecord::key(&path),
        principal: Some("admin".into()),
        owner_xml: None,
        timeout_s: None,
        expires_at: None,
        shared: false,
        deep: false,
    };
    let added = s.state.store().add_lock(sid.space, endless, |_, _| None);
    assert!(added.await.unwrap().is_ok());
    let (dir, config) = s.stop();
    let s = TestServer::start_in(dir, config).await;
    let url = format!("{}/old.txt", s.space_url(&sid));
    assert_eq!(put(&s, &url, b"y").await.status(), 423, "the lock survived");
    let (_, found) = propfind(&s, &url, "0", "<d:lockdiscovery/>").await;
    assert!(!found.contains("Infinite"), "{found}");
    let left = between(&found, "<d:timeout>Second-", "</d:timeout>");
    let left: u64 = left.and_then(|n| n.parse().ok()).expect(&found);
    assert!(left <= 600, "{found}");
}

#[tokio::test]
async fn a_database_error_during_the_lock_check_is_500_with_its_cause_logged_never_unlocked() {
    let log = common::log::captured_log();
    let s = TestServer::start().await;
    let root = admin_root(&s).await;
    put(&s, &format!("{root}/f.txt"), b"v1").await;
    mkcol(&s, &format!("{root}/d")).await;
    s.drop_table("dav_locks").await;
    let proppatch = "<?xml version=\"1.0\"?><d:propertyupdate xmlns:d=\"DAV:\" \
        xmlns:x=\"urn:x\"><d:set><d:prop><x:color>red</x:color></d:prop></d:set>\
        </d:propertyupdate>";
    for (n, (method, path, body)) in [
        ("PROPPATCH", "/f.txt", proppatch),
        ("MKCOL", "/new", ""),
        ("DELETE", "/d", ""),
        ("PUT", "/f.txt", "v2"),
        ("MOVE", "/f.txt", ""),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("dav-lock-db-{n}");
        let res = req(&s, method, &format!("{root}{path}"))
            .header("X-Request-ID", &id)
            .header("Destination", format!("{root}/moved.txt"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 500, "{method}");
        common::log::assert_failure_logged_once(&log, &id, "dav_locks");
    }
    // Nothing happened behind the failed checks.
    let (_, listing) = propfind(&s, &format!("{root}/"), "1", "<d:getetag/>").await;
    assert!(listing.contains("/f.txt<"), "{listing}");
    assert!(listing.contains("/d/<"), "{listing}");
    assert!(
        !listing.contains("/new/") && !listing.contains("moved.txt"),
        "{listing}"
    );
    let body = req(&s, "GET", &format!("{root}/f.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(body.text().await.unwrap(), "v1");
}
