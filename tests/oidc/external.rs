//! A second spacedav configured with the first as its external issuer: the issuer's access
//! tokens are accepted there (for a known user, or a new one with autoprovisioning); tokens of
//! an unconfigured issuer are refused; the second server's own provider is off.

use crate::binary;
use crate::common::TestServer;
use crate::support::{web_tokens, whoami};

async fn relying_party(issuer: &TestServer, autoprovision: bool) -> TestServer {
    let url: url::Url = issuer.base.parse().unwrap();
    TestServer::start_with(move |c| {
        c.oidc.issuer = Some(url);
        c.oidc.autoprovision = autoprovision;
    })
    .await
}

fn access(tokens: &serde_json::Value) -> String {
    tokens["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn issuer_tokens_are_accepted_for_a_known_user() {
    let idp = TestServer::start().await;
    idp.add_user("alice", "pw").await;
    idp.add_user("carol", "pw").await;
    let rp = relying_party(&idp, false).await;
    rp.add_user("alice", "other-local-pw").await;
    let token = access(&web_tokens(&idp, "alice", "pw").await);
    assert_eq!(whoami(&rp, &token).await.1.as_deref(), Some("alice"));
    // Cached on the second use, still the same answer.
    assert_eq!(whoami(&rp, &token).await.1.as_deref(), Some("alice"));
    // Without autoprovisioning, a user the relying party does not know is refused.
    let carol = access(&web_tokens(&idp, "carol", "pw").await);
    assert_eq!(whoami(&rp, &carol).await.0, 401);
    assert!(rp.state.store().user_by_name("carol").await.is_err());
}

#[tokio::test]
async fn autoprovisioning_creates_the_user_on_the_first_token() {
    let idp = TestServer::start().await;
    idp.add_user("dave", "pw").await;
    let rp = relying_party(&idp, true).await;
    let token = access(&web_tokens(&idp, "dave", "pw").await);
    assert_eq!(whoami(&rp, &token).await.1.as_deref(), Some("dave"));
    let dave = rp.state.store().user_by_name("dave").await.unwrap();
    // The provisioned user has a personal space and no usable password.
    let res = rp
        .client()
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            rp.url("/remote.php/dav/files/dave/"),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 207);
    assert!(!spacedav::auth::verify_password(&dave.password_hash, ""));
}

#[tokio::test]
async fn an_issuer_token_is_refused_once_the_relying_partys_clock_passes_its_expiry() {
    let idp = TestServer::start().await;
    idp.add_user("alice", "pw").await;
    let rp = relying_party(&idp, false).await;
    rp.add_user("alice", "other-local-pw").await;
    let tokens = web_tokens(&idp, "alice", "pw").await;
    let token = access(&tokens);
    let ttl = tokens["expires_in"].as_u64().unwrap();
    assert_eq!(whoami(&rp, &token).await.1.as_deref(), Some("alice"));
    // Within the tolerated skew the token still passes; past it, it is refused (the idp's
    // clock and the system's have not moved: only the relying party's clock says so).
    let leeway = spacedav::auth::oidc::external::LEEWAY;
    rp.advance(std::time::Duration::from_secs(ttl + leeway - 5));
    assert_eq!(whoami(&rp, &token).await.1.as_deref(), Some("alice"));
    rp.advance(std::time::Duration::from_secs(10));
    assert_eq!(whoami(&rp, &token).await.0, 401);
}

#[tokio::test]
async fn tokens_of_an_unconfigured_issuer_are_refused() {
    let idp = TestServer::start().await;
    let stranger = TestServer::start().await;
    stranger.add_user("alice", "pw").await;
    let rp = relying_party(&idp, true).await;
    let token = access(&web_tokens(&stranger, "alice", "pw").await);
    assert_eq!(whoami(&rp, &token).await.0, 401);
    assert!(rp.state.store().user_by_name("alice").await.is_err());
    // The relying party's own HS256 tokens still work.
    let admin = rp.state.store().user_by_name("admin").await.unwrap();
    let own = spacedav::auth::issue_token(
        rp.state.config().token_secret.as_bytes(),
        &admin,
        std::time::Duration::from_secs(60),
        rp.state.store().clock(),
    )
    .unwrap();
    assert_eq!(whoami(&rp, &own).await.1.as_deref(), Some("admin"));
}

#[tokio::test]
async fn with_an_external_issuer_the_built_in_provider_answers_404() {
    let idp = TestServer::start().await;
    let rp = relying_party(&idp, false).await;
    // Discovery at our origin is the issuer's own document (the desktop client re-reads it
    // from the server URL when it refreshes), so every endpoint in it is the issuer's.
    let doc: serde_json::Value = rp
        .client()
        .get(rp.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], idp.base);
    assert_eq!(doc["token_endpoint"], format!("{}/oidc/token", idp.base));
    for path in [
        "/oidc/jwks",
        "/oidc/authorize?client_id=web",
        "/oidc/logout",
    ] {
        let res = rp.client().get(rp.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    let res = rp
        .client()
        .post(rp.url("/oidc/token"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // WebFinger sends the desktop client to the external issuer.
    let v: serde_json::Value = rp
        .client()
        .get(rp.url("/.well-known/webfinger?resource=x"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["links"][0]["href"], idp.base);
}

/// The same with two real processes: a `spacedav serve` whose `auth.oidc_issuer` (from the
/// environment) is another spacedav accepts that spacedav's access tokens, and refuses a third
/// spacedav's token for the same user name.
#[tokio::test]
async fn a_spacedav_process_accepts_the_tokens_of_the_spacedav_it_names_as_issuer() {
    let idp = TestServer::start().await;
    idp.add_user("erin", "pw").await;
    let stranger = TestServer::start().await;
    stranger.add_user("erin", "pw").await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = binary::spacedav(dir.path());
    cmd.env("SPACEDAV_AUTH_OIDC_ISSUER", &idp.base)
        .env("SPACEDAV_AUTH_OIDC_AUTOPROVISION", "true");
    let rp = binary::Server::spawn(cmd);
    let whoami = |token: String| {
        let url = format!("http://{}/ocs/v2.php/cloud/user?format=json", rp.addr);
        async move {
            let res = reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: serde_json::Value = res.json().await.unwrap_or_default();
            (status, body["ocs"]["data"]["id"].as_str().map(String::from))
        }
    };
    let token = access(&web_tokens(&idp, "erin", "pw").await);
    let (status, id) = whoami(token).await;
    assert_eq!((status.as_u16(), id.as_deref()), (200, Some("erin")));
    let foreign = access(&web_tokens(&stranger, "erin", "pw").await);
    assert_eq!(whoami(foreign).await.0, 401);
}
