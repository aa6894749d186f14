//! App tokens through oCIS's auth-app API: created with any credentials, shown once, listed
//! without secrets, usable as the Basic password, and dead the moment they are revoked.

use serde_json::Value;

use crate::common::{TestServer, assert_both_challenges};

async fn webdav_status(srv: &TestServer, user: &str, password: &str) -> reqwest::StatusCode {
    srv.client()
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            srv.url("/remote.php/webdav/"),
        )
        .basic_auth(user, Some(password))
        .header("Depth", "0")
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn app_token_works_as_the_basic_password_until_revoked() {
    let srv = TestServer::start().await;
    srv.add_user("alice", "alice-pw").await;
    let res = srv
        .client()
        .post(srv.url("/auth-app/tokens?expiry=72h&label=rclone"))
        .basic_auth("alice", Some("alice-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let created: Value = res.json().await.unwrap();
    let secret = created["token"].as_str().unwrap().to_string();
    assert_eq!(created["label"], "rclone");
    assert!(created["expiration_date"].as_str().unwrap().ends_with('Z'));
    assert_eq!(webdav_status(&srv, "alice", &secret).await, 207);
    assert_eq!(
        webdav_status(&srv, "admin", &secret).await,
        401,
        "only for its user"
    );

    let list: Value = srv
        .client()
        .get(srv.url("/auth-app/tokens"))
        .basic_auth("alice", Some(&secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_ne!(
        list[0]["token"],
        secret.as_str(),
        "the list shows no secret"
    );
    let id = list[0]["token"].as_str().unwrap();

    let res = srv
        .client()
        .delete(srv.url(&format!("/auth-app/tokens?token={id}")))
        .basic_auth("alice", Some("alice-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = srv
        .client()
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            srv.url("/remote.php/webdav/"),
        )
        .basic_auth("alice", Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "revoked at once");
    assert_both_challenges(&res, "revoked app token");
    assert_eq!(webdav_status(&srv, "alice", "alice-pw").await, 207);
}

#[tokio::test]
async fn revoking_by_the_secret_works_and_bad_requests_are_400() {
    let srv = TestServer::start().await;
    let post = |q: &str| {
        srv.client()
            .post(srv.url(&format!("/auth-app/tokens{q}")))
            .basic_auth("admin", Some(crate::common::ADMIN_PASSWORD))
            .send()
    };
    assert_eq!(post("").await.unwrap().status(), 400);
    assert_eq!(post("?expiry=3d").await.unwrap().status(), 400);
    let created: Value = post("?expiry=30m").await.unwrap().json().await.unwrap();
    let secret = created["token"].as_str().unwrap();
    let del = |q: String| {
        srv.client()
            .delete(srv.url(&format!("/auth-app/tokens{q}")))
            .basic_auth("admin", Some(crate::common::ADMIN_PASSWORD))
            .send()
    };
    assert_eq!(del(String::new()).await.unwrap().status(), 400);
    assert_eq!(del(format!("?token={secret}")).await.unwrap().status(), 200);
    assert_eq!(del(format!("?token={secret}")).await.unwrap().status(), 404);
    assert_eq!(webdav_status(&srv, "admin", secret).await, 401);
}

/// Expiry reads the server's clock (issue 16): an app token stops working once the clock
/// passes its expiry, with no wait.
#[tokio::test]
async fn an_app_token_stops_working_once_the_clock_passes_its_expiry() {
    let srv = TestServer::start().await;
    srv.add_user("alice", "alice-pw").await;
    let created: Value = srv
        .client()
        .post(srv.url("/auth-app/tokens?expiry=1h"))
        .basic_auth("alice", Some("alice-pw"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["token"].as_str().unwrap().to_string();
    assert_eq!(webdav_status(&srv, "alice", &secret).await, 207);
    srv.advance(std::time::Duration::from_secs(3601));
    assert_eq!(webdav_status(&srv, "alice", &secret).await, 401);
    assert_eq!(webdav_status(&srv, "alice", "alice-pw").await, 207);
}
