//! The one declaration of every configuration key. A line of [`KEYS`] names the key's TOML
//! section and name (and so its env variable `SPACEDAV_<SECTION>_<NAME>`), its command-line
//! flag if it has one, the [`Codec`] that parses, validates and shows its value (and says
//! whether it is secret), its default and the `Config` field it sets. File, env and flag layers
//! resolve keys through this table; `validate` parses every key through it, `Config`'s
//! defaults (`for_data_root`), its redacted `Debug` and `check-config`'s effective output are
//! generated from it. Rules between keys (a chunk no larger than the upload, an enforced
//! expiry needs its days, a secret or its file) stay in `validate`.
//!
//! A new key takes four places (eight before: `keys.rs`, `validate.rs`, the validated struct,
//! `Config`, `for_data_root`, the `Debug` impl, the TOML file and the README):
//! 1. its line here;
//! 2. its typed field in `Config`'s group (`limits`, `retention`, `sharing`, `oidc`), which
//!    derives `Default`; a field directly on `Config` also needs its placeholder in the one
//!    `Config` literal, `Config::blank` (five places then);
//! 3. its documented line in `config/spacedav.toml`;
//! 4. its row in the README's configuration table (a test checks 3 and 4).
//!
//! For example, a `[server] max_headers` count defaulting to 100 is the line
//!
//! ```text
//! server.max_headers { Count = 100 => (limits.max_headers) }
//! ```
//!
//! plus `pub max_headers: u64` in `ConnectionLimits`, `max_headers = 100` under `[server]` in
//! the TOML file and a README row beginning ``| `server.max_headers` |
//! `SPACEDAV_SERVER_MAX_HEADERS` |``; its env variable, parsing, problem report with origin,
//! default, `Debug` and `check-config` line then follow from the table. An
//! optional key uses `Opt<Codec> = None` and may say what its absence means (`unset "..."`).
//! The few keys resolved with the file system or by a rule of their own (the storage id, the
//! token and transfer secrets and their `*_file` paths, the blob backend) are declared
//! `special` and handled by name in `validate`, `config.rs` and `effective`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::codec::{
    Addr, Audiences, Backend, Blobs, Bool, Checksums, Clients, Codec, Count, Format, LinkKinds,
    MetadataUrl, Opt, Origins, Password, Path, Seconds, Secret, Shown, Size, Text, Url,
};
use super::values::RawValue;
use super::{BlobBackend, BlobConfig, Config, LogFormat};

/// Parses a raw value into a key's `Config` field, or says why it is refused.
pub(crate) type Parse = fn(&RawValue, &mut Config) -> Result<(), String>;

/// One configuration key.
pub(crate) struct Key {
    pub section: &'static str,
    pub name: &'static str,
    /// The command-line flag that sets it, if any.
    pub flag: Option<&'static str>,
    /// Never echoed in problems, `check-config` or `Debug`.
    pub secret: bool,
    /// Parses a raw value into its `Config` field; `None` for a `special` key.
    pub parse: Option<Parse>,
    /// Sets the default into its `Config` field; `None` for a `special` key.
    pub default: Option<fn(&mut Config)>,
    /// The value of its `Config` field as `check-config` shows it; `None` for a `special` key.
    pub show: Option<fn(&Config) -> Shown>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dotted())
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        (self.section, self.name) == (other.section, other.name)
    }
}

impl Key {
    /// `section.name`, the name used in messages.
    pub fn dotted(&self) -> String {
        format!("{}.{}", self.section, self.name)
    }

    /// `SPACEDAV_SECTION_NAME`.
    pub fn env_var(&self) -> String {
        format!("{ENV_PREFIX}{}_{}", self.section, self.name).to_ascii_uppercase()
    }
}

/// Prefix of every environment variable the loader reads.
pub(crate) const ENV_PREFIX: &str = "SPACEDAV_";

/// `None`, or `Some` of the given optional part of a declaration.
macro_rules! opt {
    () => {
        None
    };
    ($value:expr) => {
        Some($value)
    };
}

/// One [`Key`] from its declaration (see the module doc for the grammar).
macro_rules! key {
    ($section:ident . $name:ident special) => {
        key!(@special $section . $name, false)
    };
    ($section:ident . $name:ident special secret) => {
        key!(@special $section . $name, true)
    };
    (@special $section:ident . $name:ident, $secret:expr) => {
        Key {
            section: stringify!($section),
            name: stringify!($name),
            flag: None,
            secret: $secret,
            parse: None,
            default: None,
            show: None,
        }
    };
    ($section:ident . $name:ident $codec:ty = $default:expr => ($($field:ident).+)
        $(, flag $flag:literal)? $(, unset $note:literal)?) => {
        Key {
            section: stringify!($section),
            name: stringify!($name),
            flag: opt!($($flag)?),
            secret: <$codec as Codec>::SECRET,
            parse: Some(|raw: &RawValue, config: &mut Config| -> Result<(), String> {
                config.$($field).+ = <$codec as Codec>::parse(raw)?;
                Ok(())
            }),
            default: Some(|config: &mut Config| config.$($field).+ = $default),
            show: Some(|config: &Config| -> Shown {
                let note: Option<&'static str> = opt!($($note)?);
                match (<$codec as Codec>::show(&config.$($field).+), note) {
                    (Shown::Note(_), Some(note)) => Shown::Note(note.into()),
                    (shown, _) => shown,
                }
            }),
        }
    };
}

/// The list of [`Key`]s, one `section.name { declaration }` each.
macro_rules! keys {
    ($($section:ident . $name:ident { $($decl:tt)* })*) => {
        &[$(key!($section . $name $($decl)*)),*]
    };
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const DAY: u64 = 24 * 3600;

/// Every key, in the order of `config/spacedav.toml`.
pub(crate) const KEYS: &[Key] = keys! {
    server.listen { Addr = "127.0.0.1:9200".parse().expect("valid default") => (listen),
        flag "--listen" }
    server.public_url { Opt<Url> = None => (public_url), flag "--public-url",
        unset "unset: taken from each request's Host" }
    server.header_read_timeout { Seconds = secs(30) => (limits.header_read_timeout) }
    server.idle_timeout { Seconds = secs(60) => (limits.idle_timeout) }
    server.body_stall_timeout { Seconds = secs(60) => (limits.body_stall_timeout) }
    server.max_connections { Size = 4096 => (limits.max_connections) }
    storage.data_root { Path = PathBuf::from("spaces") => (data_root), flag "--data-root" }
    storage.storage_id { special }
    // Empty until `validate` puts `sqlite://{data_root}/spacedav.db` there.
    storage.metadata_url { MetadataUrl = String::new() => (metadata_url) }
    storage.blob_backend { Backend = BlobBackend::Local => (object_store.backend) }
    storage.blob_path { Blobs = BlobConfig::Local { path: None } => (blobs) }
    storage.s3_endpoint { Opt<Url> = None => (object_store.s3_endpoint),
        unset "unset: needed with blob_backend = \"s3\"" }
    storage.s3_region { Text = "us-east-1".into() => (object_store.s3_region) }
    storage.s3_bucket { Text = String::new() => (object_store.s3_bucket) }
    storage.s3_path_style { Bool = true => (object_store.s3_path_style) }
    storage.s3_access_key { Text = String::new() => (object_store.s3_access_key) }
    storage.s3_secret_key { Opt<Password> = None => (object_store.s3_secret_key) }
    storage.s3_secret_key_file { Opt<Path> = None => (object_store.s3_secret_key_file) }
    auth.token_secret { special secret }
    auth.token_secret_file { special }
    auth.oidc_issuer { Opt<Url> = None => (oidc.issuer), unset "unset: the built-in provider" }
    auth.oidc_audience { Audiences = strings(&["web"]) => (oidc.audience) }
    // The claim oCIS reads too.
    auth.oidc_user_claim { Text = "preferred_username".into() => (oidc.user_claim) }
    auth.oidc_autoprovision { Bool = false => (oidc.autoprovision) }
    // oCIS's IdP defaults.
    auth.oidc_access_token_ttl { Seconds = secs(300) => (oidc.access_token_ttl) }
    auth.oidc_refresh_token_ttl { Seconds = secs(30 * DAY) => (oidc.refresh_token_ttl) }
    auth.oidc_clients { Clients = Vec::new() => (oidc.clients) }
    tus.transfer_secret { special secret }
    tus.transfer_secret_file { special }
    tus.upload_expiry { Seconds = secs(DAY) => (upload_expiry) }
    tus.sweep_interval { Seconds = secs(3600) => (sweep_interval) }
    tus.max_upload_size { Count = 1 << 40 => (max_upload_size) }
    // The value oCIS advertises.
    tus.max_chunk_size { Count = 10_000_000 => (max_chunk_size) }
    tus.checksum_algorithms { Checksums = strings(&["md5", "sha1", "adler32"])
        => (checksum_algorithms) }
    cors.origins { Origins = Vec::new() => (cors_origins) }
    log.format { Format = LogFormat::Text => (log_format), flag "--log-format" }
    dav.propfind_depth_infinity { Bool = false => (propfind_depth_infinity) }
    trash.retention { Seconds = secs(30 * DAY) => (retention.trash) }
    versions.max_count { Count = 100 => (retention.versions_max_count) }
    versions.max_age { Seconds = secs(365 * DAY) => (retention.versions_max_age) }
    sharing.link_password_enforced_for { LinkKinds = Vec::new()
        => (sharing.link_password_enforced_for) }
    sharing.link_expiry_days { Opt<Count> = None => (sharing.link_expiry_days),
        unset "unset: links expire only when asked" }
    sharing.link_expiry_enforced { Bool = false => (sharing.link_expiry_enforced) }
    sharing.share_expiry_days { Opt<Count> = None => (sharing.share_expiry_days),
        unset "unset: shares expire only when asked" }
    sharing.share_expiry_enforced { Bool = false => (sharing.share_expiry_enforced) }
    web.assets_path { Opt<Path> = None => (web_assets_path), flag "--web-assets",
        unset "unset: a landing page at /" }
    admin.password { Opt<Password> = None => (admin_password), unset "unset: random, printed once" }
    metrics.token { Opt<Secret> = None => (metrics_token), unset "unset: /metrics is anonymous" }
};

/// The key `section.name`, if there is one.
pub(crate) fn find(section: &str, name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.section == section && k.name == name)
}

/// The key whose env variable is `var`, if there is one.
pub(crate) fn by_env_var(var: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.env_var() == var)
}

/// The key the command-line flag `flag` sets.
pub(crate) fn by_flag(flag: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.flag == Some(flag))
}

/// Whether `section` is a known TOML table.
pub(crate) fn is_section(section: &str) -> bool {
    KEYS.iter().any(|k| k.section == section)
}

/// Whether `dotted` names a secret key (or one whose value holds secrets).
pub(crate) fn is_secret(dotted: &str) -> bool {
    KEYS.iter().any(|k| k.secret && k.dotted() == dotted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names_follow_section_and_key() {
        assert_eq!(
            find("tus", "transfer_secret_file").unwrap().env_var(),
            "SPACEDAV_TUS_TRANSFER_SECRET_FILE"
        );
        assert_eq!(
            find("server", "listen").unwrap().env_var(),
            "SPACEDAV_SERVER_LISTEN"
        );
        assert_eq!(
            find("admin", "password").unwrap().env_var(),
            "SPACEDAV_ADMIN_PASSWORD"
        );
    }

    /// The keys of `section` that the TOML text sets or shows commented out (`# name = `).
    fn toml_keys_in(toml: &str, section: &str) -> Vec<String> {
        let mut current = "";
        let mut out = Vec::new();
        for line in toml.lines() {
            let line = line.trim();
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                current = name;
            } else if current == section {
                let bare = line.strip_prefix("# ").unwrap_or(line);
                let is_key = |n: &str| {
                    n.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                };
                match bare.split_once(" = ") {
                    Some((name, _)) if !name.is_empty() && is_key(name) => {
                        out.push(name.to_string())
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Every key is documented where operators look (issue 16): in the shipped
    /// `config/spacedav.toml` (set or commented) and as a row of the README's configuration
    /// table with its env variable; and neither documents a key that does not exist.
    #[test]
    fn every_key_is_documented_in_the_toml_file_and_the_readme_table() {
        let toml = include_str!("../../config/spacedav.toml");
        let readme = include_str!("../../README.md");
        for k in KEYS {
            assert!(
                toml_keys_in(toml, k.section).contains(&k.name.to_string()),
                "config/spacedav.toml lacks {}",
                k.dotted()
            );
            let row = format!("| `{}` | `{}` |", k.dotted(), k.env_var());
            assert!(readme.contains(&row), "README's config table lacks {row}");
        }
        let sections: Vec<&str> = KEYS.iter().map(|k| k.section).collect();
        for section in sections {
            for name in toml_keys_in(toml, section) {
                assert!(
                    find(section, &name).is_some(),
                    "config/spacedav.toml documents an unknown key {section}.{name}"
                );
            }
        }
    }

    #[test]
    fn env_var_names_are_unambiguous() {
        for k in KEYS {
            assert_eq!(by_env_var(&k.env_var()), Some(k), "{}", k.dotted());
        }
    }
}
