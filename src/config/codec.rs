//! What kind of value a configuration key takes ([`Codec`]): how a raw TOML value or env
//! string becomes the typed value `Config` holds, and how that value is shown again (in
//! `check-config` and `Debug`), secrets redacted. The key table (`keys.rs`) names one codec
//! per key; the single-value parsers live in `values.rs`.

use std::fmt;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::oidc::{self, OidcClientConfig};
use super::values::{self, RawValue};
use super::{BlobConfig, LogFormat};

/// Secrets shorter than this are refused: an HS256 key should not be guessable.
pub(crate) const MIN_SECRET_LEN: usize = 16;

/// The link password kinds `files_sharing.public.password.enforced_for` knows.
pub const LINK_KINDS: [&str; 4] = [
    "read_only",
    "upload_only",
    "read_write",
    "read_write_delete",
];

/// What `check-config` prints for a key: a TOML value, or a note when it has none.
pub(crate) enum Shown {
    Value(toml::Value),
    Note(String),
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shown::Value(v) => write!(f, "{v}"),
            Shown::Note(note) => write!(f, "({note})"),
        }
    }
}

/// Shown in place of a secret.
pub(crate) const REDACTED: &str = "<redacted>";

/// A string value.
pub(crate) fn s(v: impl ToString) -> Shown {
    Shown::Value(toml::Value::String(v.to_string()))
}

fn int(n: u64) -> Shown {
    Shown::Value(toml::Value::Integer(i64::try_from(n).unwrap_or(i64::MAX)))
}

fn strings(items: &[String]) -> Shown {
    Shown::Value(toml::Value::Array(
        items.iter().cloned().map(toml::Value::String).collect(),
    ))
}

/// One kind of key value.
pub(crate) trait Codec {
    /// The typed value, as `Config` holds it.
    type Value;
    /// Whether the value is secret: never echoed in problems, `check-config` or `Debug`.
    const SECRET: bool = false;
    /// The value of a raw setting, or why it is refused.
    fn parse(raw: &RawValue) -> Result<Self::Value, String>;
    /// The value as `check-config` prints it.
    fn show(value: &Self::Value) -> Shown;
}

/// `IP:PORT`.
pub(crate) struct Addr;
impl Codec for Addr {
    type Value = SocketAddr;
    fn parse(raw: &RawValue) -> Result<SocketAddr, String> {
        values::addr(raw)
    }
    fn show(v: &SocketAddr) -> Shown {
        s(v)
    }
}

/// An absolute `http(s)` URL without query or fragment.
pub(crate) struct Url;
impl Codec for Url {
    type Value = url::Url;
    fn parse(raw: &RawValue) -> Result<url::Url, String> {
        values::public_url(raw)
    }
    fn show(v: &url::Url) -> Shown {
        s(v)
    }
}

/// A file-system path.
pub(crate) struct Path;
impl Codec for Path {
    type Value = PathBuf;
    fn parse(raw: &RawValue) -> Result<PathBuf, String> {
        values::path(raw)
    }
    fn show(v: &PathBuf) -> Shown {
        s(v.display())
    }
}

/// Whole seconds, greater than zero.
pub(crate) struct Seconds;
impl Codec for Seconds {
    type Value = Duration;
    fn parse(raw: &RawValue) -> Result<Duration, String> {
        values::positive(raw).map(Duration::from_secs)
    }
    fn show(v: &Duration) -> Shown {
        int(v.as_secs())
    }
}

/// A count or size, greater than zero.
pub(crate) struct Count;
impl Codec for Count {
    type Value = u64;
    fn parse(raw: &RawValue) -> Result<u64, String> {
        values::positive(raw)
    }
    fn show(v: &u64) -> Shown {
        int(*v)
    }
}

/// A count of things held in memory, greater than zero.
pub(crate) struct Size;
impl Codec for Size {
    type Value = usize;
    fn parse(raw: &RawValue) -> Result<usize, String> {
        let n = values::positive(raw)?;
        usize::try_from(n).map_err(|_| "too large".into())
    }
    fn show(v: &usize) -> Shown {
        int(*v as u64)
    }
}

/// `true` or `false`.
pub(crate) struct Bool;
impl Codec for Bool {
    type Value = bool;
    fn parse(raw: &RawValue) -> Result<bool, String> {
        values::boolean(raw)
    }
    fn show(v: &bool) -> Shown {
        Shown::Value(toml::Value::Boolean(*v))
    }
}

/// A non-empty string.
pub(crate) struct Text;
impl Codec for Text {
    type Value = String;
    fn parse(raw: &RawValue) -> Result<String, String> {
        values::non_empty(raw).map(str::to_string)
    }
    fn show(v: &String) -> Shown {
        s(v)
    }
}

/// `text` or `json`.
pub(crate) struct Format;
impl Codec for Format {
    type Value = LogFormat;
    fn parse(raw: &RawValue) -> Result<LogFormat, String> {
        values::log_format(raw)
    }
    fn show(v: &LogFormat) -> Shown {
        s(match v {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// A URL of the metadata database; shown with its password redacted.
pub(crate) struct MetadataUrl;
impl Codec for MetadataUrl {
    type Value = String;
    fn parse(raw: &RawValue) -> Result<String, String> {
        values::metadata_url(raw)
    }
    fn show(v: &String) -> Shown {
        match ::url::Url::parse(v) {
            Ok(mut parsed) if parsed.password().is_some() => {
                let _ = parsed.set_password(Some(REDACTED));
                s(parsed)
            }
            _ => s(v),
        }
    }
}

/// The blob backend (`storage.blob_backend`): `local` or `s3`.
pub(crate) struct Backend;
impl Codec for Backend {
    type Value = super::BlobBackend;
    fn parse(raw: &RawValue) -> Result<super::BlobBackend, String> {
        values::blob_backend(raw)
    }
    fn show(v: &super::BlobBackend) -> Shown {
        s(match v {
            super::BlobBackend::Local => "local",
            super::BlobBackend::S3 => "s3",
        })
    }
}

/// The directory of the local blob store (`storage.blob_path`); unset: `{data_root}/blobs`.
pub(crate) struct Blobs;
impl Codec for Blobs {
    type Value = BlobConfig;
    fn parse(raw: &RawValue) -> Result<BlobConfig, String> {
        values::path(raw).map(|path| BlobConfig::Local { path: Some(path) })
    }
    fn show(v: &BlobConfig) -> Shown {
        match v {
            BlobConfig::Local { path: Some(path) } => s(path.display()),
            BlobConfig::Local { path: None } => Shown::Note("unset: {data_root}/blobs".into()),
        }
    }
}

/// A list of at least one audience.
pub(crate) struct Audiences;
impl Codec for Audiences {
    type Value = Vec<String>;
    fn parse(raw: &RawValue) -> Result<Vec<String>, String> {
        let l = values::list(raw)?;
        if l.is_empty() {
            return Err("must name at least one audience".into());
        }
        Ok(l)
    }
    fn show(v: &Vec<String>) -> Shown {
        strings(v)
    }
}

/// Checksum algorithm names the server can compute, lower case, without repeats.
pub(crate) struct Checksums;
impl Codec for Checksums {
    type Value = Vec<String>;
    fn parse(raw: &RawValue) -> Result<Vec<String>, String> {
        values::checksums(raw)
    }
    fn show(v: &Vec<String>) -> Shown {
        strings(v)
    }
}

/// CORS origins (`*` or `scheme://host[:port]`).
pub(crate) struct Origins;
impl Codec for Origins {
    type Value = Vec<String>;
    fn parse(raw: &RawValue) -> Result<Vec<String>, String> {
        values::origins(raw)
    }
    fn show(v: &Vec<String>) -> Shown {
        strings(v)
    }
}

/// Link kinds as `files_sharing.public.password.enforced_for` names them.
pub(crate) struct LinkKinds;
impl Codec for LinkKinds {
    type Value = Vec<String>;
    fn parse(raw: &RawValue) -> Result<Vec<String>, String> {
        let kinds = values::list(raw)?;
        match kinds.iter().find(|k| !LINK_KINDS.contains(&k.as_str())) {
            Some(k) => Err(format!(
                "unknown link kind {k:?}: expected some of {}",
                LINK_KINDS.join(", ")
            )),
            None => Ok(kinds),
        }
    }
    fn show(v: &Vec<String>) -> Shown {
        strings(v)
    }
}

/// A non-empty secret (a password).
pub(crate) struct Password;
impl Codec for Password {
    type Value = String;
    const SECRET: bool = true;
    fn parse(raw: &RawValue) -> Result<String, String> {
        let s = values::text(raw)?;
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        Ok(s.to_string())
    }
    fn show(_: &String) -> Shown {
        s(REDACTED)
    }
}

/// A secret of at least [`MIN_SECRET_LEN`] characters (a key or bearer token).
pub(crate) struct Secret;
impl Codec for Secret {
    type Value = String;
    const SECRET: bool = true;
    fn parse(raw: &RawValue) -> Result<String, String> {
        let s = values::text(raw)?;
        if s.len() < MIN_SECRET_LEN {
            return Err(format!(
                "too short: use at least {MIN_SECRET_LEN} characters"
            ));
        }
        Ok(s.to_string())
    }
    fn show(_: &String) -> Shown {
        s(REDACTED)
    }
}

/// OpenID Connect clients (tables; a TOML inline array in env); they carry secrets.
pub(crate) struct Clients;
impl Codec for Clients {
    type Value = Vec<OidcClientConfig>;
    const SECRET: bool = true;
    fn parse(raw: &RawValue) -> Result<Vec<OidcClientConfig>, String> {
        oidc::clients(raw)
    }
    fn show(v: &Vec<OidcClientConfig>) -> Shown {
        if v.is_empty() {
            return Shown::Value(toml::Value::Array(Vec::new()));
        }
        let ids: Vec<&str> = v.iter().map(|c| c.id.as_str()).collect();
        Shown::Note(format!("clients {}, secrets redacted", ids.join(", ")))
    }
}

/// An optional value: unset unless a layer sets it.
pub(crate) struct Opt<C>(PhantomData<C>);
impl<C: Codec> Codec for Opt<C> {
    type Value = Option<C::Value>;
    const SECRET: bool = C::SECRET;
    fn parse(raw: &RawValue) -> Result<Self::Value, String> {
        C::parse(raw).map(Some)
    }
    fn show(v: &Self::Value) -> Shown {
        match v {
            Some(v) => C::show(v),
            None => Shown::Note("unset".into()),
        }
    }
}
