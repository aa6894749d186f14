//! The tus tests' view of a [`TestServer`]: the admin's personal space and the typed client
//! (`common::client`) signed in as admin, plus store-level reads for assertions. Every request
//! goes through that client, so there is one way to send a tus request.
#![allow(dead_code)]

use reqwest::header::{ACCESS_CONTROL_EXPOSE_HEADERS, LOCATION};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use spacedav::spaces::{Node, SpaceId, SpacePath, Version};
use spacedav::tus::headers::{TUS_EXTENSION, TUS_RESUMABLE, UPLOAD_OFFSET, VERSION};

use crate::common::TestServer;
use crate::common::client::Client;

/// A server with the admin's personal space at hand.
pub struct Env {
    pub srv: TestServer,
    /// The typed client, signed in as admin.
    pub client: Client,
    /// A client without credentials (upload URLs are their own capability; anonymous checks).
    pub http: reqwest::Client,
    pub sid: SpaceId,
}

impl Env {
    pub async fn start() -> Env {
        Self::with(TestServer::start().await).await
    }

    pub async fn with(srv: TestServer) -> Env {
        let sid = srv.admin_space().await;
        Env {
            client: srv.admin(),
            http: srv.client(),
            sid,
            srv,
        }
    }

    /// The space root URL with a trailing slash.
    pub fn root(&self) -> String {
        format!("{}/", self.srv.space_url(&self.sid))
    }

    /// An authenticated request.
    pub fn req(&self, method: Method, url: &str) -> RequestBuilder {
        self.client.request(method.as_str(), url)
    }

    /// A tus creation `POST` on `folder_url` with `Upload-Length` and metadata pairs.
    pub fn post(&self, folder_url: &str, length: u64, meta: &[(&str, &str)]) -> RequestBuilder {
        self.client.tus_create_request(folder_url, length, meta)
    }

    /// Create an upload of `length` bytes named `name` in the space root; returns the
    /// `Location`.
    pub async fn create(&self, name: &str, length: u64) -> String {
        let created = self
            .client
            .tus_create(&self.root(), length, &[("filename", name)])
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "creation of {name}");
        created.location().to_string()
    }

    /// A PATCH of `data` at `offset` (no user credentials: the token is the capability).
    pub fn patch(
        &self,
        location: &str,
        offset: u64,
        data: impl Into<reqwest::Body>,
    ) -> RequestBuilder {
        self.client.tus_patch_request(location, offset, data)
    }

    pub async fn head(&self, location: &str) -> Response {
        self.client.tus_head_request(location).send().await.unwrap()
    }

    /// The node at `path` in the admin space, if any.
    pub async fn node(&self, path: &str) -> Option<Node> {
        let p = SpacePath::parse(path).unwrap();
        self.srv
            .state
            .store()
            .resolve(self.sid.space, &p)
            .await
            .ok()
    }

    /// Assert that `spacedav fsck`'s checks find nothing wrong in the store.
    pub async fn assert_fsck_clean(&self) {
        let report = self.srv.state.store().fsck().await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }

    /// The content of the file at `path`.
    pub async fn content(&self, path: &str) -> Option<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        let node = self.node(path).await?;
        let mut r = self
            .srv
            .state
            .store()
            .read_content(&node, None)
            .await
            .unwrap();
        let mut v = Vec::new();
        r.read_to_end(&mut v).await.unwrap();
        Some(v)
    }

    /// The earlier contents of the file at `path`, newest first.
    pub async fn versions(&self, path: &str) -> Vec<Version> {
        let node = self.node(path).await.expect("the file exists");
        self.srv.state.store().versions(node.id).await.unwrap()
    }

    /// Upload `data` as `name` in one creation-with-upload request.
    pub async fn upload(&self, name: &str, data: &[u8]) -> Response {
        self.client
            .tus_upload_request(&self.root(), data.to_vec(), &[("filename", name)])
            .send()
            .await
            .unwrap()
    }
}

pub fn header(res: &Response, name: impl reqwest::header::AsHeaderName) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

pub fn location(res: &Response) -> String {
    header(res, LOCATION).expect("Location header")
}

pub fn offset(res: &Response) -> u64 {
    header(res, UPLOAD_OFFSET)
        .expect("Upload-Offset")
        .parse()
        .unwrap()
}

/// Deterministic test bytes.
pub fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2654435761)
                .wrapping_add(seed as u32) as u8
        })
        .collect()
}

pub fn sha1_hex(data: &[u8]) -> String {
    hex::encode(spacedav::spaces::checksum::digest(
        spacedav::spaces::Algorithm::Sha1,
        data,
    ))
}

pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(spacedav::spaces::checksum::digest(
        spacedav::spaces::Algorithm::Md5,
        data,
    ))
}

/// Every tus answer carries these (SPEC §3).
pub fn assert_tus_headers(res: &Response) {
    assert_eq!(header(res, TUS_RESUMABLE).as_deref(), Some(VERSION));
    assert!(header(res, TUS_EXTENSION).is_some(), "Tus-Extension");
    let expose = header(res, ACCESS_CONTROL_EXPOSE_HEADERS).expect("expose list");
    for h in [
        "Location",
        "Upload-Offset",
        "OC-FileId",
        "OC-ETag",
        "Upload-Expires",
    ] {
        assert!(expose.contains(h), "{h} exposed in {expose}");
    }
}
