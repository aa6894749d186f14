//! tus 1.0.0 resumable uploads (SPEC §3–§4): creation on WebDAV folders (called by the dav
//! dispatcher through [`create_upload`]) and the upload resource `/data/{token}` ([`routes`]).
//!
//! Layout: `headers` (protocol constants), `parse` and `metadata` (pure header parsers),
//! `error` (the status table), `service` + `receive` + `complete` + `whole` (protocol logic over the
//! storage core's upload sessions, [`crate::spaces::Upload`]; no axum, no SQL), `grant` (the
//! re-check of the link, share or role an upload was made through), `handlers`
//! (axum glue). The advertised extension set is computed once here ([`extensions`]) and feeds
//! `Tus-Extension` everywhere and the capabilities' `files.tus_support`.

mod complete;
pub mod error;
mod grant;
mod handlers;
pub mod headers;
mod hold;
pub mod metadata;
pub mod parse;
mod receive;
mod service;
mod state;
mod whole;

use http::{HeaderMap, HeaderValue};

use crate::config::Config;

pub use error::TusError;
pub use handlers::{CreateTarget, create_upload, routes};
pub use receive::PatchRequest;
pub use service::{
    Completion, Creation, Creator, Progress, Settings, TusService, file_permissions,
};
pub use state::TusState;

/// What the capabilities advertise about tus (`files.tus_support`, SPEC §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TusSupport {
    /// `1.0.0`.
    pub version: &'static str,
    /// `1.0.0`.
    pub resumable: &'static str,
    /// The extensions, as in `Tus-Extension`.
    pub extensions: Vec<&'static str>,
    /// The chunk size clients should use.
    pub max_chunk_size: u64,
    /// Empty: clients may use `X-HTTP-Method-Override` but need not.
    pub http_method_override: &'static str,
}

/// The extensions this server supports, computed from what is wired and enabled: `checksum`
/// only while some algorithm is accepted, `expiration` only while uploads expire.
pub fn extensions(config: &Config) -> Vec<&'static str> {
    let mut v = vec!["creation", "creation-with-upload", "creation-defer-length"];
    if !Settings::from_config(config).algorithms.is_empty() {
        v.push("checksum");
    }
    if !config.upload_expiry.is_zero() {
        v.push("expiration");
    }
    v.extend(["termination", "concatenation"]);
    v
}

/// The capabilities' view of tus.
pub fn support(config: &Config) -> TusSupport {
    TusSupport {
        version: headers::VERSION,
        resumable: headers::VERSION,
        extensions: extensions(config),
        max_chunk_size: config.max_chunk_size,
        http_method_override: "",
    }
}

fn value(s: String) -> HeaderValue {
    HeaderValue::try_from(s).expect("header values built from config are ASCII")
}

/// The discovery headers of an `OPTIONS` answer (tus core; also added by the dav OPTIONS):
/// `Tus-Resumable`, `Tus-Version`, `Tus-Extension`, `Tus-Max-Size`, `Tus-Checksum-Algorithm`.
pub fn options_headers(config: &Config) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        headers::TUS_RESUMABLE,
        HeaderValue::from_static(headers::VERSION),
    );
    h.insert(
        headers::TUS_VERSION,
        HeaderValue::from_static(headers::VERSION),
    );
    h.insert(headers::TUS_EXTENSION, value(extensions(config).join(",")));
    h.insert(
        headers::TUS_MAX_SIZE,
        value(config.max_upload_size.to_string()),
    );
    let algorithms: Vec<&str> = Settings::from_config(config)
        .algorithms
        .iter()
        .map(|a| a.name())
        .collect();
    if !algorithms.is_empty() {
        h.insert(headers::TUS_CHECKSUM_ALGORITHM, value(algorithms.join(",")));
    }
    h
}
