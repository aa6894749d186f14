//! Bearer access tokens of the built-in provider: accepted on every endpoint while valid,
//! refused (401 with both challenges) when expired, tampered, unsigned, of another issuer, or
//! not an access token at all.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::common::{ADMIN_PASSWORD, TestServer};
use crate::support::{web_tokens, whoami};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn expired_tampered_unsigned_foreign_and_id_tokens_are_401() {
    let srv = TestServer::start().await;
    let alice = srv.add_user("alice", "pw").await;
    let t = web_tokens(&srv, "alice", "pw").await;
    let valid = t["access_token"].as_str().unwrap().to_string();
    let keys = srv.state.oidc().provider().unwrap().keys();
    let claims = |exp: u64| {
        json!({"iss": srv.base, "sub": alice.id.to_string(), "aud": "web", "client_id": "web",
            "exp": exp, "iat": now() - 600, "jti": "x", "scope": "openid",
            "preferred_username": "alice"})
    };
    let expired = keys.sign("at+jwt", &claims(now() - 1));
    let hand_signed = keys.sign("at+jwt", &claims(now() + 60));

    let mut parts: Vec<String> = valid.split('.').map(String::from).collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["preferred_username"] = json!("admin");
    let admin = srv.state.store().user_by_name("admin").await.unwrap();
    payload["sub"] = json!(admin.id.to_string());
    parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    let tampered = parts.join(".");
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    let unsigned = format!("{none_header}.{}.", parts[1]);

    let other = TestServer::start().await;
    other.add_user("alice", "pw").await;
    let foreign = web_tokens(&other, "alice", "pw").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let id_token = t["id_token"].as_str().unwrap().to_string();

    let rows = [
        ("valid", valid, 200),
        ("signed by the provider key", hand_signed, 200),
        ("expired", expired, 401),
        ("tampered payload", tampered, 401),
        ("alg none", unsigned, 401),
        ("another issuer's token", foreign, 401),
        ("an id token is not an access token", id_token, 401),
        ("garbage", "abc.def.ghi".into(), 401),
    ];
    for (what, token, want) in rows {
        assert_eq!(whoami(&srv, &token).await.0, want, "{what}");
    }
}

#[tokio::test]
async fn a_cached_token_of_a_removed_user_is_refused() {
    let srv = TestServer::start().await;
    let bob = srv.add_user("bob", "pw").await;
    let token = web_tokens(&srv, "bob", "pw").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(whoami(&srv, &token).await.0, 200);
    srv.state.store().remove_user(bob.id).await.unwrap();
    assert_eq!(whoami(&srv, &token).await.0, 401);
    let admin = web_tokens(&srv, "admin", ADMIN_PASSWORD).await;
    let admin = admin["access_token"].as_str().unwrap();
    assert_eq!(whoami(&srv, admin).await.1.as_deref(), Some("admin"));
}

/// Expiry reads the server's clock (issue 16): moved past the access token's lifetime, the
/// token is refused, though it was verified and cached before; the refresh token still works.
#[tokio::test]
async fn an_access_token_is_refused_once_the_clock_passes_its_expiry() {
    let srv = TestServer::start().await;
    let tokens = web_tokens(&srv, "admin", ADMIN_PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap();
    let ttl = tokens["expires_in"].as_u64().unwrap();
    assert_eq!(whoami(&srv, access).await.0, 200);
    srv.advance(std::time::Duration::from_secs(ttl + 1));
    assert_eq!(whoami(&srv, access).await.0, 401);
    let (status, renewed) =
        crate::support::refresh(&srv, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(
        whoami(&srv, renewed["access_token"].as_str().unwrap())
            .await
            .0,
        200
    );
}
