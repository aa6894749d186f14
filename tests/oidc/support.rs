//! A typed test client for the provider: a cookie-keeping "browser" that does not follow
//! redirects, the authorization request with PKCE, and the token endpoint.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Response, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::TestServer;

/// The ownCloud desktop client's built-in credentials.
pub const DESKTOP_ID: &str = "xdXOt13JKxym1B1QcEncf2XDkLAexMBFwiT9j6EfhhHFJhs2KM9jbjTmf8JBXE69";
pub const DESKTOP_SECRET: &str = "UBntmLjC2yYCeHwsyj73Uwo9TAaecAetRwMw0xYcvNL9yRdLSUi0hUAHfvCHFeFh";

/// A browser: keeps cookies per name, never follows redirects.
pub struct Browser {
    http: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, res: &Response) {
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
    }

    pub async fn get(&mut self, url: &str) -> Response {
        let res = self
            .http
            .get(url)
            .header("Cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&res);
        res
    }

    pub async fn post_form(&mut self, url: &str, form: &[(String, String)]) -> Response {
        let res = self
            .http
            .post(url)
            .header("Cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(&res);
        res
    }
}

/// One authorization request.
pub struct Authorize {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub verifier: String,
    pub extra: Vec<(String, String)>,
}

pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Authorize {
    /// ownCloud Web's request: client `web`, its callback page, PKCE.
    pub fn web(srv: &TestServer) -> Authorize {
        Authorize {
            client_id: "web".into(),
            redirect_uri: format!("{}/oidc-callback.html", srv.base),
            scope: "openid profile email".into(),
            state: "st-1".into(),
            verifier: format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            ),
            extra: Vec::new(),
        }
    }

    pub fn url(&self, srv: &TestServer) -> String {
        let mut u = url::Url::parse(&srv.url("/oidc/authorize")).unwrap();
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("client_id", &self.client_id)
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("response_type", "code")
                .append_pair("scope", &self.scope)
                .append_pair("state", &self.state)
                .append_pair("code_challenge", &s256(&self.verifier))
                .append_pair("code_challenge_method", "S256")
                .append_pair("response_mode", "query");
            for (k, v) in &self.extra {
                q.append_pair(k, v);
            }
        }
        u.to_string()
    }
}

/// The hidden inputs of a form page.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|rest| {
            let name = rest
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let value = rest
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (name.to_string(), unescape(value))
        })
        .collect()
}

/// Open the sign-in page and submit it; the POST's response.
pub async fn submit(
    b: &mut Browser,
    srv: &TestServer,
    req: &Authorize,
    user: &str,
    password: &str,
) -> Response {
    let page = b.get(&req.url(srv)).await;
    assert_eq!(page.status(), 200, "the sign-in page");
    let html = page.text().await.unwrap();
    let mut form = hidden_fields(&html);
    form.push(("username".into(), user.into()));
    form.push(("password".into(), password.into()));
    b.post_form(&srv.url("/oidc/authorize"), &form).await
}

/// The query parameters of a redirect's `Location`.
pub fn location_query(res: &Response) -> HashMap<String, String> {
    let loc = res.headers()["location"].to_str().unwrap();
    url::Url::parse(loc)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Sign in through the page and return the code (asserting the redirect).
pub async fn code(
    b: &mut Browser,
    srv: &TestServer,
    req: &Authorize,
    user: &str,
    pw: &str,
) -> String {
    let res = submit(b, srv, req, user, pw).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in redirects");
    let loc = res.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with(&req.redirect_uri), "{loc}");
    let q = location_query(&res);
    assert_eq!(q.get("state"), Some(&req.state));
    q["code"].clone()
}

/// POST the token endpoint; status and JSON body.
pub async fn token(srv: &TestServer, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .post(srv.url("/oidc/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    if status.is_success() || status.is_client_error() {
        assert_eq!(
            res.headers()["content-type"],
            "application/json",
            "token endpoint answers JSON"
        );
        assert_eq!(res.headers()["cache-control"], "no-store");
    }
    (status, res.json().await.unwrap())
}

/// Exchange `code` for tokens as Web does.
pub async fn exchange(srv: &TestServer, req: &Authorize, code: &str) -> (StatusCode, Value) {
    token(
        srv,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &req.redirect_uri),
            ("code_verifier", &req.verifier),
            ("client_id", &req.client_id),
        ],
    )
    .await
}

/// Sign `user` in at `srv` as Web and return the token response.
pub async fn web_tokens(srv: &TestServer, user: &str, pw: &str) -> Value {
    let mut b = Browser::new();
    let req = Authorize::web(srv);
    let code = code(&mut b, srv, &req, user, pw).await;
    let (status, body) = exchange(srv, &req, &code).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Refresh with `refresh_token` as Web; status and body.
pub async fn refresh(srv: &TestServer, refresh_token: &str) -> (StatusCode, Value) {
    token(
        srv,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "web"),
        ],
    )
    .await
}

/// `GET /ocs/v2.php/cloud/user` with `Authorization: Bearer`; status and the user id.
pub async fn whoami(srv: &TestServer, bearer: &str) -> (StatusCode, Option<String>) {
    let res = srv
        .client()
        .get(srv.url("/ocs/v2.php/cloud/user?format=json"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let id = if status.is_success() {
        let v: Value = res.json().await.unwrap();
        v["ocs"]["data"]["id"].as_str().map(String::from)
    } else {
        crate::common::assert_both_challenges(&res, "401 to a Bearer request");
        None
    };
    (status, id)
}
