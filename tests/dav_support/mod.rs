//! Small WebDAV client helpers for the dav tests: requests as admin on the admin's space and
//! naive extraction of values from a multistatus (enough to assert what a client sees).
#![allow(dead_code)]

use reqwest::{Method, RequestBuilder, Response};

use crate::common::{ADMIN_PASSWORD, TestServer};

/// The `{base}/remote.php/dav/spaces/{sid}` URL of the admin's personal space.
pub async fn admin_root(s: &TestServer) -> String {
    s.space_url(&s.admin_space().await)
}

/// A request as admin.
pub fn req(s: &TestServer, method: &str, url: &str) -> RequestBuilder {
    s.client()
        .request(Method::from_bytes(method.as_bytes()).unwrap(), url)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
}

/// PUT `body` to `url` as admin.
pub async fn put(s: &TestServer, url: &str, body: &'static [u8]) -> Response {
    req(s, "PUT", url).body(body).send().await.unwrap()
}

/// MKCOL as admin.
pub async fn mkcol(s: &TestServer, url: &str) -> Response {
    req(s, "MKCOL", url).send().await.unwrap()
}

/// PROPFIND with `depth` and a body of named properties (`""` = allprop); returns the text.
pub async fn propfind(s: &TestServer, url: &str, depth: &str, props: &str) -> (u16, String) {
    let body = if props.is_empty() {
        String::new()
    } else {
        format!(
            "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" \
             xmlns:oc=\"http://owncloud.org/ns\"><d:prop>{props}</d:prop></d:propfind>"
        )
    };
    let r = req(s, "PROPFIND", url)
        .header("Depth", depth)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The `<d:response>` blocks of a multistatus.
pub fn responses(xml: &str) -> Vec<&str> {
    xml.split("<d:response>").skip(1).collect()
}

/// The href of a response block.
pub fn href(block: &str) -> &str {
    between(block, "<d:href>", "</d:href>").unwrap_or("")
}

/// The text of the first `<tag>…</tag>` in `s`.
pub fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(close)? + start;
    Some(&s[start..end])
}

/// The value of property `tag` (e.g. `oc:fileid`) of the response whose href ends with `suffix`.
pub fn prop<'a>(xml: &'a str, suffix: &str, tag: &str) -> Option<&'a str> {
    let block = responses(xml)
        .into_iter()
        .find(|b| href(b).ends_with(suffix))?;
    between(block, &format!("<{tag}>"), &format!("</{tag}>"))
}
