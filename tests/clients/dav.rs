//! Reads back what the server stored, over plain WebDAV (reqwest), independently of the
//! client under test: content by GET, metadata by PROPFIND Depth 1 walks.

use std::collections::BTreeMap;
use std::time::UNIX_EPOCH;

use quick_xml::Reader;
use quick_xml::events::Event;
use reqwest::{Method, StatusCode};

use crate::support::sha256;

/// The properties every walk asks for (SPEC §5).
const PROPFIND_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
  <d:prop>
    <d:resourcetype/><d:getetag/><d:getlastmodified/><d:getcontentlength/><d:getcontenttype/>
    <oc:id/><oc:fileid/><oc:checksums/><oc:size/><oc:permissions/>
  </d:prop>
</d:propfind>"#;

/// One `<d:response>`: its decoded href and the 200-propstat properties by local name
/// (`resourcetype` holds the names of its children, e.g. `collection`).
#[derive(Debug, Clone)]
pub struct Entry {
    pub href: String,
    pub props: BTreeMap<String, String>,
}

impl Entry {
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.props.get(name).map(String::as_str)
    }

    pub fn is_collection(&self) -> bool {
        self.prop("resourcetype")
            .is_some_and(|r| r.contains("collection"))
    }

    /// `getlastmodified` as unix seconds.
    pub fn mtime(&self) -> u64 {
        let raw = self
            .prop("getlastmodified")
            .unwrap_or_else(|| panic!("no getlastmodified for {}", self.href));
        httpdate::parse_http_date(raw)
            .unwrap_or_else(|e| panic!("getlastmodified {raw:?} of {}: {e}", self.href))
            .duration_since(UNIX_EPOCH)
            .expect("after epoch")
            .as_secs()
    }

    /// The digest `oc:checksums` lists for `alg` (`SHA1`, `MD5`, `ADLER32`), lower-case hex.
    pub fn checksum(&self, alg: &str) -> Option<String> {
        let list = self.prop("checksums")?;
        list.split_whitespace().find_map(|item| {
            let (a, hex) = item.split_once(':')?;
            a.eq_ignore_ascii_case(alg)
                .then(|| hex.to_ascii_lowercase())
        })
    }
}

/// A WebDAV reader authenticated as one user.
pub struct Dav {
    http: reqwest::Client,
    user: String,
    password: String,
}

impl Dav {
    /// A reader as the test server's admin, to check what the server stored.
    pub fn admin() -> Self {
        Dav::new(crate::common::ADMIN, crate::common::ADMIN_PASSWORD)
    }

    pub fn new(user: &str, password: &str) -> Self {
        Dav {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .expect("http client"),
            user: user.into(),
            password: password.into(),
        }
    }

    fn req(&self, method: &str, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(Method::from_bytes(method.as_bytes()).expect("method"), url)
            .basic_auth(&self.user, Some(&self.password))
    }

    /// MKCOL; panics unless 201.
    pub async fn mkcol(&self, url: &str) {
        let res = self.req("MKCOL", url).send().await.expect("MKCOL");
        assert_eq!(res.status(), StatusCode::CREATED, "MKCOL {url}");
    }

    /// PUT; panics unless 201/204.
    pub async fn put(&self, url: &str, body: Vec<u8>) {
        let res = self.req("PUT", url).body(body).send().await.expect("PUT");
        assert!(res.status().is_success(), "PUT {url}: {}", res.status());
    }

    /// DELETE; panics unless 2xx.
    pub async fn delete(&self, url: &str) {
        let res = self.req("DELETE", url).send().await.expect("DELETE");
        assert!(res.status().is_success(), "DELETE {url}: {}", res.status());
    }

    /// GET; panics unless 200.
    pub async fn get(&self, url: &str) -> Vec<u8> {
        let res = self.req("GET", url).send().await.expect("GET");
        assert_eq!(res.status(), StatusCode::OK, "GET {url}");
        res.bytes().await.expect("GET body").to_vec()
    }

    /// PROPFIND with `depth` for the properties every walk uses; panics unless 207.
    pub async fn propfind(&self, url: &str, depth: u8) -> Vec<Entry> {
        self.propfind_body(url, depth, PROPFIND_BODY).await
    }

    /// PROPFIND with `depth` and a request body of the caller's; panics unless 207.
    pub async fn propfind_body(&self, url: &str, depth: u8, body: &str) -> Vec<Entry> {
        let res = self
            .req("PROPFIND", url)
            .header("Depth", depth.to_string())
            .header("Content-Type", "application/xml; charset=utf-8")
            .body(body.to_string())
            .send()
            .await
            .expect("PROPFIND");
        let status = res.status();
        let body = res.text().await.expect("PROPFIND body");
        assert_eq!(status, StatusCode::MULTI_STATUS, "PROPFIND {url}: {body}");
        parse_multistatus(&body)
    }

    /// The Depth 0 entry of `url`.
    pub async fn stat(&self, url: &str) -> Entry {
        self.propfind(url, 0)
            .await
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("PROPFIND {url}: no response"))
    }

    /// Every entry below the collection `root` (trailing `/`), keyed by path relative to it
    /// (folders without trailing `/`), found by Depth 1 walks (the server refuses infinity).
    pub async fn walk(&self, root: &str) -> BTreeMap<String, Entry> {
        let root_path = url_path(root);
        let mut out = BTreeMap::new();
        let mut todo = vec![root.to_string()];
        while let Some(dir) = todo.pop() {
            let dir_path = url_path(&dir);
            for entry in self.propfind(&dir, 1).await {
                let path = url_path(&entry.href);
                if path.trim_end_matches('/') == dir_path.trim_end_matches('/') {
                    continue;
                }
                let rel = path
                    .strip_prefix(&root_path)
                    .unwrap_or_else(|| panic!("href {path} outside {root_path}"))
                    .trim_end_matches('/')
                    .to_string();
                if entry.is_collection() {
                    todo.push(format!("{}{}/", origin(root), escape_path(&path)));
                }
                out.insert(rel, entry);
            }
        }
        out
    }

    /// `rel path -> Some(sha256)` (files, fetched by GET) or `None` (folders): comparable to
    /// [`crate::support::local_tree`].
    pub async fn content_tree(&self, root: &str) -> BTreeMap<String, Option<String>> {
        let mut out = BTreeMap::new();
        for (rel, entry) in self.walk(root).await {
            let digest = if entry.is_collection() {
                None
            } else {
                let url = format!("{root}{}", escape_path(&rel));
                Some(sha256(&self.get(&url).await))
            };
            out.insert(rel, digest);
        }
        out
    }
}

/// `scheme://host:port` of a URL.
fn origin(url: &str) -> String {
    let u = url::Url::parse(url).expect("absolute URL");
    u.origin().ascii_serialization()
}

/// The percent-decoded path of an absolute URL or of a path-only href.
pub fn url_path(href: &str) -> String {
    let raw = match url::Url::parse(href) {
        Ok(u) => u.path().to_string(),
        Err(_) => href.to_string(),
    };
    percent_encoding::percent_decode_str(&raw)
        .decode_utf8()
        .expect("UTF-8 href")
        .into_owned()
}

/// Escapes a decoded path for a URL (keeps `/`).
pub fn escape_path(path: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'$');
    percent_encoding::utf8_percent_encode(path, KEEP).to_string()
}

/// Parses a 207 body into entries, keeping properties of `200` propstats only.
pub fn parse_multistatus(xml: &str) -> Vec<Entry> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut out = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut href = String::new();
    let mut staged: BTreeMap<String, String> = BTreeMap::new();
    let mut props: BTreeMap<String, String> = BTreeMap::new();
    let mut propstat_ok = false;
    loop {
        let ev = reader
            .read_event()
            .unwrap_or_else(|e| panic!("bad multistatus XML ({e}):\n{xml}"));
        match ev {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                on_open(&name, &stack, &mut staged, &mut propstat_ok);
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                on_open(&name, &stack, &mut staged, &mut propstat_ok);
            }
            Event::Text(t) => {
                let text = t.unescape().expect("XML text").into_owned();
                let top = stack.last().map(String::as_str);
                if top == Some("href")
                    && stack.iter().rev().nth(1).map(String::as_str) == Some("response")
                {
                    href.push_str(&text);
                } else if top == Some("status")
                    && stack.iter().rev().nth(1).map(String::as_str) == Some("propstat")
                {
                    propstat_ok = text.contains(" 200 ");
                } else if let Some(prop) = prop_of(&stack) {
                    let v = staged.entry(prop.to_string()).or_default();
                    if !v.is_empty() {
                        v.push(' ');
                    }
                    v.push_str(&text);
                }
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                if name == "propstat" {
                    if propstat_ok {
                        props.append(&mut staged);
                    }
                    staged.clear();
                } else if name == "response" {
                    out.push(Entry {
                        href: std::mem::take(&mut href),
                        props: std::mem::take(&mut props),
                    });
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// Records an element opening: a property under `prop`, or a child of a property (whose
/// name is appended to the property's value, so `resourcetype` reads `collection`).
fn on_open(
    name: &str,
    stack: &[String],
    staged: &mut BTreeMap<String, String>,
    propstat_ok: &mut bool,
) {
    match stack.last().map(String::as_str) {
        Some("prop") => {
            staged.entry(name.to_string()).or_default();
        }
        Some("response") if name == "propstat" => *propstat_ok = false,
        _ => {
            if let Some(prop) = prop_of(stack) {
                if prop != "checksums" {
                    let v = staged.entry(prop.to_string()).or_default();
                    if !v.is_empty() {
                        v.push(' ');
                    }
                    v.push_str(name);
                }
            }
        }
    }
}

/// The property (direct child of `prop`) the innermost open element belongs to.
fn prop_of(stack: &[String]) -> Option<&str> {
    let i = stack.iter().rposition(|s| s == "prop")?;
    stack.get(i + 1).map(String::as_str)
}

#[test]
fn parse_multistatus_reads_props_of_ok_propstats_only() {
    let xml = r#"<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
 <d:response><d:href>/dav/a%20b/</d:href>
  <d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><d:getetag>"e1"</d:getetag>
   <oc:checksums><oc:checksum>SHA1:AB MD5:cd</oc:checksum></oc:checksums></d:prop>
   <d:status>HTTP/1.1 200 OK</d:status></d:propstat>
  <d:propstat><d:prop><oc:fileid/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>
 </d:response>
</d:multistatus>"#;
    let entries = parse_multistatus(xml);
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(url_path(&e.href), "/dav/a b/");
    assert!(e.is_collection());
    assert_eq!(e.prop("getetag"), Some("\"e1\""));
    assert_eq!(e.checksum("sha1").as_deref(), Some("ab"));
    assert_eq!(e.checksum("MD5").as_deref(), Some("cd"));
    assert_eq!(e.prop("fileid"), None);
}
