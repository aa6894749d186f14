//! The HTTP/1.1 server loop: accepts connections up to a cap and serves each with hyper,
//! under the timeouts of [`ConnectionLimits`], with graceful shutdown.
//!
//! `axum::serve` has no timeouts, so a client trickling its headers or sending nothing held
//! its connection (and a file descriptor) forever, and about a thousand such clients stopped
//! the server from accepting (issue 15). Here:
//! - a connection with no request in flight counts as idle from its last response (or from
//!   its accept) and is closed after `idle_timeout` if no byte arrives; once the first byte of
//!   a request arrives, the whole head must arrive within `header_read_timeout`
//!   ([`Watched`] does both, from the request activity [`Activity`] records);
//! - a request body that delivers no byte for `body_stall_timeout` fails (`TimeoutBody`), so a
//!   stalled PUT ends without replacing anything and a stalled tus PATCH ends keeping its
//!   durable bytes, which frees the upload for the resume; the answer is 408. A client that
//!   reads nothing of its answer for as long is disconnected too;
//! - at most `max_connections` are served at once (lowered to fit the open-file limit); when
//!   the cap is reached a warning is logged and further connections wait in the kernel's
//!   listen backlog until one closes, rather than being refused.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;
use tower_http::timeout::{TimeoutBody, TimeoutError};

use crate::config::ConnectionLimits;

/// At most one "connection limit reached" line per this interval, so a flood of
/// connections cannot flood the log too.
const CAP_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Descriptors kept free for what is not a client connection: the metadata database (a
/// SQLite pool holds three files per connection), blobs being written, logs.
const FD_RESERVE: u64 = 256;

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
struct Activity(Arc<Mutex<State>>);

impl Activity {
    fn new() -> Self {
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
    fn begin(&self) -> Busy {
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
struct Busy(Option<Activity>);

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
struct Tracked {
    body: Body,
    busy: Busy,
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
struct Stalling {
    body: Pin<Box<TimeoutBody<Incoming>>>,
    stalled: Arc<AtomicBool>,
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
struct Watched {
    io: TcpStream,
    activity: Activity,
    limits: ConnectionLimits,
    sleep: Pin<Box<Sleep>>,
    /// Runs while a write cannot progress (the client reads nothing of the answer).
    write_stall: Option<Pin<Box<Sleep>>>,
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

/// The connection cap that fits the open-file limit, after raising the soft limit to the
/// hard one (as Go's runtime does: a file server needs its descriptors).
#[cfg(unix)]
fn fit_to_file_limit(wanted: usize) -> usize {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum || (limit.current.is_some() && limit.maximum.is_none()) {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            limit.current = limit.maximum;
        }
    }
    let Some(files) = limit.current else {
        return wanted;
    };
    let room = usize::try_from(files.saturating_sub(FD_RESERVE).max(1)).unwrap_or(usize::MAX);
    if wanted > room {
        tracing::warn!(
            max_connections = wanted,
            open_file_limit = files,
            serving = room,
            "server.max_connections does not fit the open-file limit (raise LimitNOFILE); \
             serving fewer connections at once"
        );
        room
    } else {
        wanted
    }
}

#[cfg(not(unix))]
fn fit_to_file_limit(wanted: usize) -> usize {
    wanted
}

/// Accept errors that concern one connection only: go on accepting.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serve `app` on `listener` until `shutdown` resolves; then stop accepting, let in-flight
/// requests finish and close idle connections.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let cap = fit_to_file_limit(limits.max_connections);
    let slots = Arc::new(Semaphore::new(cap));
    let mut http = http1::Builder::new();
    // Our own header and idle deadlines replace hyper's (which cannot tell idle from slow).
    http.timer(TokioTimer::new()).header_read_timeout(None);
    let (stop_tx, stop_rx) = watch::channel(());
    let (done_tx, done_rx) = watch::channel(());
    tokio::pin!(shutdown);
    let (mut last_warned, mut times_full): (Option<Instant>, u64) = (None, 0);
    loop {
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                times_full += 1;
                if last_warned.is_none_or(|t| t.elapsed() >= CAP_LOG_INTERVAL) {
                    tracing::warn!(
                        max_connections = cap,
                        times_full,
                        "connection limit reached: new connections wait in the listen backlog \
                         until one closes"
                    );
                    (last_warned, times_full) = (Some(Instant::now()), 0);
                }
                tokio::select! {
                    p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // EMFILE and the like: wait for descriptors to free up, then go on.
                    tracing::error!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let activity = Activity::new();
        let io = TokioIo::new(Watched {
            io: stream,
            activity: activity.clone(),
            limits: limits.clone(),
            sleep: Box::pin(tokio::time::sleep(limits.idle_timeout)),
            write_stall: None,
        });
        let stall = limits.body_stall_timeout;
        let app = app.clone();
        let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
            let busy = activity.begin();
            let app = app.clone();
            async move {
                let stalled = Arc::new(AtomicBool::new(false));
                let req = req.map(|b| {
                    let body = Box::pin(TimeoutBody::new(stall, b));
                    let stalled = stalled.clone();
                    Body::new(Stalling { body, stalled })
                });
                let Ok(mut res) = app.oneshot(req).await;
                if stalled.load(Ordering::Relaxed) {
                    // Whatever the handler made of the broken body, the client was too slow.
                    *res.status_mut() = http::StatusCode::REQUEST_TIMEOUT;
                    tracing::info!(
                        timeout_s = stall.as_secs(),
                        "request ended: its body delivered no byte within server.body_stall_timeout"
                    );
                }
                Ok::<_, Infallible>(res.map(|body| Body::new(Tracked { body, busy })))
            }
        });
        let conn = http.serve_connection(io, service);
        let (mut stop, done) = (stop_rx.clone(), done_rx.clone());
        tokio::spawn(async move {
            let _slot = permit;
            let _done = done;
            tokio::pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        });
    }
    drop(listener);
    drop(done_rx);
    let _ = stop_tx.send(());
    // Every connection task holds a receiver; `closed` resolves when the last one ends.
    done_tx.closed().await;
    Ok(())
}
