//! Shared HTTP helpers every protocol imports, below the router ([`crate::router`]): header
//! constants, RFC 3339 dates, the one 5xx path (a response carrying its cause for the log), and the public
//! base URL.

mod date;
mod error;
pub mod headers;
pub mod if_header;

use http::{HeaderMap, header};
use url::Url;

use crate::config::Config;

pub use date::rfc3339;
pub use error::{ErrorCause, internal_error, note_cause, store_failure, store_status, with_cause};

/// What [`base_url`] needs from its caller: the configured public URL, if any. The application
/// state implements it, so handlers pass what they hold while this module stays below it.
pub trait PublicUrl {
    /// `public_url` from the configuration.
    fn public_url(&self) -> Option<&Url>;
}

impl PublicUrl for Config {
    fn public_url(&self) -> Option<&Url> {
        self.public_url.as_ref()
    }
}

/// The public base URL without a trailing slash: `config.public_url` when set, else
/// `http://{Host}` of the request (SPEC §1), used for `Location`, `webDavUrl` and private links.
pub fn base_url(config: &impl PublicUrl, headers: &HeaderMap) -> String {
    if let Some(url) = config.public_url() {
        return url.as_str().trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost");
    format!("http://{host}")
}
