//! The two ceilings, served by this binary in a child process (`spacedav-bench sink`) so their
//! CPU and memory are measured like any other server's:
//!
//! * `null`: speaks just enough tus (creation, creation-with-upload, PATCH, HEAD, termination)
//!   and WebDAV (PUT, GET, DELETE, MKCOL) and discards every body: the transport ceiling.
//! * `hash`: the same, but feeds every body byte through SHA1, MD5 and ADLER32 inline, as
//!   spacedav records them (SPEC §4 "Completion"): the hash-bound ceiling. The digests are
//!   returned on completion in `X-Bench-Checksums` so the smoke run can check they were computed.
//!
//! GET answers pattern bytes of the length last PUT, which is what a real server would return.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Result;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use md5::Digest as _;
use tokio::net::TcpListener;

use crate::client::{self, ReqBody};
use crate::pattern::Pattern;

/// Which ceiling a sink measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SinkKind {
    /// Discard bodies.
    Null,
    /// Hash bodies with SHA1, MD5 and ADLER32, then discard them.
    Hash,
}

/// The header carrying the digests of a completed upload (hash sink only).
pub const CHECKSUMS: &str = "X-Bench-Checksums";

struct Sink {
    kind: SinkKind,
    /// Made on the first GET, so a sink that only receives keeps a small footprint.
    pattern: OnceLock<Pattern>,
    next_id: AtomicU64,
    /// Open tus uploads; an upload being written is taken out, so a concurrent PATCH gets 423.
    uploads: Mutex<HashMap<u64, Upload>>,
    /// WebDAV files: name and length.
    files: Mutex<HashMap<String, u64>>,
}

struct Upload {
    length: u64,
    offset: u64,
    digests: Digests,
}

/// SHA1 + MD5 + ADLER32 of everything fed so far.
pub struct Digests {
    sha1: sha1::Sha1,
    md5: md5::Md5,
    adler: adler::Adler32,
}

impl Digests {
    /// Empty digests.
    pub fn new() -> Self {
        Self {
            sha1: sha1::Sha1::new(),
            md5: md5::Md5::new(),
            adler: adler::Adler32::new(),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.sha1.update(data);
        self.md5.update(data);
        self.adler.write_slice(data);
    }

    /// `SHA1:<hex> MD5:<hex> ADLER32:<hex>`, the `oc:checksums` format.
    pub fn finish(self) -> String {
        format!(
            "SHA1:{} MD5:{} ADLER32:{:08x}",
            hex::encode(self.sha1.finalize()),
            hex::encode(self.md5.finalize()),
            self.adler.checksum()
        )
    }
}

/// Serves a sink on `listener` until the process is stopped.
pub async fn serve(kind: SinkKind, listener: TcpListener) -> Result<()> {
    let sink = Arc::new(Sink {
        kind,
        pattern: OnceLock::new(),
        next_id: AtomicU64::new(1),
        uploads: Mutex::new(HashMap::new()),
        files: Mutex::new(HashMap::new()),
    });
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let sink = Arc::clone(&sink);
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let sink = Arc::clone(&sink);
                async move { Ok::<_, Infallible>(sink.handle(req).await) }
            });
            // A client that drops its connection is not the sink's problem.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn reply(status: StatusCode) -> http::response::Builder {
    Response::builder()
        .status(status)
        .header("Tus-Resumable", "1.0.0")
}

fn done(b: http::response::Builder) -> Response<ReqBody> {
    b.body(client::empty())
        .expect("static response parts are valid")
}

impl Sink {
    async fn handle(&self, req: Request<Incoming>) -> Response<ReqBody> {
        let path = req.uri().path().to_owned();
        let method = req.method().clone();
        if let Some(rest) = path.strip_prefix("/files/") {
            let id = rest.parse::<u64>().ok();
            return match (method, id) {
                (Method::OPTIONS, _) => done(
                    reply(StatusCode::NO_CONTENT)
                        .header("Tus-Version", "1.0.0")
                        .header("Tus-Extension", "creation,creation-with-upload,termination"),
                ),
                (Method::POST, None) => self.create(req).await,
                (Method::PATCH, Some(id)) => self.patch(id, req).await,
                (Method::HEAD, Some(id)) => self.head(id),
                (Method::DELETE, Some(id)) => {
                    let gone = self.uploads.lock().unwrap().remove(&id).is_some();
                    done(reply(if gone {
                        StatusCode::NO_CONTENT
                    } else {
                        StatusCode::NOT_FOUND
                    }))
                }
                _ => done(reply(StatusCode::METHOD_NOT_ALLOWED)),
            };
        }
        if path.starts_with("/dav/") {
            return match method.as_str() {
                "PUT" => self.put(path, req).await,
                "GET" => self.get(&path),
                "DELETE" => {
                    self.files.lock().unwrap().remove(&path);
                    done(Response::builder().status(StatusCode::NO_CONTENT))
                }
                "MKCOL" => done(Response::builder().status(StatusCode::CREATED)),
                _ => done(Response::builder().status(StatusCode::NOT_IMPLEMENTED)),
            };
        }
        done(Response::builder().status(StatusCode::NOT_FOUND))
    }

    /// Consumes a body, hashing it for the hash sink; returns the byte count or `None` if the
    /// connection broke.
    async fn consume(&self, mut body: Incoming, digests: &mut Digests) -> Option<u64> {
        let mut n = 0;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.ok()?.into_data() {
                n += data.len() as u64;
                if self.kind == SinkKind::Hash {
                    digests.update(&data);
                }
            }
        }
        Some(n)
    }

    async fn create(&self, req: Request<Incoming>) -> Response<ReqBody> {
        let length = req
            .headers()
            .get("Upload-Length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let Some(length) = length else {
            return done(reply(StatusCode::BAD_REQUEST));
        };
        let with_body = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v == "application/offset+octet-stream");
        let mut up = Upload {
            length,
            offset: 0,
            digests: Digests::new(),
        };
        if with_body {
            match self.consume(req.into_body(), &mut up.digests).await {
                Some(n) => up.offset = n,
                None => return done(reply(StatusCode::BAD_REQUEST)),
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut b = reply(StatusCode::CREATED).header("Location", format!("/files/{id}"));
        if with_body {
            b = b.header("Upload-Offset", up.offset);
        }
        done(self.store(id, up, b))
    }

    async fn patch(&self, id: u64, req: Request<Incoming>) -> Response<ReqBody> {
        let Some(mut up) = self.uploads.lock().unwrap().remove(&id) else {
            return done(reply(StatusCode::LOCKED));
        };
        let offset = req
            .headers()
            .get("Upload-Offset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if offset != Some(up.offset) {
            self.uploads.lock().unwrap().insert(id, up);
            return done(reply(StatusCode::CONFLICT));
        }
        let got = self.consume(req.into_body(), &mut up.digests).await;
        up.offset += got.unwrap_or(0);
        let b = reply(StatusCode::NO_CONTENT).header("Upload-Offset", up.offset);
        done(self.store(id, up, b))
    }

    /// Keeps an unfinished upload, or adds the digests of a finished one to the answer.
    fn store(&self, id: u64, up: Upload, b: http::response::Builder) -> http::response::Builder {
        if up.offset < up.length {
            self.uploads.lock().unwrap().insert(id, up);
            return b;
        }
        match self.kind {
            SinkKind::Hash => b.header(CHECKSUMS, up.digests.finish()),
            SinkKind::Null => b,
        }
    }

    fn head(&self, id: u64) -> Response<ReqBody> {
        match self.uploads.lock().unwrap().get(&id) {
            Some(up) => done(
                reply(StatusCode::OK)
                    .header("Upload-Offset", up.offset)
                    .header("Upload-Length", up.length)
                    .header("Cache-Control", "no-store"),
            ),
            None => done(reply(StatusCode::NOT_FOUND)),
        }
    }

    async fn put(&self, path: String, req: Request<Incoming>) -> Response<ReqBody> {
        let mut digests = Digests::new();
        let Some(n) = self.consume(req.into_body(), &mut digests).await else {
            return done(Response::builder().status(StatusCode::BAD_REQUEST));
        };
        self.files.lock().unwrap().insert(path, n);
        let mut b = Response::builder().status(StatusCode::CREATED);
        if self.kind == SinkKind::Hash {
            b = b.header(CHECKSUMS, digests.finish());
        }
        done(b)
    }

    fn get(&self, path: &str) -> Response<ReqBody> {
        let Some(len) = self.files.lock().unwrap().get(path).copied() else {
            return done(Response::builder().status(StatusCode::NOT_FOUND));
        };
        Response::builder()
            .status(StatusCode::OK)
            .header(http::header::CONTENT_LENGTH, len)
            .body(client::stream(
                self.pattern.get_or_init(Pattern::new).body(0, len),
            ))
            .expect("static response parts are valid")
    }
}

/// The digests of pattern bytes `[0, len)`, to check a hash sink's answer.
pub fn expected_checksums(pattern: &Pattern, len: u64) -> String {
    let mut d = Digests::new();
    d.update(&pattern.to_vec(0, len));
    d.finish()
}
