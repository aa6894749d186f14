//! WebDAV shorthands for the tests, as admin on the admin's space, over the typed client
//! ([`super::client`]), and naive extraction of values from a multistatus (enough to assert
//! what a client sees).

use reqwest::{RequestBuilder, Response};

use super::TestServer;

/// The `{base}/remote.php/dav/spaces/{sid}` URL of the admin's personal space.
pub async fn admin_root(s: &TestServer) -> String {
    s.space_url(s.admin_space_id())
}

/// A request as admin.
pub fn req(s: &TestServer, method: &str, url: &str) -> RequestBuilder {
    s.admin().request(method, url)
}

/// PUT `body` to `url` as admin.
pub async fn put(s: &TestServer, url: &str, body: &'static [u8]) -> Response {
    s.admin().put(url, body.to_vec(), None).await
}

/// MKCOL as admin.
pub async fn mkcol(s: &TestServer, url: &str) -> Response {
    req(s, "MKCOL", url).send().await.unwrap()
}

/// PROPFIND with `depth` and a body of named properties (`""` = allprop); returns the text.
pub async fn propfind(s: &TestServer, url: &str, depth: &str, props: &str) -> (u16, String) {
    s.admin().propfind(url, depth, props).await
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
