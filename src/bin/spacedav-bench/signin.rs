//! Signing in at spacedav's built-in OpenID Connect provider as ownCloud Web does (client
//! `web`, authorization code with PKCE S256), to get the Bearer token of `spacedav-bearer`.

use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use http::{Method, StatusCode};
use sha2::{Digest, Sha256};
use url::Url;

use crate::client::{self, Endpoint};

/// The form fields of `<input type="hidden" name="…" value="…">` elements (the page escapes
/// values as XML; the bench's values need only `&amp;` undone).
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|rest| {
            let name = rest.split("name=\"").nth(1)?.split('"').next()?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_string(), value.replace("&amp;", "&")))
        })
        .collect()
}

/// An access token for `user` from the provider at `base` (ep: no Authorization header).
pub async fn access_token(ep: &Arc<Endpoint>, base: &Url, user: &str, pw: &str) -> Result<String> {
    let origin = base.as_str().trim_end_matches('/').to_string();
    let redirect = format!("{origin}/oidc-callback.html");
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut authorize = base.join("/oidc/authorize")?;
    authorize
        .query_pairs_mut()
        .append_pair("client_id", "web")
        .append_pair("redirect_uri", &redirect)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("state", "bench")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let mut conn = ep.conn();

    let resp = conn
        .send(
            conn.request(Method::GET, &authorize)
                .body(client::empty())?,
        )
        .await?;
    let (_, headers, body) = client::expect(resp, "GET sign-in page", &[StatusCode::OK]).await?;
    let cookie = client::header(&headers, SET_COOKIE.as_str())?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in hidden_fields(&client::text(body).await?) {
        form.append_pair(&k, &v);
    }
    let form = form
        .append_pair("username", user)
        .append_pair("password", pw)
        .finish();
    let req = conn
        .request(Method::POST, &base.join("/oidc/authorize")?)
        .header(COOKIE, cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(client::full(form))?;
    let (_, headers, body) = client::expect(
        conn.send(req).await?,
        "POST sign-in",
        &[StatusCode::SEE_OTHER],
    )
    .await?;
    client::discard(body).await?;
    let location = Url::parse(client::header(&headers, "location")?)?;
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| anyhow!("sign-in redirect without a code: {location}"))?;

    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", &redirect)
        .append_pair("code_verifier", &verifier)
        .append_pair("client_id", "web")
        .finish();
    let req = conn
        .request(Method::POST, &base.join("/oidc/token")?)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(client::full(form))?;
    let (_, _, body) =
        client::expect(conn.send(req).await?, "POST token", &[StatusCode::OK]).await?;
    let json: serde_json::Value = serde_json::from_str(&client::text(body).await?)?;
    json["access_token"]
        .as_str()
        .map(String::from)
        .context("token response without access_token")
}
