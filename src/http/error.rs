//! How a handler reports an internal failure: a 5xx response carrying an [`ErrorCause`]
//! extension. The observe middleware logs the cause once, with the request id, and strips it
//! together with the body, so clients never see internals (STYLE habit 4).

use std::fmt::Display;

use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// The reason behind a 5xx response, for the log only.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

/// A `500 Internal Server Error` whose cause is logged (not sent).
pub fn internal_error(cause: impl Display) -> Response {
    with_cause(StatusCode::INTERNAL_SERVER_ERROR, cause)
}

/// A response with `status` (normally 5xx) whose cause is logged (not sent).
pub fn with_cause(status: StatusCode, cause: impl Display) -> Response {
    let mut res = status.into_response();
    res.extensions_mut().insert(ErrorCause(cause.to_string()));
    res
}

/// Notes why `res` refuses the request (401, 403, 423, 507, ...): the observe middleware logs
/// it with the request id and drops it; the body stays as it is.
pub fn note_cause(res: &mut Response, cause: impl Display) {
    res.extensions_mut().insert(ErrorCause(cause.to_string()));
}
