//! Interpreting the raw layered settings: every key is parsed and checked on its own, then the
//! cross-key rules run, and all problems are returned together. Pure: no file system, no env.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use uuid::Uuid;

use super::keys::{self, Kind};
use super::layers::{ConfigError, Layers, Origin, Problem, RawValue, Setting};
use super::oidc::{self, OidcConfig};
use super::values::{
    addr, blob_backend, boolean, checksums, list, log_format, metadata_url, non_empty, origins,
    path, positive, public_url, show, text, uuid,
};
use super::{BlobConfig, ConnectionLimits, LogFormat, Retention, SharingPolicy};

/// Built-in defaults; `config/spacedav.toml` repeats them and a test keeps the two in step.
pub(crate) mod defaults {
    /// `server.listen`.
    pub const LISTEN: &str = "127.0.0.1:9200";
    /// `storage.data_root`.
    pub const DATA_ROOT: &str = "spaces";
    /// `tus.upload_expiry`, seconds.
    pub const UPLOAD_EXPIRY: u64 = 24 * 3600;
    /// `tus.sweep_interval`, seconds.
    pub const SWEEP_INTERVAL: u64 = 3600;
    /// `tus.max_upload_size`, bytes (1 TiB).
    pub const MAX_UPLOAD_SIZE: u64 = 1 << 40;
    /// `tus.max_chunk_size`, bytes; the value oCIS advertises.
    pub const MAX_CHUNK_SIZE: u64 = 10_000_000;
    /// `trash.retention`, seconds (30 days).
    pub const TRASH_RETENTION: u64 = 30 * 24 * 3600;
    /// `versions.max_count`.
    pub const VERSIONS_MAX_COUNT: u64 = 100;
    /// `versions.max_age`, seconds (365 days).
    pub const VERSIONS_MAX_AGE: u64 = 365 * 24 * 3600;
    /// `tus.checksum_algorithms`.
    pub const CHECKSUM_ALGORITHMS: &[&str] = &["md5", "sha1", "adler32"];
    /// `server.header_read_timeout`, seconds.
    pub const HEADER_READ_TIMEOUT: u64 = 30;
    /// `server.idle_timeout`, seconds.
    pub const IDLE_TIMEOUT: u64 = 60;
    /// `server.body_stall_timeout`, seconds.
    pub const BODY_STALL_TIMEOUT: u64 = 60;
    /// `server.max_connections`.
    pub const MAX_CONNECTIONS: u64 = 4096;
}

/// Checksum algorithms the server can compute.
pub(crate) const KNOWN_CHECKSUMS: &[&str] = &["md5", "sha1", "adler32", "sha256"];

/// Secrets shorter than this are refused: an HS256 key should not be guessable.
pub(crate) const MIN_SECRET_LEN: usize = 16;

/// Where a secret comes from, before any file is read.
#[derive(Clone)]
pub(crate) enum SecretSource {
    /// Given inline (file or env).
    Value(String),
    /// Read from this file.
    File(PathBuf, Origin),
    /// Not configured: generated once and persisted under the data root.
    Unset,
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Value(_) => f.write_str("Value(<redacted>)"),
            SecretSource::File(path, _) => f.debug_tuple("File").field(path).finish(),
            SecretSource::Unset => f.write_str("Unset"),
        }
    }
}

/// The validated configuration: every key checked except what needs the file system (secrets
/// and the storage id). Named apart from `tus::Settings`, the upload service's limits.
#[derive(Debug, Clone)]
pub(crate) struct Validated {
    pub listen: SocketAddr,
    pub public_url: Option<url::Url>,
    pub limits: ConnectionLimits,
    pub data_root: PathBuf,
    pub storage_id: Option<Uuid>,
    pub metadata_url: Option<String>,
    pub blobs: BlobConfig,
    pub token_secret: SecretSource,
    pub transfer_secret: SecretSource,
    pub upload_expiry: Duration,
    pub sweep_interval: Duration,
    pub max_upload_size: u64,
    pub max_chunk_size: u64,
    pub checksum_algorithms: Vec<String>,
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    pub propfind_depth_infinity: bool,
    pub retention: Retention,
    pub sharing: SharingPolicy,
    pub web_assets_path: Option<PathBuf>,
    pub admin_password: Option<String>,
    pub metrics_token: Option<String>,
    pub oidc: OidcConfig,
}

struct Checker<'a> {
    layers: &'a Layers,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    /// The parsed value of `key` if it is set and valid; records a problem if it is invalid.
    fn get<T>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&RawValue) -> Result<T, String>,
    ) -> Option<T> {
        let setting = self.layers.get(key)?;
        match parse(&setting.value) {
            Ok(v) => Some(v),
            Err(why) => {
                self.report(key, Some(setting), why);
                None
            }
        }
    }

    fn report(&mut self, key: &str, setting: Option<&Setting>, why: String) {
        let secret = keys::KEYS
            .iter()
            .any(|k| matches!(k.kind, Kind::Secret | Kind::OidcClients) && k.dotted() == key);
        let (value, origin) = match setting {
            Some(_) if secret => ("<redacted>".to_string(), setting.map(|s| s.origin.clone())),
            Some(s) => (show(&s.value), Some(s.origin.clone())),
            None => (String::new(), None),
        };
        self.problems.push(Problem {
            key: key.into(),
            value,
            origin: origin.unwrap_or(Origin::Default),
            why,
        });
    }

    /// Reports a cross-key problem against `key`'s winning setting (or its default).
    fn report_on(&mut self, key: &str, why: String) {
        let setting = self.layers.get(key);
        self.report(key, setting, why);
    }

    fn secret(&mut self, key: &str) -> SecretSource {
        let file_key = format!("{key}_file");
        let value = self.get(key, |v| {
            let s = text(v)?;
            if s.len() < MIN_SECRET_LEN {
                return Err(format!(
                    "too short: use at least {MIN_SECRET_LEN} characters"
                ));
            }
            Ok(s.to_string())
        });
        let file = self.get(&file_key, path);
        let both = self.layers.get(key).is_some() && self.layers.get(&file_key).is_some();
        if both {
            self.report_on(
                &file_key,
                format!("conflicts with {key}: set only one of them"),
            );
        }
        match (value, file) {
            (Some(v), None) => SecretSource::Value(v),
            (None, Some(p)) => {
                let origin = self.layers.get(&file_key).map(|s| s.origin.clone());
                SecretSource::File(p, origin.unwrap_or(Origin::Default))
            }
            _ => SecretSource::Unset,
        }
    }
}

/// Checks every layered setting; `Err` lists every problem, including those found while layering.
pub(crate) fn validate(layers: &Layers) -> Result<Validated, ConfigError> {
    let mut c = Checker {
        layers,
        problems: layers.problems.clone(),
    };
    let listen = c.get("server.listen", addr);
    let public_url = c.get("server.public_url", public_url);
    let seconds = |c: &mut Checker, key, default| {
        Duration::from_secs(c.get(key, positive).unwrap_or(default))
    };
    let limits = ConnectionLimits {
        header_read_timeout: seconds(
            &mut c,
            "server.header_read_timeout",
            defaults::HEADER_READ_TIMEOUT,
        ),
        idle_timeout: seconds(&mut c, "server.idle_timeout", defaults::IDLE_TIMEOUT),
        body_stall_timeout: seconds(
            &mut c,
            "server.body_stall_timeout",
            defaults::BODY_STALL_TIMEOUT,
        ),
        max_connections: c
            .get("server.max_connections", positive)
            .unwrap_or(defaults::MAX_CONNECTIONS) as usize,
    };
    let data_root = c.get("storage.data_root", path);
    let storage_id = c.get("storage.storage_id", uuid);
    let metadata_url = c.get("storage.metadata_url", metadata_url);
    c.get("storage.blob_backend", blob_backend);
    let blob_path = c.get("storage.blob_path", path);
    let token_secret = c.secret("auth.token_secret");
    let oidc = oidc_settings(&mut c);
    let transfer_secret = c.secret("tus.transfer_secret");
    let upload_expiry = c
        .get("tus.upload_expiry", positive)
        .map(Duration::from_secs);
    let sweep_interval = c
        .get("tus.sweep_interval", positive)
        .map(Duration::from_secs);
    let max_upload_size = c.get("tus.max_upload_size", positive);
    let max_chunk_size = c.get("tus.max_chunk_size", positive);
    let checksum_algorithms = c.get("tus.checksum_algorithms", checksums);
    let cors_origins = c.get("cors.origins", origins);
    let log_format = c.get("log.format", log_format);
    let propfind_depth_infinity = c.get("dav.propfind_depth_infinity", boolean);
    let retention = Retention {
        trash: Duration::from_secs(
            c.get("trash.retention", positive)
                .unwrap_or(defaults::TRASH_RETENTION),
        ),
        versions_max_count: c
            .get("versions.max_count", positive)
            .unwrap_or(defaults::VERSIONS_MAX_COUNT),
        versions_max_age: Duration::from_secs(
            c.get("versions.max_age", positive)
                .unwrap_or(defaults::VERSIONS_MAX_AGE),
        ),
    };
    let sharing = sharing_policy(&mut c);
    let web_assets_path = c.get("web.assets_path", path);
    let admin_password = c.get("admin.password", |v| {
        let s = text(v)?;
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        Ok(s.to_string())
    });

    let metrics_token = c.get("metrics.token", |v| {
        let s = text(v)?;
        if s.len() < MIN_SECRET_LEN {
            return Err(format!(
                "too short: use at least {MIN_SECRET_LEN} characters"
            ));
        }
        Ok(s.to_string())
    });

    let max_upload_size = max_upload_size.unwrap_or(defaults::MAX_UPLOAD_SIZE);
    let max_chunk_size = max_chunk_size.unwrap_or(defaults::MAX_CHUNK_SIZE);
    if max_chunk_size > max_upload_size {
        c.report_on(
            "tus.max_chunk_size",
            format!("must not exceed tus.max_upload_size ({max_upload_size})"),
        );
    }

    let settings = Validated {
        listen: listen.unwrap_or_else(|| defaults::LISTEN.parse().expect("valid default")),
        public_url,
        limits,
        data_root: data_root.unwrap_or_else(|| defaults::DATA_ROOT.into()),
        storage_id,
        metadata_url,
        blobs: BlobConfig::Local { path: blob_path },
        token_secret,
        transfer_secret,
        upload_expiry: upload_expiry.unwrap_or(Duration::from_secs(defaults::UPLOAD_EXPIRY)),
        sweep_interval: sweep_interval.unwrap_or(Duration::from_secs(defaults::SWEEP_INTERVAL)),
        max_upload_size,
        max_chunk_size,
        checksum_algorithms: checksum_algorithms.unwrap_or_else(|| {
            defaults::CHECKSUM_ALGORITHMS
                .iter()
                .map(|s| s.to_string())
                .collect()
        }),
        cors_origins: cors_origins.unwrap_or_default(),
        log_format: log_format.unwrap_or_default(),
        propfind_depth_infinity: propfind_depth_infinity.unwrap_or(false),
        retention,
        sharing,
        web_assets_path,
        admin_password,
        metrics_token,
        oidc,
    };
    if c.problems.is_empty() {
        Ok(settings)
    } else {
        Err(ConfigError {
            problems: c.problems,
        })
    }
}

/// The `auth.oidc_*` keys.
fn oidc_settings(c: &mut Checker<'_>) -> OidcConfig {
    let d = OidcConfig::default();
    let issuer = c.get("auth.oidc_issuer", public_url);
    let audience = c.get("auth.oidc_audience", |v| {
        let l = list(v)?;
        if l.is_empty() {
            return Err("must name at least one audience".into());
        }
        Ok(l)
    });
    let user_claim = c.get("auth.oidc_user_claim", |v| non_empty(v).map(str::to_string));
    let autoprovision = c.get("auth.oidc_autoprovision", boolean);
    let access = c.get("auth.oidc_access_token_ttl", positive);
    let refresh = c.get("auth.oidc_refresh_token_ttl", positive);
    let clients = c.get("auth.oidc_clients", oidc::clients);
    OidcConfig {
        issuer,
        audience: audience.unwrap_or(d.audience),
        user_claim: user_claim.unwrap_or(d.user_claim),
        autoprovision: autoprovision.unwrap_or(d.autoprovision),
        clients: clients.unwrap_or_default(),
        access_token_ttl: access.map_or(d.access_token_ttl, Duration::from_secs),
        refresh_token_ttl: refresh.map_or(d.refresh_token_ttl, Duration::from_secs),
        code_ttl: d.code_ttl,
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;

/// The link password kinds `files_sharing.public.password.enforced_for` knows.
pub const LINK_KINDS: [&str; 4] = [
    "read_only",
    "upload_only",
    "read_write",
    "read_write_delete",
];

/// `[sharing]`: known link kinds only; an enforced expiry needs its number of days.
fn sharing_policy(c: &mut Checker) -> SharingPolicy {
    let kinds = c
        .get("sharing.link_password_enforced_for", |v| {
            let kinds = list(v)?;
            match kinds.iter().find(|k| !LINK_KINDS.contains(&k.as_str())) {
                Some(k) => Err(format!(
                    "unknown link kind {k:?}: expected some of {}",
                    LINK_KINDS.join(", ")
                )),
                None => Ok(kinds),
            }
        })
        .unwrap_or_default();
    let mut expiry = |what: &str| {
        let days = c.get(&format!("sharing.{what}_expiry_days"), positive);
        let enforced = c
            .get(&format!("sharing.{what}_expiry_enforced"), boolean)
            .unwrap_or(false);
        if enforced && days.is_none() {
            c.report_on(
                &format!("sharing.{what}_expiry_enforced"),
                format!("needs sharing.{what}_expiry_days (the longest expiry allowed)"),
            );
        }
        (days, enforced)
    };
    let (link_expiry_days, link_expiry_enforced) = expiry("link");
    let (share_expiry_days, share_expiry_enforced) = expiry("share");
    SharingPolicy {
        link_password_enforced_for: kinds,
        link_expiry_days,
        link_expiry_enforced,
        share_expiry_days,
        share_expiry_enforced,
    }
}
