//! A recording reverse proxy between a client and the server, so tests can assert on the
//! wire (which methods a client used, how many PATCHes, whether an unchanged file was
//! downloaded again) without relying on the server's logs.
//!
//! It forwards every request unchanged, `Host` included, so absolute URLs the server builds
//! (tus `Location`) point back at the proxy and later requests are recorded too. Bodies are
//! streamed both ways.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use futures::TryStreamExt;

/// One proxied exchange.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    /// Decoded path (no query).
    pub path: String,
    pub status: u16,
    /// Request headers (lower-case names).
    pub request: http::HeaderMap,
    /// Response headers.
    pub response: http::HeaderMap,
}

impl Exchange {
    pub fn req_header(&self, name: &str) -> Option<&str> {
        self.request.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
struct Upstream {
    base: String,
    http: reqwest::Client,
    log: Arc<Mutex<Vec<Exchange>>>,
}

/// A running proxy; stops with the test's runtime.
pub struct Proxy {
    /// `http://127.0.0.1:port` of the proxy.
    pub base: String,
    log: Arc<Mutex<Vec<Exchange>>>,
}

impl Proxy {
    /// Starts a proxy on 127.0.0.1:0 in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Proxy {
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = Upstream {
            base: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .expect("http client"),
            log: log.clone(),
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Proxy { base, log }
    }

    /// Everything recorded so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().expect("log").clone()
    }

    /// Forgets what was recorded (to look at one client run alone).
    pub fn clear(&self) {
        self.log.lock().expect("log").clear();
    }

    /// `METHOD path -> status` lines, for assertion messages.
    pub fn summary(&self) -> String {
        self.exchanges()
            .iter()
            .map(|e| format!("{} {} -> {}\n", e.method, e.path, e.status))
            .collect()
    }
}

/// Headers that belong to one connection, not to the message.
fn hop_by_hop(name: &http::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "keep-alive" | "transfer-encoding" | "te" | "upgrade" | "expect"
    )
}

async fn forward(State(up): State<Upstream>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path_q = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let mut out = up
        .http
        .request(parts.method.clone(), format!("{}{}", up.base, path_q));
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            out = out.header(name, value);
        }
    }
    // A request without a framed body must not gain a chunked one on the way.
    if parts.headers.contains_key(http::header::CONTENT_LENGTH)
        || parts.headers.contains_key(http::header::TRANSFER_ENCODING)
    {
        let stream = body.into_data_stream().map_err(std::io::Error::other);
        out = out.body(reqwest::Body::wrap_stream(stream));
    }
    let res = match out.send().await {
        Ok(res) => res,
        Err(e) => {
            return Response::builder()
                .status(502)
                .body(Body::from(format!("proxy: {e}")))
                .expect("response");
        }
    };
    let status = res.status();
    let mut headers = res.headers().clone();
    let connection: Vec<_> = headers.keys().filter(|n| hop_by_hop(n)).cloned().collect();
    for name in connection {
        headers.remove(name);
    }
    up.log.lock().expect("log").push(Exchange {
        method: parts.method.to_string(),
        path: crate::dav::url_path(parts.uri.path()),
        status: status.as_u16(),
        request: parts.headers.clone(),
        response: headers.clone(),
    });
    let mut builder = Response::builder().status(status);
    *builder.headers_mut().expect("headers") = headers;
    builder
        .body(Body::from_stream(res.bytes_stream()))
        .expect("response")
}
