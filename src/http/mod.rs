//! Shared HTTP helpers every protocol imports, below the router ([`crate::router`]): header
//! constants, the one 5xx path (a response carrying its cause for the log), and the public
//! base URL.

mod error;
pub mod headers;

use http::{HeaderMap, header};

use crate::state::AppState;

pub use error::{ErrorCause, internal_error, note_cause, store_failure, store_status, with_cause};

/// The public base URL without a trailing slash: `config.public_url` when set, else
/// `http://{Host}` of the request (SPEC §1), used for `Location`, `webDavUrl` and private links.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config().public_url {
        return url.as_str().trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost");
    format!("http://{host}")
}
