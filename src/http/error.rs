//! How a handler reports a failure it cannot explain to the client: a 5xx response carrying an
//! [`ErrorCause`] extension. The observe middleware logs the cause once, with the request id,
//! and strips it (and a 500's body), so clients never see internals (STYLE habit 4). This is
//! the one 5xx path for every protocol: WebDAV, tus, OCS, Graph, settings, auth and Web attach
//! their cause here and log nothing themselves.
//!
//! [`store_failure`] is the one mapping of a [`StoreError`] that reaches an API without a
//! protocol meaning of its own (OCS, Graph, settings, auth): a full or read-only medium is
//! `507 Insufficient Storage`, as WebDAV and tus answer it; anything else is `500`.

use std::fmt::Display;

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::spaces::StoreError;

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

/// The status of a storage failure that an API passes on as it is (module doc).
pub fn store_status(e: &StoreError) -> StatusCode {
    match e {
        StoreError::StorageFull(_) | StoreError::ReadOnly(_) | StoreError::QuotaExceeded => {
            StatusCode::INSUFFICIENT_STORAGE
        }
        StoreError::Locked => StatusCode::LOCKED,
        StoreError::GrantRevoked { hidden: true } => StatusCode::NOT_FOUND,
        StoreError::GrantRevoked { hidden: false } => StatusCode::FORBIDDEN,
        StoreError::NotFound
        | StoreError::ParentMissing
        | StoreError::AlreadyExists
        | StoreError::IsFolder
        | StoreError::NotFolder
        | StoreError::Conflict
        | StoreError::PreconditionFailed
        | StoreError::InvalidPath(_)
        | StoreError::CrossSpace
        | StoreError::IntoItself
        | StoreError::RootImmutable
        | StoreError::NameTaken(_)
        | StoreError::Io(_)
        | StoreError::Db(_)
        | StoreError::Migrate(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The response to a storage failure an API passes on as it is: [`store_status`], with the
/// failure as the logged cause.
pub fn store_failure(e: &StoreError) -> Response {
    with_cause(store_status(e), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_or_read_only_medium_is_507_and_other_store_failures_are_500() {
        let rows = [
            (StoreError::StorageFull("ENOSPC".into()), 507),
            (StoreError::ReadOnly("EROFS".into()), 507),
            (StoreError::QuotaExceeded, 507),
            (StoreError::Io(std::io::Error::other("EIO")), 500),
            (StoreError::NotFound, 500),
            (StoreError::Conflict, 500),
        ];
        for (e, want) in rows {
            let res = store_failure(&e);
            assert_eq!(res.status().as_u16(), want, "{e:?}");
            let cause = res
                .extensions()
                .get::<ErrorCause>()
                .expect("cause attached");
            assert_eq!(cause.0, e.to_string());
        }
    }
}
