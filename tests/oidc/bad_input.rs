//! What the provider refuses, each case on its own (issue 10, "bad input").

use std::time::Duration;

use serde_json::Value;

use crate::common::{ADMIN_PASSWORD, TestServer};
use crate::support::{
    Authorize, Browser, code, exchange, hidden_fields, refresh, submit, web_tokens, whoami,
};

fn invalid_grant(status: reqwest::StatusCode, body: &Value, what: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert_eq!(body["error"], "invalid_grant", "{what}: {body}");
}

#[tokio::test]
async fn wrong_password_shows_the_error_and_issues_no_code() {
    let srv = TestServer::start().await;
    let mut b = Browser::new();
    let res = submit(&mut b, &srv, &Authorize::web(&srv), "admin", "wrong").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("location").is_none());
    let html = res.text().await.unwrap();
    assert!(html.contains("<p id=\"error\" role=\"alert\">Wrong username or password.</p>"));
    assert!(html.contains("value=\"admin\""), "the name stays filled in");
    // Unknown users read the same.
    let res = submit(&mut b, &srv, &Authorize::web(&srv), "nobody", "x").await;
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Wrong username or password.")
    );
}

#[tokio::test]
async fn reused_code_is_invalid_grant_and_revokes_the_grant_made_from_it() {
    let srv = TestServer::start().await;
    let mut b = Browser::new();
    let req = Authorize::web(&srv);
    let c = code(&mut b, &srv, &req, "admin", ADMIN_PASSWORD).await;
    let (status, first) = exchange(&srv, &req, &c).await;
    assert_eq!(status, 200);
    let (status, body) = exchange(&srv, &req, &c).await;
    invalid_grant(status, &body, "second use of a code");
    let (status, body) = refresh(&srv, first["refresh_token"].as_str().unwrap()).await;
    invalid_grant(status, &body, "refresh token of the replayed code's grant");
}

#[tokio::test]
async fn wrong_code_verifier_is_invalid_grant() {
    let srv = TestServer::start().await;
    let mut b = Browser::new();
    let req = Authorize::web(&srv);
    let c = code(&mut b, &srv, &req, "admin", ADMIN_PASSWORD).await;
    let mut wrong = Authorize::web(&srv);
    wrong.redirect_uri = req.redirect_uri.clone();
    let (status, body) = exchange(&srv, &wrong, &c).await;
    invalid_grant(status, &body, "other verifier");
    // The code is spent by the failed attempt, so the right verifier is now too late.
    let (status, body) = exchange(&srv, &req, &c).await;
    invalid_grant(status, &body, "after a failed attempt");
}

#[tokio::test]
async fn expired_code_is_invalid_grant() {
    let srv = TestServer::start_with(|c| c.oidc.code_ttl = Duration::ZERO).await;
    let mut b = Browser::new();
    let req = Authorize::web(&srv);
    let c = code(&mut b, &srv, &req, "admin", ADMIN_PASSWORD).await;
    let (status, body) = exchange(&srv, &req, &c).await;
    invalid_grant(status, &body, "expired code");
}

#[tokio::test]
async fn code_for_another_redirect_uri_is_invalid_grant() {
    let srv = TestServer::start().await;
    let mut b = Browser::new();
    let req = Authorize::web(&srv);
    let c = code(&mut b, &srv, &req, "admin", ADMIN_PASSWORD).await;
    let mut other = Authorize::web(&srv);
    other.verifier = req.verifier.clone();
    other.redirect_uri = srv.url("/oidc-silent-redirect.html");
    let (status, body) = exchange(&srv, &other, &c).await;
    invalid_grant(status, &body, "other redirect_uri");
}

#[tokio::test]
async fn unregistered_redirect_uri_or_client_gets_an_error_page_never_a_redirect() {
    let srv = TestServer::start().await;
    let mut b = Browser::new();
    let mut evil = Authorize::web(&srv);
    evil.redirect_uri = "https://evil.example/oidc-callback.html".into();
    let mut unknown = Authorize::web(&srv);
    unknown.client_id = "nobody".into();
    for (what, req) in [("redirect_uri", &evil), ("client_id", &unknown)] {
        let res = b.get(&req.url(&srv)).await;
        assert_eq!(res.status(), 400, "{what}");
        assert!(res.headers().get("location").is_none(), "{what}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
    // Posting the form with a swapped redirect_uri is refused the same way.
    let good = Authorize::web(&srv);
    let html = b.get(&good.url(&srv)).await.text().await.unwrap();
    let mut form = hidden_fields(&html);
    for (k, v) in form.iter_mut() {
        if k == "redirect_uri" {
            *v = evil.redirect_uri.clone();
        }
    }
    form.push(("username".into(), "admin".into()));
    form.push(("password".into(), ADMIN_PASSWORD.into()));
    let res = b.post_form(&srv.url("/oidc/authorize"), &form).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}

#[tokio::test]
async fn public_client_without_pkce_is_told_so_at_its_redirect_uri() {
    let srv = TestServer::start().await;
    let url = format!(
        "{}/oidc/authorize?client_id=web&response_type=code&state=s&redirect_uri={}",
        srv.base,
        url::form_urlencoded::byte_serialize(format!("{}/oidc-callback.html", srv.base).as_bytes())
            .collect::<String>()
    );
    let res = Browser::new().get(&url).await;
    assert_eq!(res.status(), 302);
    let q = crate::support::location_query(&res);
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "s");
}

#[tokio::test]
async fn sign_in_form_without_its_csrf_cookie_is_refused() {
    let srv = TestServer::start().await;
    let mut b = Browser::new();
    let req = Authorize::web(&srv);
    let html = b.get(&req.url(&srv)).await.text().await.unwrap();
    b.cookies.clear();
    let mut form = hidden_fields(&html);
    form.push(("username".into(), "admin".into()));
    form.push(("password".into(), ADMIN_PASSWORD.into()));
    let res = b.post_form(&srv.url("/oidc/authorize"), &form).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    assert!(!b.cookies.contains_key("spacedav_oidc_session"));
}

#[tokio::test]
async fn refresh_rotates_and_a_refresh_token_used_twice_revokes_the_whole_grant() {
    let srv = TestServer::start().await;
    let t = web_tokens(&srv, "admin", ADMIN_PASSWORD).await;
    let r1 = t["refresh_token"].as_str().unwrap().to_string();
    let (status, t2) = refresh(&srv, &r1).await;
    assert_eq!(status, 200, "{t2}");
    let r2 = t2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2, "rotated");
    assert_eq!(
        whoami(&srv, t2["access_token"].as_str().unwrap()).await.0,
        200
    );

    let (status, body) = refresh(&srv, &r1).await;
    invalid_grant(status, &body, "first refresh token again");
    let (status, body) = refresh(&srv, &r2).await;
    invalid_grant(
        status,
        &body,
        "the newest refresh token of the revoked grant",
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_are_throttled() {
    let srv = TestServer::start().await;
    let mut b = Browser::new();
    for i in 0..5 {
        let res = submit(&mut b, &srv, &Authorize::web(&srv), "admin", "wrong").await;
        assert_eq!(res.status(), 200, "attempt {i}");
    }
    // Even the right password waits now, and no code is issued.
    let res = submit(&mut b, &srv, &Authorize::web(&srv), "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert!(res.headers().get("location").is_none());
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Too many failed sign-in attempts")
    );
}
