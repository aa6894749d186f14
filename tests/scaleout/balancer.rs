//! A load balancer in front of the cluster: every request goes to the node it currently points
//! at, `Host` unchanged, so absolute URLs the nodes build (tus `Location`) name the balancer.
//! The test moves it to another node, as a real balancer does when a node dies; it records
//! which node answered each request.
//!
//! Put in front of Garage instead (a node's S3 endpoint), it can hold back the answer to the
//! next S3 `UploadPart`: the part is stored, and the node waits for its ETag, so the test
//! knows the node stands between uploading a part and committing it.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use futures::TryStreamExt;
use tokio::sync::oneshot;

/// A held-back UploadPart answer: signal when it is held, wait for the release.
type Gate = (oneshot::Sender<()>, oneshot::Receiver<()>);

#[derive(Clone)]
struct Shared {
    upstream: Arc<Mutex<String>>,
    http: reqwest::Client,
    log: Arc<Mutex<Vec<(String, String, u16)>>>,
    gate: Arc<Mutex<Option<Gate>>>,
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
            gate: Arc::default(),
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

    /// Holds back the answer to the next S3 `UploadPart` (a `PUT` with `partNumber`, no copy
    /// source) once the upstream gave it: the first receiver resolves then; the answer goes
    /// out when the sender is used (or dropped).
    pub fn hold_next_part(&self) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
        let (held_tx, held_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        *self.shared.gate.lock().expect("gate") = Some((held_tx, release_rx));
        (held_rx, release_tx)
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
    let upload_part = parts.method == http::Method::PUT
        && parts.uri.query().is_some_and(|q| q.contains("partNumber="))
        && !parts.headers.contains_key("x-amz-copy-source");
    let answer = out.send().await;
    if upload_part && answer.is_ok() {
        let gate = shared.gate.lock().expect("gate").take();
        if let Some((held, release)) = gate {
            let _ = held.send(());
            let _ = release.await;
        }
    }
    let (status, headers, body) = match answer {
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
