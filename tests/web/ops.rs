//! The operator's endpoints (README "Operations", issue 15): `/healthz`, `/readyz` and who may
//! read `/metrics`.

use crate::common::TestServer;

async fn get(srv: &TestServer, path: &str) -> (u16, String) {
    let res = srv.client().get(srv.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn healthz_and_readyz_answer_200_when_database_and_blobs_answer() {
    let srv = TestServer::start().await;
    assert_eq!(get(&srv, "/healthz").await, (200, "ok\n".into()));
    assert_eq!(
        get(&srv, "/readyz").await,
        (200, "database: ok\nblobs: ok\n".into())
    );
}

#[tokio::test]
async fn readyz_is_503_naming_the_database_once_it_is_gone_while_healthz_stays_200() {
    let srv = TestServer::start().await;
    srv.state.store().close().await;
    assert_eq!(
        get(&srv, "/readyz").await,
        (503, "database: unavailable\nblobs: ok\n".into())
    );
    assert_eq!(get(&srv, "/healthz").await.0, 200);
}

#[tokio::test]
async fn readyz_is_503_naming_the_blob_store_when_its_directory_is_gone() {
    let srv = TestServer::start().await;
    let blobs = srv.state.config().blob_dir();
    std::fs::remove_dir_all(&blobs).unwrap();
    assert_eq!(
        get(&srv, "/readyz").await,
        (503, "database: ok\nblobs: unavailable\n".into())
    );
    std::fs::create_dir(&blobs).unwrap();
    assert_eq!(get(&srv, "/readyz").await.0, 200, "ready again");
}

#[tokio::test]
async fn metrics_are_anonymous_by_default() {
    let srv = TestServer::start().await;
    let (status, body) = get(&srv, "/metrics").await;
    assert_eq!(status, 200);
    for family in [
        "# TYPE spacedav_tus_uploads_total counter",
        "# TYPE spacedav_store_errors_total counter",
        "spacedav_tus_uploads_in_progress 0",
    ] {
        assert!(body.contains(family), "{body}");
    }
}

#[tokio::test]
async fn metrics_token_when_set_is_required_as_bearer() {
    const TOKEN: &str = "scrape-token-0123456789";
    let srv = TestServer::start_with(|c| c.metrics_token = Some(TOKEN.into())).await;
    let url = srv.url("/metrics");
    let anonymous = srv.client().get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let wrong = srv
        .client()
        .get(&url)
        .bearer_auth("not-the-token-at-all")
        .send();
    assert_eq!(wrong.await.unwrap().status(), 401);
    let right = srv
        .client()
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert_eq!(get(&srv, "/healthz").await.0, 200, "probes stay anonymous");
}
