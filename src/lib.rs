//! spacedav: an ownCloud Infinite Scale compatible file server in one binary.
//!
//! Data flows one way: HTTP adapters (`http`, `dav`, `tus`, `ocs`, `graph`) call protocol
//! services, which call the storage core in `spaces` (metadata in SQL, bytes in a blob store).
//! [`app`] builds the whole server; the binary and the tests share it.

pub mod auth;
pub mod cli;
pub mod config;
pub mod dav;
pub mod graph;
pub mod http;
pub mod metrics;
pub mod ocs;
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

/// The application: every route with every layer.
pub fn app(state: AppState) -> Router {
    http::router(state)
}

/// Serve `state` on `listener` until `shutdown` resolves; in-flight requests then finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let maintenance = tokio::spawn(state::maintenance(state.clone()));
    // The peer address feeds the sign-in throttle (auth::oidc).
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    maintenance.abort();
    served
}
