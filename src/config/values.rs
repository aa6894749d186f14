//! The raw config value ([`RawValue`]) and the parsers of single raw values (text, numbers,
//! lists, URLs, addresses, ...), each returning the reason a value is refused; `validate`
//! applies them key by key.

use std::net::SocketAddr;
use std::path::PathBuf;

use uuid::Uuid;

use super::LogFormat;

/// A value before interpretation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawValue {
    /// From the TOML file, with its TOML type.
    Toml(toml::Value),
    /// From env or a flag: always a string.
    Text(String),
}

/// Checksum algorithms the server can compute.
pub(crate) const KNOWN_CHECKSUMS: &[&str] = &["md5", "sha1", "adler32", "sha256"];

/// A raw value as the operator wrote it.
pub(super) fn show(value: &RawValue) -> String {
    match value {
        RawValue::Toml(v) => v.to_string(),
        RawValue::Text(s) => format!("{s:?}"),
    }
}

pub(super) fn type_name(v: &toml::Value) -> &'static str {
    v.type_str()
}

pub(super) fn text(v: &RawValue) -> Result<&str, String> {
    match v {
        RawValue::Toml(toml::Value::String(s)) | RawValue::Text(s) => Ok(s),
        RawValue::Toml(other) => Err(format!("expected a string, found {}", type_name(other))),
    }
}

pub(super) fn non_empty(v: &RawValue) -> Result<&str, String> {
    let s = text(v)?;
    if s.trim().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(s)
}

pub(super) fn list(v: &RawValue) -> Result<Vec<String>, String> {
    match v {
        RawValue::Toml(toml::Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                toml::Value::String(s) => Ok(s.clone()),
                other => Err(format!(
                    "expected a list of strings, found {}",
                    type_name(other)
                )),
            })
            .collect(),
        // Env and flags spell lists comma-separated.
        RawValue::Text(s) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()),
        RawValue::Toml(other) => Err(format!("expected a list, found {}", type_name(other))),
    }
}

pub(super) fn addr(v: &RawValue) -> Result<SocketAddr, String> {
    let s = non_empty(v)?;
    s.trim()
        .parse()
        .map_err(|_| "not an IP:PORT address (e.g. 127.0.0.1:9200)".to_string())
}

pub(super) fn http_url(s: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".into());
    }
    if url.host().is_none() {
        return Err("must name a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    Ok(url)
}

pub(super) fn public_url(v: &RawValue) -> Result<url::Url, String> {
    http_url(non_empty(v)?)
}

pub(super) fn path(v: &RawValue) -> Result<PathBuf, String> {
    Ok(PathBuf::from(non_empty(v)?))
}

pub(super) fn uuid(v: &RawValue) -> Result<Uuid, String> {
    Uuid::parse_str(non_empty(v)?.trim()).map_err(|_| "not a UUID".into())
}

pub(super) fn metadata_url(v: &RawValue) -> Result<String, String> {
    let s = non_empty(v)?.trim();
    if !crate::spaces::is_metadata_url(s) {
        return Err("unsupported database URL: expected sqlite:// or postgres://".into());
    }
    Ok(s.to_string())
}

pub(super) fn blob_backend(v: &RawValue) -> Result<super::BlobBackend, String> {
    match text(v)? {
        "local" => Ok(super::BlobBackend::Local),
        "s3" => Ok(super::BlobBackend::S3),
        _ => Err("unknown blob backend: expected \"local\" or \"s3\"".into()),
    }
}

pub(super) fn positive(v: &RawValue) -> Result<u64, String> {
    let n: i64 = match v {
        RawValue::Toml(toml::Value::Integer(n)) => *n,
        RawValue::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| "expected a whole number".to_string())?,
        RawValue::Toml(other) => {
            return Err(format!("expected an integer, found {}", type_name(other)));
        }
    };
    u64::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| "must be greater than zero".into())
}

pub(super) fn boolean(v: &RawValue) -> Result<bool, String> {
    match v {
        RawValue::Toml(toml::Value::Boolean(b)) => Ok(*b),
        RawValue::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err("expected true or false".into()),
        },
        RawValue::Toml(other) => Err(format!(
            "expected true or false, found {}",
            type_name(other)
        )),
    }
}

pub(super) fn log_format(v: &RawValue) -> Result<LogFormat, String> {
    match text(v)?.trim() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err("expected \"text\" or \"json\"".into()),
    }
}

pub(super) fn checksums(v: &RawValue) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for name in list(v)? {
        let name = name.to_ascii_lowercase();
        if !KNOWN_CHECKSUMS.contains(&name.as_str()) {
            return Err(format!(
                "unknown checksum algorithm {name:?}: expected some of {}",
                KNOWN_CHECKSUMS.join(", ")
            ));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

pub(super) fn origins(v: &RawValue) -> Result<Vec<String>, String> {
    list(v)?
        .into_iter()
        .map(|o| {
            if o == "*" {
                return Ok(o);
            }
            let url = http_url(&o).map_err(|why| format!("origin {o:?}: {why}"))?;
            if url.path() != "/" {
                return Err(format!("origin {o:?}: must not have a path"));
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}
