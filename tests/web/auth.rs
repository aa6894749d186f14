//! SPEC §2: Basic and Bearer authentication as a client observes it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use spacedav::auth::{Claims, TOKEN_AUDIENCE, TOKEN_TYPE, hash_password, issue_token};

use crate::common::{ADMIN_PASSWORD, TestServer};

/// A protected URL.
const USER_URL: &str = "/ocs/v2.php/cloud/user?format=json";

async fn status_with(
    srv: &TestServer,
    auth: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> reqwest::Response {
    auth(srv.client().get(srv.url(USER_URL)))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn basic_matrix_no_creds_wrong_password_unknown_user_valid() {
    let srv = TestServer::start().await;
    let rows = [
        ("no credentials", None, 401),
        ("wrong password", Some(("admin", "nope")), 401),
        ("unknown user", Some(("nobody", ADMIN_PASSWORD)), 401),
        ("valid", Some(("admin", ADMIN_PASSWORD)), 200),
        (
            "valid, name in other case",
            Some(("ADMIN", ADMIN_PASSWORD)),
            200,
        ),
    ];
    for (what, creds, want) in rows {
        let res = status_with(&srv, |r| match creds {
            Some((u, p)) => r.basic_auth(u, Some(p)),
            None => r,
        })
        .await;
        assert_eq!(res.status(), want, "{what}");
        if want == 401 {
            crate::common::assert_both_challenges(&res, what);
        }
    }
}

#[tokio::test]
async fn malformed_or_foreign_authorization_is_401() {
    let srv = TestServer::start().await;
    for value in ["Basic !!!", "Basic", "Digest abc", "Bearer", "Negotiate x"] {
        let res = status_with(&srv, |r| r.header("Authorization", value)).await;
        assert_eq!(res.status(), 401, "{value}");
    }
}

#[tokio::test]
async fn password_change_invalidates_cached_credentials() {
    let srv = TestServer::start().await;
    let alice = srv.add_user("alice", "old-pw").await;
    let ok = status_with(&srv, |r| r.basic_auth("alice", Some("old-pw"))).await;
    assert_eq!(ok.status(), 200);
    srv.state
        .store()
        .set_password(alice.id, &hash_password("new-pw"))
        .await
        .unwrap();
    let old = status_with(&srv, |r| r.basic_auth("alice", Some("old-pw"))).await;
    assert_eq!(
        old.status(),
        401,
        "the cached old password must not be accepted"
    );
    let new = status_with(&srv, |r| r.basic_auth("alice", Some("new-pw"))).await;
    assert_eq!(new.status(), 200);
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn bearer_matrix_valid_expired_tampered_wrong_key() {
    let srv = TestServer::start().await;
    let alice = srv.add_user("alice", "pw").await;
    let config = srv.state.config();
    let valid = issue_token(
        config.token_secret.as_bytes(),
        &alice,
        Duration::from_secs(300),
        srv.state.store().clock(),
    )
    .unwrap();
    let expired = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &Claims {
            sub: alice.id.to_string(),
            exp: now() - 5,
            iat: now() - 65,
            aud: TOKEN_AUDIENCE.into(),
            typ: TOKEN_TYPE.into(),
        },
        &EncodingKey::from_secret(config.token_secret.as_bytes()),
    )
    .unwrap();
    // Change one character of the payload: the signature no longer matches.
    let mut parts: Vec<String> = valid.split('.').map(String::from).collect();
    let flipped = if parts[1].ends_with('A') { 'B' } else { 'A' };
    parts[1].pop();
    parts[1].push(flipped);
    let tampered = parts.join(".");
    let wrong_key = issue_token(
        config.transfer_secret.as_bytes(),
        &alice,
        Duration::from_secs(300),
        srv.state.store().clock(),
    )
    .unwrap();
    let rows = [
        ("valid", valid, 200),
        ("expired", expired, 401),
        ("tampered", tampered, 401),
        ("signed with the transfer secret", wrong_key, 401),
    ];
    for (what, token, want) in rows {
        let res = status_with(&srv, |r| r.bearer_auth(&token)).await;
        assert_eq!(res.status(), want, "{what}");
        if want == 200 {
            let v: serde_json::Value = res.json().await.unwrap();
            assert_eq!(v["ocs"]["data"]["id"], "alice");
        } else {
            crate::common::assert_both_challenges(&res, what);
        }
    }
}

#[tokio::test]
async fn bearer_token_of_a_removed_user_is_401() {
    let srv = TestServer::start().await;
    let alice = srv.add_user("alice", "pw").await;
    let token = issue_token(
        srv.state.config().token_secret.as_bytes(),
        &alice,
        Duration::from_secs(300),
        srv.state.store().clock(),
    )
    .unwrap();
    srv.state.store().remove_user(alice.id).await.unwrap();
    let res = status_with(&srv, |r| r.bearer_auth(&token)).await;
    assert_eq!(res.status(), 401);
}

/// The transfer token in a tus upload URL is issued on the server's clock (the one session
/// expiry is kept on): its `iat` is the server's now and its `exp` the session's expiry.
#[tokio::test]
async fn a_transfer_token_is_issued_on_the_servers_clock() {
    use base64::Engine;
    let srv = TestServer::start().await;
    let ten_days = 10 * 24 * 3600;
    srv.advance(Duration::from_secs(ten_days));
    let root = format!("{}/", srv.space_url(&srv.admin_space().await));
    let created = srv
        .admin()
        .tus_create(&root, 3, &[("filename", "t.txt")])
        .await;
    assert_eq!(created.status, 201);
    let token = created.location().rsplit('/').next().unwrap();
    let payload = token.split('.').nth(1).expect("a JWT");
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let iat = claims["iat"].as_u64().unwrap();
    let exp = claims["exp"].as_u64().unwrap();
    assert!(
        iat >= now() + ten_days,
        "iat {iat} is not on the server's clock"
    );
    let expiry = srv.state.config().upload_expiry.as_secs();
    assert!(exp.abs_diff(iat + expiry) <= 1, "iat {iat}, exp {exp}");
    let head = srv.admin().tus_head(created.location()).await;
    assert_eq!(head.offset, Some(0), "the fresh token is accepted");
}
