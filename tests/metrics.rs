//! `GET /metrics` after a mix of traffic (README "Operations", issue 15): every metric family
//! counts, labels come from the fixed sets, and the output parses as Prometheus text.
//!
//! A test binary of its own with one test: the registry is per process, so nothing else may
//! count into it.

#[path = "common/mod.rs"]
mod common;
#[path = "tus/support.rs"]
mod support;

use std::time::Duration;

use prometheus_parse::{LineInfo, Scrape, Value};
use reqwest::{Method, StatusCode};

use common::TestServer;
use support::Env;

/// Parses a scrape, insisting that every line is a HELP, TYPE or sample line.
fn parse(text: &str) -> Scrape {
    for line in text.lines() {
        assert!(
            !matches!(LineInfo::parse(line), LineInfo::Ignored),
            "not Prometheus text: {line:?}"
        );
    }
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parses")
}

/// The sum of the samples of `metric` whose labels include every pair of `labels`
/// (a histogram counts its observations).
fn total(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.iter().map(|b| b.count).fold(0.0, f64::max),
            Value::Summary(_) => 0.0,
        })
        .sum()
}

async fn scrape(env: &Env) -> (String, Scrape) {
    let res = env.http.get(env.srv.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = res.text().await.unwrap();
    let parsed = parse(&text);
    (text, parsed)
}

#[tokio::test]
async fn metrics_count_every_family_after_mixed_traffic() {
    // An upload abandoned on a server whose sessions expire after a second: the sweep of the
    // restarted server removes it.
    let first =
        Env::with(TestServer::start_with(|c| c.upload_expiry = Duration::from_secs(1)).await).await;
    let abandoned = first.create("abandoned.bin", 10).await;
    let res = first
        .patch(&abandoned, 0, b"abc".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (dir, mut config) = first.srv.stop();
    config.upload_expiry = Duration::from_secs(24 * 3600);
    let env = Env::with(TestServer::start_in(dir, config).await).await;

    // WebDAV.
    let file = format!("{}/hello.txt", env.srv.space_url(&env.sid));
    let put = env
        .req(Method::PUT, &file)
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    let get = env.req(Method::GET, &file).send().await.unwrap();
    assert_eq!(get.text().await.unwrap(), "hello");
    let propfind = Method::from_bytes(b"PROPFIND").unwrap();
    let res = env
        .req(propfind.clone(), &env.root())
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::MULTI_STATUS);
    // A tus upload that completes, and one left open.
    assert_eq!(
        env.upload("done.txt", b"finished").await.status(),
        StatusCode::CREATED
    );
    let open = env.create("open.bin", 100).await;
    assert_eq!(
        env.patch(&open, 0, vec![7; 10])
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    // OCS, Graph, status, and a refused request.
    let ocs = env.srv.url("/ocs/v2.php/cloud/capabilities?format=json");
    assert_eq!(
        env.req(Method::GET, &ocs).send().await.unwrap().status(),
        200
    );
    let graph = env.srv.url("/graph/v1.0/me/drives");
    assert_eq!(
        env.req(Method::GET, &graph).send().await.unwrap().status(),
        200
    );
    let status = env
        .http
        .get(env.srv.url("/status.php"))
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 200);
    let anonymous = env.http.get(&file).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // A blob store that fails: its directory replaced by a file.
    let blobs = env.srv.state.config().blob_dir();
    let aside = blobs.with_extension("aside");
    std::fs::rename(&blobs, &aside).unwrap();
    std::fs::write(&blobs, b"").unwrap();
    let other = format!("{}/fails.txt", env.srv.space_url(&env.sid));
    // Above storage.inline_max_size, so the PUT needs the blob store.
    let failed = env
        .req(Method::PUT, &other)
        .body(vec![b'x'; 100_000])
        .send()
        .await
        .unwrap();
    assert!(failed.status().is_server_error(), "{}", failed.status());
    std::fs::remove_file(&blobs).unwrap();
    std::fs::rename(&aside, &blobs).unwrap();
    // The sweep removes the abandoned upload once it has expired.
    env.srv.advance(Duration::from_millis(1100));
    assert_eq!(env.srv.state.tus().clean_expired().await.unwrap(), 1);

    let (text, m) = scrape(&env).await;
    let requests = "spacedav_http_requests_total";
    for (method, route, status) in [
        ("PUT", "dav", "201"),
        ("GET", "dav", "200"),
        ("PROPFIND", "dav", "207"),
        ("GET", "dav", "401"),
        ("POST", "tus_create", "201"),
        ("PATCH", "tus_data", "204"),
        ("GET", "ocs", "200"),
        ("GET", "graph", "200"),
        ("GET", "status", "200"),
    ] {
        let labels = [("method", method), ("route", route), ("status", status)];
        assert!(total(&m, requests, &labels) >= 1.0, "{labels:?}\n{text}");
    }
    assert!(
        text.lines()
            .filter(|l| l.starts_with(requests))
            .all(|l| !l.contains("hello.txt") && !l.contains("/remote.php")),
        "labels never carry paths:\n{text}"
    );
    let latency = "spacedav_http_request_duration_seconds_count";
    assert!(total(&m, latency, &[("method", "PUT"), ("route", "dav")]) >= 1.0);
    assert!(total(&m, latency, &[("route", "tus_data")]) >= 1.0);
    assert!(total(&m, "spacedav_http_request_duration_seconds", &[]) >= 9.0);
    let received = "spacedav_http_received_bytes_total";
    assert!(total(&m, received, &[("route", "dav")]) >= 5.0, "{text}");
    assert!(
        total(&m, received, &[("route", "tus_data")]) >= 10.0,
        "{text}"
    );
    let sent = "spacedav_http_sent_bytes_total";
    assert!(total(&m, sent, &[("route", "dav")]) >= 5.0, "{text}");
    assert!(total(&m, sent, &[("route", "ocs")]) >= 1.0, "{text}");
    let uploads = "spacedav_tus_uploads_total";
    assert!(total(&m, uploads, &[("event", "created")]) >= 3.0, "{text}");
    assert!(
        total(&m, uploads, &[("event", "completed")]) >= 1.0,
        "{text}"
    );
    assert!(total(&m, uploads, &[("event", "expired")]) >= 1.0, "{text}");
    assert_eq!(
        total(&m, "spacedav_tus_uploads_in_progress", &[]),
        1.0,
        "{text}"
    );
    let errors = "spacedav_store_errors_total";
    assert!(
        total(&m, errors, &[("component", "blobs")]) >= 1.0,
        "{text}"
    );
    if env.srv.state.config().metadata_url.starts_with("sqlite:") {
        // Group commit exists only on SQLite (PostgreSQL commits durably by itself).
        let batches = "spacedav_db_group_commit_batch_size";
        assert!(total(&m, batches, &[]) >= 1.0, "{text}");
    }

    // A burst of requests with credentials the cache does not know yet (a client opening 16
    // upload connections) computes the password hash once: the others wait for that result
    // instead of each holding argon2's 19 MiB at the same time.
    env.srv.add_user("carol", "carol-pw").await;
    let checks = "spacedav_auth_password_checks_total";
    let before = total(&m, checks, &[]);
    let burst = (0..16).map(|_| {
        env.http
            .get(env.srv.url("/ocs/v2.php/cloud/user?format=json"))
            .basic_auth("carol", Some("carol-pw"))
            .send()
    });
    for res in futures::future::join_all(burst).await {
        assert_eq!(res.unwrap().status(), StatusCode::OK);
    }
    let (text, m) = scrape(&env).await;
    assert_eq!(total(&m, checks, &[]) - before, 1.0, "{text}");

    // A database that is gone: requests fail, and the failures are counted.
    let before = total(&m, errors, &[("component", "database")]);
    env.srv.state.store().close().await;
    let res = env
        .req(propfind, &env.root())
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_server_error(), "{}", res.status());
    let (text, m) = scrape(&env).await;
    let after = total(&m, errors, &[("component", "database")]);
    assert!(after > before, "{before} -> {after}\n{text}");
}
