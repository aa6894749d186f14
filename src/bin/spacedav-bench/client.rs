//! The load client's HTTP layer: one kept-alive HTTP/1.1 connection per worker, driven through
//! hyper's low-level connection API so no pool, proxy or decompression layer sits between the
//! timer and the socket.
//!
//! Every server under test runs on loopback, so requests always go to the address the server
//! was started on; URLs a server returns (`Location`, `webDavUrl`) only contribute their path.
//! A cluster's endpoint has one address per node and sends each request to the next one
//! (round-robin, as a load balancer without sticky sessions would).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context as _, Result, anyhow, bail};
use bytes::Bytes;
use http::header::{AUTHORIZATION, HOST};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use url::Url;

use crate::pattern::PatternBody;

/// Every request body the bench sends.
pub type ReqBody = BoxBody<Bytes, Infallible>;

/// An empty request body.
pub fn empty() -> ReqBody {
    Empty::new().boxed()
}

/// A small in-memory request body.
pub fn full(bytes: impl Into<Bytes>) -> ReqBody {
    Full::new(bytes.into()).boxed()
}

/// A streamed pattern body.
pub fn stream(body: PatternBody) -> ReqBody {
    body.boxed()
}

/// Where a server listens and how to authenticate to it; shared by all of its workers.
pub struct Endpoint {
    addrs: Vec<SocketAddr>,
    /// The request count, which picks the next address.
    next: AtomicUsize,
    host: HeaderValue,
    auth: Option<HeaderValue>,
}

impl Endpoint {
    /// An endpoint for the host and port of `url`, sending `auth` as `Authorization`.
    pub fn new(url: &Url, auth: Option<HeaderValue>) -> Result<Arc<Self>> {
        let addr = url
            .socket_addrs(|| None)?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("{url} has no address"))?;
        Self::round_robin(vec![addr], auth)
    }

    /// An endpoint spreading requests over `addrs` in turn (a cluster's nodes).
    pub fn round_robin(addrs: Vec<SocketAddr>, auth: Option<HeaderValue>) -> Result<Arc<Self>> {
        let first = addrs.first().ok_or_else(|| anyhow!("no address"))?;
        let host = HeaderValue::from_str(&first.to_string())?;
        Ok(Arc::new(Self {
            addrs,
            next: AtomicUsize::new(0),
            host,
            auth,
        }))
    }

    /// The `Authorization` it sends.
    pub fn auth(&self) -> Option<HeaderValue> {
        self.auth.clone()
    }

    /// A connection that connects lazily on first use (one per address).
    pub fn conn(self: &Arc<Self>) -> Conn {
        Conn {
            ep: Arc::clone(self),
            senders: self.addrs.iter().map(|_| None).collect(),
        }
    }
}

/// One keep-alive connection per address; reconnects when the server closed the previous one.
pub struct Conn {
    ep: Arc<Endpoint>,
    senders: Vec<Option<SendRequest<ReqBody>>>,
}

impl Conn {
    /// A request builder for `url` with `Host` and `Authorization` already set.
    pub fn request(&self, method: Method, url: &Url) -> http::request::Builder {
        let mut target = url.path().to_owned();
        if let Some(q) = url.query() {
            target.push('?');
            target.push_str(q);
        }
        let mut b = Request::builder()
            .method(method)
            .uri(target)
            .header(HOST, self.ep.host.clone());
        if let Some(auth) = &self.ep.auth {
            b = b.header(AUTHORIZATION, auth.clone());
        }
        b
    }

    /// Sends one request and returns the response head; the body is still to be read.
    pub async fn send(&mut self, req: Request<ReqBody>) -> Result<Response<Incoming>> {
        let at = match self.senders.len() {
            1 => 0,
            n => self.ep.next.fetch_add(1, Ordering::Relaxed) % n,
        };
        let reusable = match &mut self.senders[at] {
            Some(s) if !s.is_closed() => s.ready().await.is_ok(),
            _ => false,
        };
        if !reusable {
            self.senders[at] = Some(self.connect(self.ep.addrs[at]).await?);
        }
        let sender = self.senders[at].as_mut().expect("connected above");
        let (method, uri) = (req.method().clone(), req.uri().clone());
        sender
            .send_request(req)
            .await
            .with_context(|| format!("{method} {uri}"))
    }

    async fn connect(&self, addr: SocketAddr) -> Result<SendRequest<ReqBody>> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await?;
        tokio::spawn(conn);
        Ok(sender)
    }
}

/// What arrived in a response body.
pub struct Drained {
    /// Body bytes received.
    pub len: u64,
    /// When the first body byte arrived (`None` for an empty body).
    pub first_byte: Option<Instant>,
}

/// Reads a body to its end, handing every chunk to `each`.
pub async fn drain(mut body: Incoming, mut each: impl FnMut(&Bytes)) -> Result<Drained> {
    let mut out = Drained {
        len: 0,
        first_byte: None,
    };
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            if out.first_byte.is_none() && !data.is_empty() {
                out.first_byte = Some(Instant::now());
            }
            out.len += data.len() as u64;
            each(&data);
        }
    }
    Ok(out)
}

/// Reads a small body whole.
pub async fn text(body: Incoming) -> Result<String> {
    let bytes = body.collect().await?.to_bytes();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Fails with the status and body unless the response status is one of `ok`; returns the head.
pub async fn expect(
    resp: Response<Incoming>,
    what: &str,
    ok: &[StatusCode],
) -> Result<(StatusCode, HeaderMap, Incoming)> {
    let (parts, body) = resp.into_parts();
    if !ok.contains(&parts.status) {
        let text = text(body).await.unwrap_or_default();
        let text: String = text.chars().take(300).collect();
        bail!("{what}: unexpected {} {text}", parts.status);
    }
    Ok((parts.status, parts.headers, body))
}

/// Reads and discards the rest of a body, so the connection can be reused.
pub async fn discard(body: Incoming) -> Result<()> {
    drain(body, |_| ()).await.map(|_| ())
}

/// A header's value as text, or an error naming it.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str> {
    headers
        .get(name)
        .ok_or_else(|| anyhow!("response lacks {name}"))?
        .to_str()
        .with_context(|| format!("{name} is not text"))
}
