//! Typed configuration: defaults < `config/spacedav.toml` < `SPACEDAV_*` env < CLI flags.
//!
//! `Config` is the validated result the rest of the server reads; nothing else parses TOML or env.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable text lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Where file bytes are stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum BlobConfig {
    /// A local directory (default: `{data_root}/blobs`).
    Local {
        /// Directory for blobs; `None` means `{data_root}/blobs`.
        path: Option<PathBuf>,
    },
}

/// The validated configuration of one server process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Public base URL used in `Location`, `webDavUrl`, private links; `None` = from `Host`.
    pub public_url: Option<url::Url>,
    /// Runtime data root (SQLite file, blobs, persisted secrets).
    pub data_root: PathBuf,
    /// Installation-wide storage id (first half of every space id).
    pub storage_id: Uuid,
    /// Metadata database URL (`sqlite://…`).
    pub metadata_url: String,
    /// Blob backend.
    pub blobs: BlobConfig,
    /// HS256 secret for `/data/{token}` transfer tokens.
    pub transfer_secret: String,
    /// HS256 secret for Bearer user tokens (separate from the transfer secret).
    pub token_secret: String,
    /// Lifetime of an upload session.
    pub upload_expiry: Duration,
    /// Interval of the expired-upload sweeper.
    pub sweep_interval: Duration,
    /// Largest accepted `Upload-Length` / PUT body (`Tus-Max-Size`).
    pub max_upload_size: u64,
    /// Chunk size advertised to clients (`files.tus_support.max_chunk_size`).
    pub max_chunk_size: u64,
    /// Checksum algorithms advertised in `Tus-Checksum-Algorithm` (lower case).
    pub checksum_algorithms: Vec<String>,
    /// Origins allowed by CORS (`*` allows any).
    pub cors_origins: Vec<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// Whether PROPFIND `Depth: infinity` is served (else 400).
    pub propfind_depth_infinity: bool,
}

impl Config {
    /// A configuration for tests and embedding: everything default, data under `data_root`,
    /// fresh random secrets and storage id, listening on `127.0.0.1:0`.
    pub fn for_data_root(data_root: impl Into<PathBuf>) -> Self {
        let data_root = data_root.into();
        Config {
            listen: "127.0.0.1:0".parse().expect("valid literal"),
            public_url: None,
            metadata_url: format!("sqlite://{}", data_root.join("spacedav.db").display()),
            blobs: BlobConfig::Local { path: None },
            data_root,
            storage_id: Uuid::new_v4(),
            transfer_secret: Uuid::new_v4().simple().to_string(),
            token_secret: Uuid::new_v4().simple().to_string(),
            upload_expiry: Duration::from_secs(24 * 3600),
            sweep_interval: Duration::from_secs(3600),
            max_upload_size: 1 << 40,
            max_chunk_size: 10_000_000,
            checksum_algorithms: vec!["md5".into(), "sha1".into(), "adler32".into()],
            cors_origins: Vec::new(),
            log_format: LogFormat::Text,
            propfind_depth_infinity: false,
        }
    }

    /// Directory of the local blob store.
    pub fn blob_dir(&self) -> PathBuf {
        match &self.blobs {
            BlobConfig::Local { path } => {
                path.clone().unwrap_or_else(|| self.data_root.join("blobs"))
            }
        }
    }
}
