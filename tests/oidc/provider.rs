//! The built-in provider as ownCloud Web and the desktop client use it.

use crate::common::client::Client;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;

use crate::common::{ADMIN_PASSWORD, TestServer, assert_both_challenges};
use crate::support::{
    Authorize, Browser, DESKTOP_ID, DESKTOP_SECRET, code, exchange, location_query, token,
    web_tokens, whoami,
};

#[tokio::test]
async fn discovery_names_every_endpoint_under_the_issuer() {
    let srv = TestServer::start().await;
    let res = srv
        .client()
        .get(srv.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let d: Value = res.json().await.unwrap();
    assert_eq!(d["issuer"], srv.base);
    for (k, path) in [
        ("authorization_endpoint", "/oidc/authorize"),
        ("token_endpoint", "/oidc/token"),
        ("jwks_uri", "/oidc/jwks"),
        ("userinfo_endpoint", "/oidc/userinfo"),
        ("end_session_endpoint", "/oidc/logout"),
    ] {
        assert_eq!(d[k], srv.url(path), "{k}");
    }
    assert_eq!(d["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let scopes = d["scopes_supported"].to_string();
    assert!(scopes.contains("offline_access") && scopes.contains("openid"));
    let auth = d["token_endpoint_auth_methods_supported"].to_string();
    for m in ["none", "client_secret_basic", "client_secret_post"] {
        assert!(auth.contains(m), "{m}");
    }
}

#[tokio::test]
async fn public_url_is_the_issuer_when_configured() {
    let srv = TestServer::start_with(|c| {
        c.public_url = Some("https://cloud.example.org".parse().unwrap());
    })
    .await;
    let d: Value = srv
        .client()
        .get(srv.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["issuer"], "https://cloud.example.org");
    assert_eq!(d["token_endpoint"], "https://cloud.example.org/oidc/token");
}

#[tokio::test]
async fn web_signs_in_and_its_access_token_works_on_webdav_ocs_and_tus() {
    let srv = TestServer::start().await;
    srv.add_user("alice", "alice-pw").await;
    let t = web_tokens(&srv, "alice", "alice-pw").await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 300);
    assert!(
        t["refresh_token"].is_string(),
        "Web gets a refresh token: {t}"
    );
    let access = t["access_token"].as_str().unwrap();

    // The id token verifies against the published JWKS and names the user.
    let jwks: JwkSet = srv
        .client()
        .get(srv.url("/oidc/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_token = t["id_token"].as_str().unwrap();
    let kid = jsonwebtoken::decode_header(id_token).unwrap().kid.unwrap();
    let key = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut v = Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&["web"]);
    v.set_issuer(&[&srv.base]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &v)
        .unwrap()
        .claims;
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["email"], "alice@example.org");
    assert!(claims["auth_time"].is_i64() && claims["sub"].is_string());

    assert_eq!(whoami(&srv, access).await.1.as_deref(), Some("alice"));
    let propfind = srv
        .client()
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            srv.url("/remote.php/dav/files/alice/"),
        )
        .bearer_auth(access)
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(propfind.status(), 207);
    let tus = Client::bearer(access)
        .tus_create(
            &srv.url("/remote.php/dav/files/alice/"),
            3,
            &[("filename", "hi.txt")],
        )
        .await;
    assert_eq!(tus.status, 201, "tus creation with a Bearer token");

    let info: Value = srv
        .client()
        .get(srv.url("/oidc/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["preferred_username"], "alice");
}

#[tokio::test]
async fn a_second_authorize_in_the_same_browser_does_not_ask_again() {
    let srv = TestServer::start().await;
    let mut b = Browser::new();
    let first = Authorize::web(&srv);
    code(&mut b, &srv, &first, "admin", ADMIN_PASSWORD).await;

    // Web's silent renew: a hidden iframe with prompt=none.
    let mut silent = Authorize::web(&srv);
    silent.redirect_uri = srv.url("/oidc-silent-redirect.html");
    silent.extra.push(("prompt".into(), "none".into()));
    let res = b.get(&silent.url(&srv)).await;
    assert_eq!(res.status(), 302);
    let q = location_query(&res);
    assert_eq!(q.get("state"), Some(&silent.state));
    let (status, body) = exchange(&srv, &silent, &q["code"]).await;
    assert_eq!(status, 200, "{body}");

    // prompt=login asks again even with a session.
    let mut forced = Authorize::web(&srv);
    forced.extra.push(("prompt".into(), "login".into()));
    let res = b.get(&forced.url(&srv)).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("id=\"password\""));
}

#[tokio::test]
async fn prompt_none_without_a_session_returns_login_required() {
    let srv = TestServer::start().await;
    let mut req = Authorize::web(&srv);
    req.extra.push(("prompt".into(), "none".into()));
    let res = Browser::new().get(&req.url(&srv)).await;
    assert_eq!(res.status(), 302);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(&req.redirect_uri)
    );
    let q = location_query(&res);
    assert_eq!(q["error"], "login_required");
    assert_eq!(q["state"], req.state);
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn desktop_client_signs_in_on_a_loopback_port_with_its_secret() {
    let srv = TestServer::start().await;
    let mut b = Browser::new();
    let req = Authorize {
        client_id: DESKTOP_ID.into(),
        redirect_uri: "http://127.0.0.1:41234".into(),
        scope: "openid offline_access email profile".into(),
        state: "desk".into(),
        verifier: "v".repeat(128),
        extra: vec![("prompt".into(), "".into())],
    };
    let c = code(&mut b, &srv, &req, "admin", ADMIN_PASSWORD).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", c.as_str()),
        ("redirect_uri", "http://127.0.0.1:41234"),
        ("code_verifier", req.verifier.as_str()),
        ("scope", "openid offline_access email profile"),
    ];
    // Wrong secret first: invalid_client, and the code is not spent by it.
    let res = reqwest::Client::new()
        .post(srv.url("/oidc/token"))
        .basic_auth(DESKTOP_ID, Some("wrong"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let res = reqwest::Client::new()
        .post(srv.url("/oidc/token"))
        .basic_auth(DESKTOP_ID, Some(DESKTOP_SECRET))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let t: Value = res.json().await.unwrap();
    assert!(
        t["refresh_token"].is_string(),
        "the desktop client requires one: {t}"
    );
    assert!(
        t["token_type"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("bearer")
    );
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(whoami(&srv, access).await.1.as_deref(), Some("admin"));
    // client_secret_post works too for refreshing.
    let (status, again) = token(
        &srv,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ("client_id", DESKTOP_ID),
            ("client_secret", DESKTOP_SECRET),
        ],
    )
    .await;
    assert_eq!(status, 200, "{again}");
}

#[tokio::test]
async fn sign_out_returns_to_webs_root_and_ends_the_session() {
    let srv = TestServer::start().await;
    let mut b = Browser::new();
    let req = Authorize::web(&srv);
    let c = code(&mut b, &srv, &req, "admin", ADMIN_PASSWORD).await;
    let (_, t) = exchange(&srv, &req, &c).await;
    let id_token = t["id_token"].as_str().unwrap();
    let mut url = url::Url::parse(&srv.url("/oidc/logout")).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", id_token)
        .append_pair("post_logout_redirect_uri", &format!("{}/#/", srv.base))
        .append_pair("state", "bye");
    let res = b.get(url.as_str()).await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("{}/?state=bye#/", srv.base)
    );
    // The session is gone: a silent authorize needs a sign-in again.
    let mut silent = Authorize::web(&srv);
    silent.extra.push(("prompt".into(), "none".into()));
    let res = b.get(&silent.url(&srv)).await;
    assert_eq!(location_query(&res)["error"], "login_required");

    // An unregistered return address gets the "signed out" page, not a redirect.
    let res = b
        .get(&srv.url("/oidc/logout?post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F"))
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Signed out"));

    // The form-posted variant of RP-initiated logout.
    let root = format!("{}/", srv.base);
    let res = b
        .post_form(
            &srv.url("/oidc/logout"),
            &[
                ("client_id".into(), "web".into()),
                ("post_logout_redirect_uri".into(), root.clone()),
            ],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], root.as_str());
}

#[tokio::test]
async fn webfinger_names_the_issuer_for_the_desktop_client() {
    let srv = TestServer::start().await;
    let res = srv
        .client()
        .get(srv.url(&format!("/.well-known/webfinger?resource={}", srv.base)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["subject"], srv.base);
    let issuer = v["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "http://openid.net/specs/connect/1.0/issuer")
        .unwrap();
    assert_eq!(issuer["href"], srv.base);
}

#[tokio::test]
async fn every_401_offers_bearer_and_basic() {
    let srv = TestServer::start().await;
    let propfind = reqwest::Method::from_bytes(b"PROPFIND").unwrap();
    let rows = [
        (propfind, "/remote.php/webdav/"),
        (reqwest::Method::GET, "/remote.php/dav/files/admin/"),
        (reqwest::Method::POST, "/remote.php/dav/files/admin/"),
        (reqwest::Method::GET, "/ocs/v2.php/cloud/user?format=json"),
        (reqwest::Method::GET, "/graph/v1.0/me/drives"),
        (reqwest::Method::GET, "/auth-app/tokens"),
        (reqwest::Method::GET, "/oidc/userinfo"),
    ];
    for (method, path) in rows {
        let res = srv
            .client()
            .request(method.clone(), srv.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{method} {path}");
        assert_both_challenges(&res, path);
    }
}

/// ownCloud Web's API calls carry `X-Requested-With: XMLHttpRequest`; a Basic challenge on
/// their 401 would make the browser open its own password dialog over Web.
#[tokio::test]
async fn a_401_to_a_page_script_offers_only_bearer() {
    let srv = TestServer::start().await;
    let propfind = reqwest::Method::from_bytes(b"PROPFIND").unwrap();
    for (method, path) in [
        (propfind, "/remote.php/dav/files/admin/"),
        (reqwest::Method::GET, "/graph/v1.0/me"),
        (reqwest::Method::GET, "/ocs/v2.php/cloud/user?format=json"),
    ] {
        let res = srv
            .client()
            .request(method.clone(), srv.url(path))
            .header("X-Requested-With", "XMLHttpRequest")
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{method} {path}");
        let challenges: Vec<_> = res
            .headers()
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert_eq!(challenges, ["Bearer realm=\"spacedav\""], "{method} {path}");
    }
}

#[tokio::test]
async fn web_on_a_configured_origin_may_sign_in_and_call_the_token_endpoint() {
    let web = "https://web.example";
    let srv = TestServer::start_with(|c| c.cors_origins = vec![web.into()]).await;
    let mut b = Browser::new();
    let mut req = Authorize::web(&srv);
    req.redirect_uri = format!("{web}/oidc-callback.html");
    let c = code(&mut b, &srv, &req, "admin", ADMIN_PASSWORD).await;

    let preflight = srv
        .client()
        .request(reqwest::Method::OPTIONS, srv.url("/oidc/token"))
        .header("Origin", web)
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let res = srv
        .client()
        .post(srv.url("/oidc/token"))
        .header("Origin", web)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", c.as_str()),
            ("redirect_uri", req.redirect_uri.as_str()),
            ("code_verifier", req.verifier.as_str()),
            ("client_id", "web"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], web);
    // An origin that is not configured is no place to send a code.
    let mut other = Authorize::web(&srv);
    other.redirect_uri = "https://other.example/oidc-callback.html".into();
    assert_eq!(b.get(&other.url(&srv)).await.status(), 400);
}
