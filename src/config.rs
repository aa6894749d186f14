//! Typed configuration: defaults < `config/spacedav.toml` < `SPACEDAV_*` env < CLI flags.
//!
//! `Config` is the validated result the rest of the server reads; nothing else parses TOML or env.
//! Loading goes in three steps, each in its own module: `layers` stacks the raw values of every
//! source, `validate` interprets them and collects every problem, `secrets` reads `*_file`
//! secrets and generates/persists the storage id and secrets under the data root. `effective`
//! runs the same checks without writing, for `spacedav check-config`. Every key is declared
//! once, in `keys` (its names, codec, default and field); `Config` holds the typed values.

mod codec;
mod effective;
mod keys;
mod layers;
mod object_store;
mod oidc;
pub(crate) mod secrets;
mod validate;
mod values;

pub use crate::spaces::{SecretOrigin, StorageIdOrigin};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use effective::{Checked, check};
pub use layers::{ConfigError, ConfigFile, Origin, Overrides, Problem, Sources};
pub use object_store::{BlobBackend, ObjectStoreConfig};
pub use oidc::{OidcClientConfig, OidcConfig};

/// The embedded default configuration: every key, its default and what it means.
pub const DEFAULT_FILE: &str = include_str!("../config/spacedav.toml");

/// Where `spacedav serve` looks for its config file when `--config` is not given.
pub const DEFAULT_PATH: &str = "config/spacedav.toml";

/// How long the sweeper keeps what deleting and overwriting leave behind (issue 11).
/// `Default` is all zero; the defaults of the keys come from the key table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    /// `trash.retention`: age at which a trash item is purged.
    pub trash: Duration,
    /// `versions.max_count`: earlier contents kept per file.
    pub versions_max_count: u64,
    /// `versions.max_age`: age at which an earlier content is dropped.
    pub versions_max_age: Duration,
}

/// What sharing requires of new links and shares (issue 12), announced in the capabilities'
/// `files_sharing` and enforced by OCS and Graph alike.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SharingPolicy {
    /// `sharing.link_password_enforced_for`: the link kinds that need a password, named as
    /// `files_sharing.public.password.enforced_for` names them (`read_only`, `upload_only`,
    /// `read_write`, `read_write_delete`).
    pub link_password_enforced_for: Vec<String>,
    /// `sharing.link_expiry_days`: days until a new link expires when none is given.
    pub link_expiry_days: Option<u64>,
    /// `sharing.link_expiry_enforced`: every link expires within `link_expiry_days`.
    pub link_expiry_enforced: bool,
    /// `sharing.share_expiry_days`: days until a new user or group share expires by default.
    pub share_expiry_days: Option<u64>,
    /// `sharing.share_expiry_enforced`: every share expires within `share_expiry_days`.
    pub share_expiry_enforced: bool,
}

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

/// How long the HTTP server waits for a slow or silent client, and how many connections it
/// serves at once (`src/router/server.rs`). `Default` is all zero (see [`Retention`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionLimits {
    /// From the first byte of a request to its last header byte.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight and no byte received is closed after this.
    pub idle_timeout: Duration,
    /// A request body (PUT, tus PATCH, any) that delivers no byte for this long ends the
    /// request; a tus PATCH keeps the bytes it made durable.
    pub body_stall_timeout: Duration,
    /// Connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
}

/// The validated configuration of one server process. `Debug` redacts the secrets.
#[derive(Clone)]
pub struct Config {
    /// Address to bind (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Public base URL used in `Location`, `webDavUrl`, private links; `None` = from `Host`.
    pub public_url: Option<url::Url>,
    /// Timeouts and the connection cap of the HTTP server.
    pub limits: ConnectionLimits,
    /// Runtime data root (SQLite file, blobs, persisted secrets).
    pub data_root: PathBuf,
    /// Installation-wide storage id (first half of every space id).
    pub storage_id: Uuid,
    /// Where `storage_id` came from: a node must not serve an id the database disagrees with,
    /// unless it only just generated it (issue 14).
    pub storage_id_origin: StorageIdOrigin,
    /// Metadata database URL (`sqlite://…`).
    pub metadata_url: String,
    /// Blob backend.
    pub blobs: BlobConfig,
    /// Contents up to this many bytes are stored in the metadata database (0: none).
    pub inline_max_size: u64,
    /// Which blob store, and where an S3 bucket is.
    pub object_store: ObjectStoreConfig,
    /// HS256 secret for `/data/{token}` transfer tokens.
    pub transfer_secret: String,
    /// HS256 secret for Bearer user tokens (separate from the transfer secret).
    pub token_secret: String,
    /// Where `token_secret` came from: unless configured, the node takes the one the metadata
    /// database records (issue 14); so does `transfer_secret_origin`.
    pub token_secret_origin: SecretOrigin,
    /// Where `transfer_secret` came from.
    pub transfer_secret_origin: SecretOrigin,
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
    /// How long trash items and file versions are kept (`trash.*`, `versions.*`).
    pub retention: Retention,
    /// `[sharing]`: link passwords and expiry defaults.
    pub sharing: SharingPolicy,
    /// An unpacked ownCloud Web build served at `/`; `None` = a small landing page instead.
    pub web_assets_path: Option<PathBuf>,
    /// Password of the `admin` user created on first start; `None` = random, printed once.
    pub admin_password: Option<String>,
    /// Bearer token `/metrics` requires; `None` = anonymous (README "Operations").
    pub metrics_token: Option<String>,
    /// OpenID Connect: external issuer or the built-in provider's settings (`auth.oidc_*`).
    pub oidc: OidcConfig,
}

impl fmt::Debug for Config {
    /// Every key as `check-config` shows it (secrets redacted), then the resolved values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for key in keys::KEYS {
            if let Some(show) = key.show {
                map.entry(&key.dotted(), &format_args!("{}", show(self)));
            }
        }
        map.entry(&"storage.storage_id", &self.storage_id)
            .entry(&"auth.token_secret", &codec::REDACTED)
            .entry(&"tus.transfer_secret", &codec::REDACTED)
            .entry(&"oidc.code_ttl", &self.oidc.code_ttl)
            .finish()
    }
}

impl Config {
    /// Every key at its default; the storage id and secrets empty (resolved by `load`), the
    /// metadata URL empty (derived from the data root by `validate`).
    fn blank() -> Self {
        let mut config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            limits: ConnectionLimits::default(),
            data_root: PathBuf::new(),
            storage_id: Uuid::nil(),
            storage_id_origin: StorageIdOrigin::Configured,
            metadata_url: String::new(),
            blobs: BlobConfig::Local { path: None },
            inline_max_size: 0,
            object_store: ObjectStoreConfig::default(),
            transfer_secret: String::new(),
            token_secret: String::new(),
            token_secret_origin: SecretOrigin::Unset(None),
            transfer_secret_origin: SecretOrigin::Unset(None),
            upload_expiry: Duration::ZERO,
            sweep_interval: Duration::ZERO,
            max_upload_size: 0,
            max_chunk_size: 0,
            checksum_algorithms: Vec::new(),
            cors_origins: Vec::new(),
            log_format: LogFormat::Text,
            propfind_depth_infinity: false,
            retention: Retention::default(),
            sharing: SharingPolicy::default(),
            web_assets_path: None,
            admin_password: None,
            metrics_token: None,
            oidc: OidcConfig {
                code_ttl: Duration::from_secs(oidc::defaults::CODE_TTL),
                ..OidcConfig::default()
            },
        };
        for key in keys::KEYS {
            if let Some(default) = key.default {
                default(&mut config);
            }
        }
        config
    }

    /// A configuration for tests and embedding: everything default, data under `data_root`,
    /// fresh random secrets and storage id (the database's, when it records one), listening
    /// on `127.0.0.1:0`.
    pub fn for_data_root(data_root: impl Into<PathBuf>) -> Self {
        let data_root = data_root.into();
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            metadata_url: default_metadata_url(&data_root),
            data_root,
            storage_id: Uuid::new_v4(),
            storage_id_origin: StorageIdOrigin::Generated(None),
            transfer_secret: Uuid::new_v4().simple().to_string(),
            token_secret: Uuid::new_v4().simple().to_string(),
            ..Config::blank()
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

/// `sqlite://{data_root}/spacedav.db`, the metadata database when none is configured.
fn default_metadata_url(data_root: &Path) -> String {
    format!("sqlite://{}", data_root.join("spacedav.db").display())
}

/// A loaded configuration and what loading did that the operator should hear about (generated
/// secrets, ignored env variables); logged by the caller once logging is set up.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Notes for the start-up log; they never contain secrets.
    pub notes: Vec<String>,
}

/// Loads the configuration from `sources`: defaults < file < env < flags, validated, secrets
/// resolved. Reads no process state; touches the file system only to read `*_file` secrets and
/// to read or persist the generated storage id and secrets under the data root.
///
/// `Err` lists every problem found, each with its key, value, origin and reason.
pub fn load(sources: &Sources) -> Result<Loaded, ConfigError> {
    let layers = layers::collect(sources);
    let settings = validate::validate(&layers)?;
    let mut notes: Vec<String> = layers
        .unknown_env
        .iter()
        .map(|var| format!("ignoring environment variable {var}: it names no config key"))
        .collect();
    let root = &settings.data_root;
    let mut problems = Vec::new();
    // Resolve all three before failing, so one start-up reports every unreadable file.
    let (n, p) = (&mut notes, &mut problems);
    let storage = secrets::storage_id(settings.storage_id, root);
    let storage_id_origin = match (&storage, settings.storage_id) {
        (_, Some(_)) => StorageIdOrigin::Configured,
        (Ok((_, secrets::Provenance::Generated(path))), None) => {
            StorageIdOrigin::Generated(Some(path.clone()))
        }
        (_, None) => StorageIdOrigin::Persisted(secrets::storage_id_path(root)),
    };
    let storage_id = resolved("a storage id", storage, n, p);
    let token_secret = resolved(
        "the user-token secret",
        secrets::secret(&settings.token_secret, "auth.token_secret", root, "token"),
        n,
        p,
    );
    let transfer_secret = resolved(
        "the transfer-token secret",
        secrets::secret(
            &settings.transfer_secret,
            "tus.transfer_secret",
            root,
            "transfer",
        ),
        n,
        p,
    );
    let token_secret_origin =
        secrets::origin(&settings.token_secret, "auth.token_secret", root, "token");
    let transfer_secret_origin = secrets::origin(
        &settings.transfer_secret,
        "tus.transfer_secret",
        root,
        "transfer",
    );
    let (Some(storage_id), Some(token_secret), Some(transfer_secret)) =
        (storage_id, token_secret, transfer_secret)
    else {
        return Err(ConfigError { problems });
    };
    let config = Config {
        storage_id,
        storage_id_origin,
        token_secret,
        transfer_secret,
        token_secret_origin,
        transfer_secret_origin,
        ..settings.config
    };
    Ok(Loaded { config, notes })
}

/// The value of a resolved persisted setting, noting a generation and collecting a failure.
fn resolved<T>(
    what: &str,
    result: Result<(T, secrets::Provenance), Problem>,
    notes: &mut Vec<String>,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match result {
        Ok((value, secrets::Provenance::Existing)) => Some(value),
        Ok((value, secrets::Provenance::Generated(path))) => {
            notes.push(format!(
                "generated {what} and saved it to {}",
                path.display()
            ));
            Some(value)
        }
        Err(problem) => {
            problems.push(problem);
            None
        }
    }
}

impl Sources {
    /// Gathers the sources of a real process: the file at `path` (which must exist), else
    /// [`DEFAULT_PATH`] relative to the working directory if it exists, else none; every
    /// `SPACEDAV_*` environment variable; and the given flags.
    pub fn from_process(path: Option<&Path>, overrides: Overrides) -> Result<Self, ConfigError> {
        let file = match path {
            Some(path) => Some(read_file(path)?),
            None if Path::new(DEFAULT_PATH).is_file() => Some(read_file(Path::new(DEFAULT_PATH))?),
            None => None,
        };
        let env: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k.starts_with(keys::ENV_PREFIX))
            .collect();
        Ok(Sources {
            file,
            env,
            overrides,
        })
    }
}

fn read_file(path: &Path) -> Result<ConfigFile, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(ConfigFile {
            path: path.to_path_buf(),
            text,
        }),
        Err(e) => Err(ConfigError {
            problems: vec![Problem {
                key: "(file)".into(),
                value: String::new(),
                origin: Origin::File(path.to_path_buf()),
                why: format!("cannot read: {e}"),
            }],
        }),
    }
}

#[cfg(test)]
mod load_tests;
