//! The HTTP/1.1 server loop: accepts connections up to a cap and serves each with hyper,
//! under the timeouts of [`ConnectionLimits`], with graceful shutdown.
//!
//! `axum::serve` has no timeouts, so a client trickling its headers or sending nothing held
//! its connection (and a file descriptor) forever, and about a thousand such clients stopped
//! the server from accepting (issue 15). Here:
//! - a connection with no request in flight counts as idle from its last response (or from
//!   its accept) and is closed after `idle_timeout` if no byte arrives; once the first byte of
//!   a request arrives, the whole head must arrive within `header_read_timeout`
//!   (`conn::Watched` does both, from the request activity `conn::Activity` records);
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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

use crate::config::ConnectionLimits;

mod conn;

use conn::{Activity, Stalling, Tracked, Watched};

/// At most one "connection limit reached" line per this interval, so a flood of
/// connections cannot flood the log too.
const CAP_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Descriptors kept free for what is not a client connection: the metadata database (a
/// SQLite pool holds three files per connection), blobs being written, logs.
const FD_RESERVE: u64 = 256;

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
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(accepted) => accepted,
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
                let mut req = req.map(|b| {
                    let body = Box::pin(TimeoutBody::new(stall, b));
                    let stalled = stalled.clone();
                    Body::new(Stalling { body, stalled })
                });
                // The peer address, as axum's `ConnectInfo` (the sign-in throttle keys on it).
                req.extensions_mut().insert(ConnectInfo(peer));
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
