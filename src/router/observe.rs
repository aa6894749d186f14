//! The outermost layer: request id, one access-log line per request, request metrics, and 5xx
//! hygiene.
//!
//! `X-Request-ID` is taken from the request when it is sane (visible ASCII, at most 128 bytes)
//! or generated, stored in the request's extensions as [`RequestId`], and echoed on the
//! response. A failed request (5xx other than 503 and 507) loses its body; its [`ErrorCause`]
//! is logged once at error. A refused or throttled request (401, 403, 413, 423, 429, 503, 507)
//! is logged once, at info for 401 (the challenge every Basic client meets first) and at warn
//! otherwise, with the reason its handler attached as [`ErrorCause`] (else the status text);
//! 503 and 507 keep their bodies, which say what is unavailable or full, never internals. The
//! access-log line and the request metrics ([`crate::metrics`]) are written when the response
//! body has been sent (or dropped), so they carry the real byte count and duration.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use http_body::{Frame, SizeHint};

use crate::http::ErrorCause;
use crate::http::headers::X_REQUEST_ID;
use crate::metrics::{Route, method_label, metrics};
use crate::tus::headers::TUS_RESUMABLE;

/// The id of the current request (also in the `X-Request-ID` response header).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn sane(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty() && b.len() <= 128 && b.iter().all(|c| c.is_ascii_graphic())
}

/// Middleware: see the module doc.
pub async fn observe(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .filter(|v| sane(v))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).expect("uuid is ASCII")
        });
    let id_text = id.to_str().expect("checked visible ASCII").to_string();
    req.headers_mut().insert(X_REQUEST_ID, id.clone());
    req.extensions_mut().insert(RequestId(id_text.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let route = Route::of(&method, &path, req.headers().contains_key(TUS_RESUMABLE));
    let req = req.map(|body| {
        Body::new(CountedBody::wrap(body, move |n| {
            if n > 0 {
                metrics().received(route, n);
            }
        }))
    });

    let mut res = next.run(req).await;
    let status = res.status();
    let cause = res.extensions_mut().remove::<ErrorCause>();
    // A refusal without a recorded cause is still explained by its status text.
    let status_text = status.canonical_reason().unwrap_or("refused");
    let reason = |fallback: &str| {
        cause
            .as_ref()
            .map_or_else(|| fallback.to_string(), |c| c.0.clone())
    };
    let code = status.as_u16();
    match code {
        401 => tracing::info!(request_id = %id_text, %method, %path, status = code,
            reason = %reason(status_text), "request refused"),
        403 | 413 | 423 | 429 | 503 | 507 => tracing::warn!(request_id = %id_text, %method,
            %path, status = code, reason = %reason(status_text), "request refused"),
        _ if status.is_server_error() => {
            tracing::error!(request_id = %id_text, %method, %path, status = code,
                cause = %reason("no cause recorded"), "request failed");
            *res.body_mut() = Body::empty();
            res.headers_mut().remove(header::CONTENT_TYPE);
            res.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        _ => {}
    }
    res.headers_mut().insert(X_REQUEST_ID, id);
    let line = AccessLine {
        request_id: id_text,
        method,
        path,
        route,
        status,
        start,
    };
    res.map(|body| Body::new(CountedBody::wrap(body, move |n| line.write(n))))
}

struct AccessLine {
    request_id: String,
    method: Method,
    path: String,
    route: Route,
    status: StatusCode,
    start: Instant,
}

impl AccessLine {
    /// Record the finished request (metrics and the access-log line), `bytes` sent.
    fn write(self, bytes: u64) {
        let elapsed = self.start.elapsed();
        metrics().request(
            method_label(&self.method),
            self.route,
            self.status.as_u16(),
            elapsed.as_secs_f64(),
            bytes,
        );
        tracing::info!(
            target: "spacedav::access",
            request_id = %self.request_id,
            method = %self.method,
            path = %self.path,
            status = self.status.as_u16(),
            bytes,
            duration_ms = %format_args!("{:.3}", elapsed.as_secs_f64() * 1000.0),
            "request"
        );
    }
}

/// A body that counts the bytes passing through it and hands the count to `done` once, when
/// it is dropped (read or sent to the end, or abandoned): the request body's bytes-in counter,
/// the response body's access-log line.
struct CountedBody<F: FnOnce(u64)> {
    inner: Body,
    bytes: u64,
    done: Option<F>,
}

impl<F: FnOnce(u64)> CountedBody<F> {
    fn wrap(inner: Body, done: F) -> Self {
        CountedBody {
            inner,
            bytes: 0,
            done: Some(done),
        }
    }
}

impl<F: FnOnce(u64) + Unpin> http_body::Body for CountedBody<F> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.bytes += data.len() as u64;
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<F: FnOnce(u64)> Drop for CountedBody<F> {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            done(self.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    /// Handlers may (by mistake or through a library) put text into a 5xx body; it must not
    /// reach the client. 4xx bodies pass untouched, and so do 503 and 507 bodies, which say
    /// what is unavailable or full.
    #[tokio::test]
    async fn strips_5xx_bodies_except_503_and_507_and_keeps_4xx_bodies() {
        let app = Router::new()
            .route(
                "/500",
                get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "secret internals") }),
            )
            .route("/404", get(|| async { (StatusCode::NOT_FOUND, "nope") }))
            .route(
                "/507",
                get(|| async { (StatusCode::INSUFFICIENT_STORAGE, "quota exceeded") }),
            )
            .layer(axum::middleware::from_fn(observe));
        for (path, status, body) in [
            ("/500", StatusCode::INTERNAL_SERVER_ERROR, ""),
            ("/404", StatusCode::NOT_FOUND, "nope"),
            ("/507", StatusCode::INSUFFICIENT_STORAGE, "quota exceeded"),
        ] {
            let req = Request::builder().uri(path).body(Body::empty()).unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), status);
            assert!(res.headers().contains_key(&X_REQUEST_ID));
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(bytes, body.as_bytes(), "{path}");
        }
    }
}
