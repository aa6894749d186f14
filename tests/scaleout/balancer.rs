//! A load balancer in front of the cluster: every request goes to the node it currently points
//! at, `Host` unchanged, so absolute URLs the nodes build (tus `Location`) name the balancer.
//! The test moves it to another node, as a real balancer does when a node dies; it records
//! which node answered each request.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use futures::TryStreamExt;

#[derive(Clone)]
struct Shared {
    upstream: Arc<Mutex<String>>,
    http: reqwest::Client,
    log: Arc<Mutex<Vec<(String, String, u16)>>>,
}

/// A running balancer; stops with the test's runtime.
pub struct Balancer {
    /// `http://127.0.0.1:port`.
    pub base: String,
    shared: Shared,
}

impl Balancer {
    /// Starts on 127.0.0.1:0, sending everything to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Balancer {
        let shared = Shared {
            upstream: Arc::new(Mutex::new(upstream.to_string())),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .expect("http client"),
            log: Arc::default(),
        };
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind balancer");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Balancer { base, shared }
    }

    /// From now on, send everything to `upstream`.
    pub fn point_at(&self, upstream: &str) {
        *self.shared.upstream.lock().expect("upstream") = upstream.to_string();
    }

    /// `(method, upstream, status)` of every request so far, in order.
    pub fn log(&self) -> Vec<(String, String, u16)> {
        self.shared.log.lock().expect("log").clone()
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        self.shared.log.lock().expect("log").clear();
    }
}

/// Headers that belong to one connection, not to the message.
fn hop_by_hop(name: &http::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "keep-alive" | "transfer-encoding" | "te" | "upgrade" | "expect"
    )
}

async fn forward(State(shared): State<Shared>, req: Request) -> Response {
    let upstream = shared.upstream.lock().expect("upstream").clone();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = shared
        .http
        .request(parts.method.clone(), format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            out = out.header(name, value);
        }
    }
    if parts.headers.contains_key(http::header::CONTENT_LENGTH)
        || parts.headers.contains_key(http::header::TRANSFER_ENCODING)
    {
        let stream = body.into_data_stream().map_err(std::io::Error::other);
        out = out.body(reqwest::Body::wrap_stream(stream));
    }
    let (status, headers, body) = match out.send().await {
        Ok(res) => {
            let mut headers = res.headers().clone();
            let connection: Vec<_> = headers.keys().filter(|n| hop_by_hop(n)).cloned().collect();
            for name in connection {
                headers.remove(name);
            }
            (res.status(), headers, Body::from_stream(res.bytes_stream()))
        }
        Err(e) => (
            http::StatusCode::BAD_GATEWAY,
            http::HeaderMap::new(),
            Body::from(format!("balancer: {e}")),
        ),
    };
    shared
        .log
        .lock()
        .expect("log")
        .push((parts.method.to_string(), upstream, status.as_u16()));
    let mut builder = Response::builder().status(status);
    *builder.headers_mut().expect("headers") = headers;
    builder.body(body).expect("response")
}
