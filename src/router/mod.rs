//! The top of the HTTP surface: the router (which protocol owns which URL), the layers every
//! request passes through (request id, access log and 5xx hygiene; CORS), the operations
//! endpoints (`/healthz`, `/readyz`, `/metrics`), the connection server (timeouts, the
//! connection cap) and the maintenance loop. Nothing below imports this module; shared HTTP
//! helpers live in [`crate::http`].

mod cors;
pub mod maintenance;
mod observe;
pub mod ops;
pub mod server;

use axum::Router;
use axum::middleware;

use crate::tus::TusState;

pub use cors::{OriginMatch, match_origin};
pub use observe::RequestId;

/// The complete router. Each protocol module contributes its routes; layers are applied here.
///
/// Layer order (outermost first):
/// 1. `observe`: request id, access log, 5xx body stripping and cause logging; outermost so
///    that it sees every response, including CORS preflights and auth rejections.
/// 2. `cors`: answers preflights before routing (and before any authentication) and decorates
///    every response to an allowed origin.
/// 3. `script_challenges`: a 401 to a page script offers no Basic challenge (`auth`).
/// 4. the routes; authentication is per handler (the `auth::Principal` extractor).
///
/// tus's and dav's routes run with the [`TusState`] (dav's `POST` on a folder creates an
/// upload), every other module's with the core state.
pub fn router(app: TusState) -> Router {
    let state = app.core().clone();
    Router::new()
        .merge(crate::ocs::routes())
        .merge(crate::capabilities::routes())
        .merge(crate::sharing::routes())
        .merge(crate::graph::routes())
        .merge(crate::settings::routes())
        .merge(crate::tus::routes().with_state(app.clone()))
        .merge(crate::dav::routes().with_state(app))
        .merge(ops::routes())
        .merge(crate::web::routes())
        .merge(crate::auth::oidc::routes().with_state(state.auth().clone()))
        .merge(crate::auth::app_tokens::routes().with_state(state.auth().clone()))
        .layer(middleware::from_fn(crate::auth::script_challenges))
        .layer(middleware::from_fn_with_state(state.clone(), cors::cors))
        .layer(middleware::from_fn(observe::observe))
        .with_state(state)
}
