//! Interpreting the raw layered settings: every key is parsed and checked on its own by its
//! codec from the key table (the `special` ones by name here), then the cross-key rules run,
//! and all problems are returned together, each with its origin. Pure: no file system, no env.

use std::ops::Deref;
use std::path::PathBuf;

use uuid::Uuid;

use super::codec::{Codec, Secret};
use super::keys::{self, KEYS};
use super::layers::{ConfigError, Layers, Origin, Problem, Setting};
use super::values::{RawValue, path, show, uuid};
use super::{Config, default_metadata_url};

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
/// and the storage id), which `config` holds as placeholders until `load` resolves them.
/// Named apart from `tus::Settings`, the upload service's limits.
#[derive(Debug, Clone)]
pub(crate) struct Validated {
    /// Every key parsed into its field; defaults for the keys no layer set.
    pub config: Config,
    pub storage_id: Option<Uuid>,
    pub token_secret: SecretSource,
    pub transfer_secret: SecretSource,
}

impl Deref for Validated {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.config
    }
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
        let secret = keys::is_secret(key);
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
        let value = self.get(key, Secret::parse);
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

/// With `storage.blob_backend = "s3"`, the bucket must be named completely.
fn check_object_store(c: &mut Checker<'_>, s: &super::ObjectStoreConfig) {
    if s.backend != super::BlobBackend::S3 {
        return;
    }
    let needed = "needed with storage.blob_backend = \"s3\"";
    for (key, missing) in [
        ("storage.s3_endpoint", s.s3_endpoint.is_none()),
        ("storage.s3_bucket", s.s3_bucket.is_empty()),
        ("storage.s3_access_key", s.s3_access_key.is_empty()),
        (
            "storage.s3_secret_key",
            s.s3_secret_key.is_none() && s.s3_secret_key_file.is_none(),
        ),
    ] {
        if missing {
            c.report_on(key, needed.into());
        }
    }
    if s.s3_secret_key.is_some() && s.s3_secret_key_file.is_some() {
        c.report_on(
            "storage.s3_secret_key_file",
            "conflicts with storage.s3_secret_key: set only one of them".into(),
        );
    }
}

/// Checks every layered setting; `Err` lists every problem, including those found while layering.
pub(crate) fn validate(layers: &Layers) -> Result<Validated, ConfigError> {
    let mut c = Checker {
        layers,
        problems: layers.problems.clone(),
    };
    let mut config = Config::blank();
    let (mut storage_id, mut token_secret, mut transfer_secret) =
        (None, SecretSource::Unset, SecretSource::Unset);
    // In table order, so that problems come in the order of `config/spacedav.toml`.
    for key in KEYS {
        let dotted = key.dotted();
        match (key.parse, dotted.as_str()) {
            (Some(parse), _) => {
                if let Some(setting) = layers.get(&dotted)
                    && let Err(why) = parse(&setting.value, &mut config)
                {
                    c.report(&dotted, Some(setting), why);
                }
            }
            (None, "storage.storage_id") => storage_id = c.get(&dotted, uuid),
            (None, "auth.token_secret") => token_secret = c.secret(&dotted),
            (None, "tus.transfer_secret") => transfer_secret = c.secret(&dotted),
            // Checked with their secret by `Checker::secret`.
            (None, _) => debug_assert!(dotted.ends_with("_secret_file"), "{dotted}"),
        }
    }
    if config.metadata_url.is_empty() {
        config.metadata_url = default_metadata_url(&config.data_root);
    }
    check_object_store(&mut c, &config.object_store);
    if config.max_chunk_size > config.max_upload_size {
        c.report_on(
            "tus.max_chunk_size",
            format!(
                "must not exceed tus.max_upload_size ({})",
                config.max_upload_size
            ),
        );
    }
    for what in ["link", "share"] {
        let enforced = format!("sharing.{what}_expiry_enforced");
        let days = format!("sharing.{what}_expiry_days");
        let (set, on) = match what {
            "link" => (
                config.sharing.link_expiry_days.is_some(),
                config.sharing.link_expiry_enforced,
            ),
            _ => (
                config.sharing.share_expiry_days.is_some(),
                config.sharing.share_expiry_enforced,
            ),
        };
        if on && !set {
            c.report_on(
                &enforced,
                format!("needs {days} (the longest expiry allowed)"),
            );
        }
    }
    if c.problems.is_empty() {
        Ok(Validated {
            config,
            storage_id,
            token_secret,
            transfer_secret,
        })
    } else {
        Err(ConfigError {
            problems: c.problems,
        })
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
