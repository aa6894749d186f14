//! ownCloud Web served at `/` (issue 10 item 1): the generated `/config.json`, history-mode
//! fallback with `<base href="/">`, API paths that never fall back, compression, caching; and
//! the landing page when no Web build is configured.

use std::path::Path;

use http::header;

use crate::common::{ADMIN_PASSWORD, TestServer};

/// A miniature Web build: the three entry points, a hashed bundle and a theme.
fn fake_build(dir: &Path) {
    let html = |title: &str| {
        format!("<!DOCTYPE html><html><head><title>{title}</title></head><body></body></html>")
    };
    std::fs::write(dir.join("index.html"), html("index")).unwrap();
    std::fs::write(dir.join("oidc-callback.html"), html("callback")).unwrap();
    std::fs::write(dir.join("oidc-silent-redirect.html"), html("silent")).unwrap();
    std::fs::create_dir_all(dir.join("js")).unwrap();
    let js = "console.log('ownCloud Web');\n".repeat(200);
    std::fs::write(dir.join("js/web-app-files-18DnYDtw.mjs"), js).unwrap();
    std::fs::create_dir_all(dir.join("themes/owncloud")).unwrap();
    std::fs::write(dir.join("themes/owncloud/theme.json"), "{}").unwrap();
}

async fn web_server() -> (TestServer, tempfile::TempDir) {
    let build = tempfile::tempdir().unwrap();
    fake_build(build.path());
    let path = build.path().to_path_buf();
    let srv = TestServer::start_with(move |c| c.web_assets_path = Some(path)).await;
    (srv, build)
}

async fn get(srv: &TestServer, path: &str) -> reqwest::Response {
    srv.client().get(srv.url(path)).send().await.unwrap()
}

#[tokio::test]
async fn config_json_points_web_at_this_server_and_its_sign_in() {
    let (srv, _build) = web_server().await;
    let res = get(&srv, "/config.json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["server"], srv.base);
    assert_eq!(
        v["theme"],
        format!("{}/themes/owncloud/theme.json", srv.base)
    );
    let oidc = &v["openIdConnect"];
    assert_eq!(oidc["authority"], srv.base);
    assert_eq!(
        oidc["metadata_url"],
        format!("{}/.well-known/openid-configuration", srv.base)
    );
    assert_eq!(oidc["client_id"], "web");
    assert_eq!(oidc["response_type"], "code");
    assert!(oidc["scope"].as_str().unwrap().contains("openid"));
    assert!(v["options"].is_object());
    assert!(v["apps"].as_array().unwrap().contains(&"files".into()));
    // The metadata URL answers: Web's sign-in starts there.
    let meta = get(&srv, "/.well-known/openid-configuration").await;
    assert_eq!(meta.status(), 200);
}

#[tokio::test]
async fn web_routes_answer_index_html_with_a_base_and_api_paths_do_not() {
    let (srv, _build) = web_server().await;
    for path in [
        "/",
        "/files/spaces/personal/admin",
        "/s/abc",
        "/f/some-id",
        "/index.html",
    ] {
        let res = get(&srv, path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache", "{path}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("<head><base href=\"/\"><title>index</title>"),
            "{path}: {body}"
        );
    }
    let cb = get(&srv, "/oidc-callback.html").await.text().await.unwrap();
    assert!(
        cb.contains("<base href=\"/\"><title>callback</title>"),
        "{cb}"
    );
    let silent = get(&srv, "/oidc-silent-redirect.html")
        .await
        .text()
        .await
        .unwrap();
    assert!(silent.contains("<title>silent</title>"), "{silent}");
    for path in [
        "/remote.php/nope",
        "/dav/nope",
        "/ocs/v9.php/nope",
        "/api/v0/nope",
        "/data/nope",
        "/status.php/x",
        "/js/missing.mjs",
        "/favicon.ico",
    ] {
        let res = get(&srv, path).await;
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
        let body = res.text().await.unwrap();
        assert!(
            !body.contains("<title>index</title>"),
            "{path} fell back to index.html"
        );
    }
}

#[tokio::test]
async fn hashed_bundles_are_compressed_and_cached_for_a_year() {
    let (srv, _build) = web_server().await;
    for enc in ["gzip", "br"] {
        let res = srv
            .client()
            .get(srv.url("/js/web-app-files-18DnYDtw.mjs"))
            .header(header::ACCEPT_ENCODING, enc)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()[header::CONTENT_ENCODING], enc);
        assert_eq!(
            res.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let raw = res.bytes().await.unwrap();
        assert!(
            raw.len() < 6000,
            "{enc}: {} bytes, not compressed",
            raw.len()
        );
    }
    let plain = get(&srv, "/js/web-app-files-18DnYDtw.mjs").await;
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(plain.bytes().await.unwrap().len(), 29 * 200);
}

#[tokio::test]
async fn without_a_web_build_the_root_names_the_server_and_the_users_space() {
    let srv = TestServer::start().await;
    let anon = get(&srv, "/").await;
    assert_eq!(anon.status(), 200);
    let text = anon.text().await.unwrap();
    assert!(
        text.contains("spacedav") && text.contains("--web-assets"),
        "{text}"
    );
    let res = srv
        .client()
        .get(srv.url("/"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    let sid = srv.admin_space().await;
    assert!(
        text.contains(&format!("{}/dav/spaces/{sid}", srv.base)),
        "{text}"
    );
    assert_eq!(get(&srv, "/files/x").await.status(), 404);
}
