//! tus 1.0.0 resumable uploads (<https://tus.io/protocols/resumable-upload>), SPEC §3–4.
//!
//! For now this holds only [`support`], the one value that feeds `Tus-Extension`,
//! `Tus-Max-Size` and the capabilities' `files.tus_support` (STYLE habit 7); the tus helper
//! owns this module and extends it with the protocol itself.

use crate::config::Config;

/// What the tus layer advertises, computed from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TusSupport {
    /// Protocol version served (`Tus-Version`).
    pub version: &'static str,
    /// Protocol version this server speaks (`Tus-Resumable`).
    pub resumable: &'static str,
    /// Extensions, in the order they are advertised (`Tus-Extension`).
    pub extensions: Vec<&'static str>,
    /// Chunk size clients should use (capabilities `max_chunk_size`; 0 = whole file).
    pub max_chunk_size: u64,
    /// Method-override value for clients that cannot send `PATCH` (`""` = not needed).
    pub http_method_override: &'static str,
}

/// The advertised tus support for `config` (SPEC §4, "Extensions").
pub fn support(config: &Config) -> TusSupport {
    let mut extensions = vec!["creation", "creation-with-upload", "creation-defer-length"];
    if !config.checksum_algorithms.is_empty() {
        extensions.push("checksum");
    }
    if !config.upload_expiry.is_zero() {
        extensions.push("expiration");
    }
    extensions.extend(["termination", "concatenation"]);
    TusSupport {
        version: "1.0.0",
        resumable: "1.0.0",
        extensions,
        max_chunk_size: config.max_chunk_size,
        http_method_override: "",
    }
}
