//! One client connection under its deadlines: [`Activity`] records whether a request is in
//! flight, [`Watched`] (the connection's IO) fails when the client sends nothing in time or
//! reads nothing of its answer, [`Stalling`] fails a request body that stalls, and
//! [`Tracked`] marks a request done when its answer is sent.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use bytes::Bytes;
use hyper::body::Incoming;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tower_http::timeout::{TimeoutBody, TimeoutError};

use crate::config::ConnectionLimits;

/// What a connection is doing, as far as its timeouts care.
#[derive(Debug)]
struct State {
    /// Requests whose response has not been sent completely.
    busy: usize,
    /// When the first byte of the next request head arrived (no request in flight).
    head_since: Option<Instant>,
    /// When the connection last became idle.
    idle_since: Instant,
    /// The reader waiting without a deadline while a request was in flight: woken when the
    /// connection turns idle, so its idle deadline starts to run.
    reader: Option<Waker>,
}

/// The request activity of one connection, shared by its IO and its service.
#[derive(Debug, Clone)]
pub(super) struct Activity(Arc<Mutex<State>>);

impl Activity {
    pub(super) fn new() -> Self {
        Activity(Arc::new(Mutex::new(State {
            busy: 0,
            head_since: None,
            idle_since: Instant::now(),
            reader: None,
        })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes arrived: when no request is in flight, they start a request head.
    fn bytes_read(&self) {
        let mut s = self.state();
        if s.busy == 0 && s.head_since.is_none() {
            s.head_since = Some(Instant::now());
        }
    }

    /// A request head was parsed; it is in flight until its response ends.
    pub(super) fn begin(&self) -> Busy {
        let mut s = self.state();
        s.busy += 1;
        s.head_since = None;
        Busy(Some(self.clone()))
    }

    /// The deadline the connection is under now, with what it waits for; without one, the
    /// reader is woken when there is one again.
    fn deadline(
        &self,
        limits: &ConnectionLimits,
        cx: &Context<'_>,
    ) -> Option<(Instant, &'static str)> {
        let mut s = self.state();
        match (s.busy, s.head_since) {
            (0, Some(since)) => Some((since + limits.header_read_timeout, "request head")),
            (0, None) => Some((s.idle_since + limits.idle_timeout, "next request")),
            _ => {
                s.reader = Some(cx.waker().clone());
                None
            }
        }
    }
}

/// A request in flight; the connection is idle again when the last one is dropped.
pub(super) struct Busy(Option<Activity>);

impl Busy {
    fn end(&mut self) {
        if let Some(a) = self.0.take() {
            let mut s = a.state();
            s.busy -= 1;
            if s.busy == 0 {
                s.idle_since = Instant::now();
                s.head_since = None;
                if let Some(w) = s.reader.take() {
                    w.wake();
                }
            }
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.end();
    }
}

/// A response body that ends its request's [`Busy`] when it is sent or dropped.
pub(super) struct Tracked {
    pub(super) body: Body,
    pub(super) busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.busy.end();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A request body that fails when it delivers no byte for the stall timeout
/// ([`TimeoutBody`]) and remembers that it did, so the answer can say 408.
pub(super) struct Stalling {
    pub(super) body: Pin<Box<TimeoutBody<Incoming>>>,
    pub(super) stalled: Arc<AtomicBool>,
}

impl http_body::Body for Stalling {
    type Data = Bytes;
    type Error = tower::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, tower::BoxError>>> {
        let polled = self.body.as_mut().poll_frame(cx);
        if let Poll::Ready(Some(Err(e))) = &polled
            && e.is::<TimeoutError>()
        {
            self.stalled.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A client connection that fails with `TimedOut` when the deadline of its [`Activity`]
/// passes while hyper waits for bytes.
pub(super) struct Watched {
    pub(super) io: TcpStream,
    pub(super) activity: Activity,
    pub(super) limits: ConnectionLimits,
    pub(super) sleep: Pin<Box<Sleep>>,
    /// Runs while a write cannot progress (the client reads nothing of the answer).
    pub(super) write_stall: Option<Pin<Box<Sleep>>>,
}

impl Watched {
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((deadline, waiting_for)) = self.activity.deadline(&self.limits, cx) else {
            return Poll::Pending;
        };
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                tracing::debug!(
                    waiting_for,
                    "closing a connection: the client sent nothing in time"
                );
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("timed out waiting for the {waiting_for}"),
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Watched {
    /// A write that waited `body_stall_timeout` without progress fails, so a client that
    /// stops reading its answer frees its connection (a slow-read attack would hold it).
    fn after_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.write_stall = None;
            return polled;
        }
        let stall = self.limits.body_stall_timeout;
        let sleep = self
            .write_stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        if sleep.as_mut().poll(cx).is_ready() {
            tracing::info!(
                timeout_s = stall.as_secs(),
                "closing a connection: the client read nothing of its answer within \
                 server.body_stall_timeout"
            );
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            )));
        }
        Poll::Pending
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.activity.bytes_read();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.poll_deadline(cx),
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.after_write(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.after_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_flush(cx);
        self.after_write(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
