//! spacedav: an ownCloud Infinite Scale compatible file server in one binary.
//!
//! Data flows one way: HTTP adapters (`dav`, `tus`, `ocs`, `graph`, `sharing`, `settings`,
//! `web`) call protocol services, which call the storage core in `spaces` (metadata in SQL,
//! bytes in a blob store). `router` sits on top (routes, layers, connection server); `http`
//! is the leaf of shared HTTP helpers every adapter imports; `auth` is a component reached
//! through `AsRef<auth::Auth>`; `state` is the core below every protocol (configuration,
//! store, auth), and protocol services hold it from above ([`TusState`]); `capabilities`
//! assembles what `ocs`, `sharing` and `tus` advertise; `clock` is the time source of
//! everything that expires. [`app`] builds the whole server; the binary and the tests share
//! it. `.ci/deps` prints which module imports which, and `.ci/deps --check` fails on a cycle
//! between them.

// The library has no unsafe code at all; only the binary's `main.rs` makes two audited calls
// into its allocator (Cargo.toml denies unsafe code, this forbids it here).
#![forbid(unsafe_code)]

pub mod auth;
pub mod capabilities;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dav;
pub mod graph;
pub mod http;
pub mod metrics;
pub mod ocs;
pub mod router;
pub mod settings;
pub mod sharing;
pub mod spaces;
pub mod state;
pub mod tus;
pub mod web;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

pub use state::AppState;
pub use tus::TusState;

/// The application: every route with every layer.
pub fn app(state: TusState) -> Router {
    router::router(state)
}

/// Serve `state` on `listener` until `shutdown` resolves; in-flight requests then finish.
/// Timeouts and the connection cap: `router::server`.
pub async fn serve(
    listener: TcpListener,
    state: TusState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Locks granted before every timeout was capped would otherwise never expire.
    match state
        .store()
        .end_endless_locks(dav::lock_system::MAX_LOCK_TIMEOUT)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(locks = n, "gave endless WebDAV locks the maximum timeout"),
        Err(e) => tracing::error!(error = %e, "capping endless WebDAV locks failed"),
    }
    let maintenance = tokio::spawn(router::maintenance::maintenance(state.clone()));
    let limits = state.config().limits.clone();
    let served = router::server::run(listener, app(state), limits, shutdown).await;
    maintenance.abort();
    served
}
