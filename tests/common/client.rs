//! The typed tus and WebDAV test client (STYLE habit 17): a test reads as the request a client
//! sends and the facts it observes, not as header plumbing. Every header name and value comes
//! from the server's protocol constants (`spacedav::tus::headers`, `spacedav::http::headers`),
//! so a renamed header cannot leave the tests asserting on a stale literal.
//!
//! `TestServer::client_as` makes one; the answers are plain values (`TusCreated`, `TusHead`,
//! `Multistatus` text) for the common checks, and the `*_request` builders stay available for
//! a test that needs to send something unusual.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use spacedav::http::headers::{DEPTH, DESTINATION, OVERWRITE, X_OC_MTIME};
use spacedav::tus::headers::{
    OFFSET_OCTET_STREAM, TUS_RESUMABLE, UPLOAD_LENGTH, UPLOAD_METADATA, UPLOAD_OFFSET, VERSION,
};

use super::{ADMIN_PASSWORD, TestServer};

/// A client of one test server, signed in with Basic credentials, a Bearer token, or not at
/// all (public links).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    auth: Auth,
}

/// How a [`Client`] signs its requests.
#[derive(Clone)]
enum Auth {
    Basic { user: String, password: String },
    Bearer(String),
    Anonymous,
}

/// The answer to a tus creation `POST`.
#[derive(Debug)]
pub struct TusCreated {
    pub status: StatusCode,
    /// `Location`: the upload URL, on success.
    pub location: Option<String>,
    /// `Upload-Offset`: bytes already taken (creation-with-upload), when sent.
    pub offset: Option<u64>,
}

impl TusCreated {
    /// The upload URL; panics (naming the status) when the creation failed.
    pub fn location(&self) -> &str {
        self.location
            .as_deref()
            .unwrap_or_else(|| panic!("no Location: creation answered {}", self.status))
    }
}

/// The answer to a tus `PATCH` or `HEAD`.
#[derive(Debug)]
pub struct TusOffset {
    pub status: StatusCode,
    /// `Upload-Offset`, when sent.
    pub offset: Option<u64>,
    /// `Upload-Length`, when sent.
    pub length: Option<u64>,
}

/// `Upload-Metadata` for pairs (values base64-encoded, tus 1.0.0 §Upload-Metadata).
pub fn tus_metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

fn number(res: &Response, name: &reqwest::header::HeaderName) -> Option<u64> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

impl TestServer {
    /// A typed client signed in as `user`.
    pub fn client_as(&self, user: &str, password: &str) -> Client {
        Client::new(user, password)
    }

    /// A typed client signed in as `admin`.
    pub fn admin(&self) -> Client {
        self.client_as("admin", ADMIN_PASSWORD)
    }
}

impl Client {
    /// A client signed in as `user` to any server (the binary's tests talk to a child process).
    pub fn new(user: &str, password: &str) -> Client {
        Self::with(Auth::Basic {
            user: user.into(),
            password: password.into(),
        })
    }

    /// A client that sends `token` as its Bearer credentials (OIDC sessions).
    pub fn bearer(token: &str) -> Client {
        Self::with(Auth::Bearer(token.into()))
    }

    /// A client without credentials (public links, upload URLs).
    pub fn anonymous() -> Client {
        Self::with(Auth::Anonymous)
    }

    fn with(auth: Auth) -> Client {
        Client {
            http: reqwest::Client::new(),
            auth,
        }
    }

    /// A request with this client's credentials.
    pub fn request(&self, method: &str, url: &str) -> RequestBuilder {
        let req = self
            .http
            .request(Method::from_bytes(method.as_bytes()).expect("method"), url);
        match &self.auth {
            Auth::Basic { user, password } => req.basic_auth(user, Some(password)),
            Auth::Bearer(token) => req.bearer_auth(token),
            Auth::Anonymous => req,
        }
    }

    /// A tus creation `POST` on `folder_url` (tus 1.0.0 §Creation): `Upload-Length` and
    /// metadata pairs, not yet sent.
    pub fn tus_create_request(
        &self,
        folder_url: &str,
        length: u64,
        meta: &[(&str, &str)],
    ) -> RequestBuilder {
        self.request("POST", folder_url)
            .header(TUS_RESUMABLE, VERSION)
            .header(UPLOAD_LENGTH, length)
            .header(UPLOAD_METADATA, tus_metadata(meta))
    }

    /// Create an upload of `length` bytes with `meta` in `folder_url`.
    pub async fn tus_create(
        &self,
        folder_url: &str,
        length: u64,
        meta: &[(&str, &str)],
    ) -> TusCreated {
        let res = self
            .tus_create_request(folder_url, length, meta)
            .send()
            .await
            .expect("tus creation");
        Self::created(res)
    }

    /// A tus creation `POST` on `folder_url` that carries `data` as its body
    /// (creation-with-upload), not yet sent.
    pub fn tus_upload_request(
        &self,
        folder_url: &str,
        data: Vec<u8>,
        meta: &[(&str, &str)],
    ) -> RequestBuilder {
        self.tus_create_request(folder_url, data.len() as u64, meta)
            .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
            .body(data)
    }

    /// Create an upload of `data` with `meta` in `folder_url`, sending the bytes with the
    /// creation (creation-with-upload).
    pub async fn tus_upload(
        &self,
        folder_url: &str,
        data: Vec<u8>,
        meta: &[(&str, &str)],
    ) -> TusCreated {
        let res = self
            .tus_upload_request(folder_url, data, meta)
            .send()
            .await
            .expect("tus creation with upload");
        Self::created(res)
    }

    fn created(res: Response) -> TusCreated {
        TusCreated {
            status: res.status(),
            location: res
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().expect("ASCII Location").to_string()),
            offset: number(&res, &UPLOAD_OFFSET),
        }
    }

    /// A tus `PATCH` of `data` (bytes or a stream) at `offset` (tus 1.0.0 §PATCH), not yet
    /// sent. Upload URLs carry their own capability, so no credentials go with it.
    pub fn tus_patch_request(
        &self,
        location: &str,
        offset: u64,
        data: impl Into<reqwest::Body>,
    ) -> RequestBuilder {
        self.http
            .patch(location)
            .header(TUS_RESUMABLE, VERSION)
            .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
            .header(UPLOAD_OFFSET, offset)
            .body(data)
    }

    /// Send `data` at `offset` to the upload at `location`.
    pub async fn tus_patch(&self, location: &str, offset: u64, data: Vec<u8>) -> TusOffset {
        let res = self
            .tus_patch_request(location, offset, data)
            .send()
            .await
            .expect("tus PATCH");
        Self::offsets(&res)
    }

    /// `HEAD` of the upload at `location` (tus 1.0.0 §HEAD), not yet sent; like a `PATCH`, it
    /// needs no credentials.
    pub fn tus_head_request(&self, location: &str) -> RequestBuilder {
        self.http.head(location).header(TUS_RESUMABLE, VERSION)
    }

    /// `HEAD` of the upload at `location` (tus 1.0.0 §HEAD).
    pub async fn tus_head(&self, location: &str) -> TusOffset {
        let res = self
            .tus_head_request(location)
            .send()
            .await
            .expect("tus HEAD");
        Self::offsets(&res)
    }

    /// A tus termination `DELETE` of the upload at `location` (tus 1.0.0 §Termination), not
    /// yet sent.
    pub fn tus_terminate_request(&self, location: &str) -> RequestBuilder {
        self.http.delete(location).header(TUS_RESUMABLE, VERSION)
    }

    fn offsets(res: &Response) -> TusOffset {
        TusOffset {
            status: res.status(),
            offset: number(res, &UPLOAD_OFFSET),
            length: number(res, &UPLOAD_LENGTH),
        }
    }

    /// `PUT` of `body` at `url`, with `X-OC-Mtime` (unix seconds) when given.
    pub async fn put(&self, url: &str, body: Vec<u8>, mtime: Option<i64>) -> Response {
        let mut req = self.request("PUT", url).body(body);
        if let Some(t) = mtime {
            req = req.header(X_OC_MTIME, t);
        }
        req.send().await.expect("PUT")
    }

    /// `GET` of `url`: the status and the body.
    pub async fn get(&self, url: &str) -> (StatusCode, Vec<u8>) {
        let res = self.request("GET", url).send().await.expect("GET");
        let status = res.status();
        (status, res.bytes().await.expect("GET body").to_vec())
    }

    /// An exclusive write `LOCK` of `url` for 600 s (deep on a folder); asserts 200 and
    /// returns the `Lock-Token` (with its angle brackets, as an `If` list names it).
    pub async fn lock(&self, url: &str) -> String {
        const LOCKINFO: &str = r#"<?xml version="1.0" encoding="utf-8"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype><d:owner>test</d:owner></d:lockinfo>"#;
        let res = self
            .request("LOCK", url)
            .header("Timeout", "Second-600")
            .body(LOCKINFO)
            .send()
            .await
            .expect("LOCK");
        assert_eq!(res.status(), StatusCode::OK, "LOCK {url}");
        res.headers()["lock-token"]
            .to_str()
            .expect("token")
            .to_string()
    }

    /// `MKCOL` of `url`.
    pub async fn mkcol(&self, url: &str) -> StatusCode {
        self.request("MKCOL", url)
            .send()
            .await
            .expect("MKCOL")
            .status()
    }

    /// `DELETE` of `url`.
    pub async fn delete(&self, url: &str) -> StatusCode {
        self.request("DELETE", url)
            .send()
            .await
            .expect("DELETE")
            .status()
    }

    /// `MOVE` (or `COPY` with `copy`) of `from` to `to`, replacing an existing target when
    /// `overwrite`.
    pub async fn transfer(&self, method: Transfer, from: &str, to: &str) -> StatusCode {
        let (verb, overwrite) = match method {
            Transfer::Move { overwrite } => ("MOVE", overwrite),
            Transfer::Copy { overwrite } => ("COPY", overwrite),
        };
        self.request(verb, from)
            .header(DESTINATION, to)
            .header(OVERWRITE, if overwrite { "T" } else { "F" })
            .send()
            .await
            .expect("MOVE/COPY")
            .status()
    }

    /// `PROPFIND` with `depth` and a body naming `props` (`""`: allprop); the status and the
    /// multistatus text.
    pub async fn propfind(&self, url: &str, depth: &str, props: &str) -> (u16, String) {
        let body = if props.is_empty() {
            String::new()
        } else {
            format!(
                "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" \
                 xmlns:oc=\"http://owncloud.org/ns\"><d:prop>{props}</d:prop></d:propfind>"
            )
        };
        let res = self
            .request("PROPFIND", url)
            .header(DEPTH, depth)
            .body(body)
            .send()
            .await
            .expect("PROPFIND");
        (
            res.status().as_u16(),
            res.text().await.expect("PROPFIND body"),
        )
    }
}

/// A WebDAV `MOVE` or `COPY`, named rather than passed as booleans.
#[derive(Debug, Clone, Copy)]
pub enum Transfer {
    Move { overwrite: bool },
    Copy { overwrite: bool },
}
