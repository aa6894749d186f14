//! The table of every configuration key: its TOML section and name, its env variable and the
//! kind of value it takes. File, env and flag layers all resolve keys through this one table, so
//! a key cannot be known to one layer and unknown to another.

/// What kind of value a key takes; decides how raw TOML values and env strings are parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `IP:PORT`.
    Addr,
    /// Absolute `http(s)` URL without query or fragment.
    PublicUrl,
    /// A file-system path.
    Path,
    /// A UUID.
    Uuid,
    /// A URL of the metadata database.
    MetadataUrl,
    /// The blob backend name.
    BlobBackend,
    /// A secret string (never echoed in messages).
    Secret,
    /// Whole seconds, greater than zero.
    Seconds,
    /// A byte count, greater than zero.
    Bytes,
    /// A count of things, greater than zero.
    Count,
    /// A list of checksum algorithm names.
    Checksums,
    /// A list of CORS origins.
    Origins,
    /// `true` or `false`.
    Bool,
    /// `text` or `json`.
    LogFormat,
    /// A non-empty string.
    Text,
    /// A list of strings.
    List,
    /// A list of OpenID Connect client tables.
    OidcClients,
}

/// One configuration key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub section: &'static str,
    pub name: &'static str,
    pub kind: Kind,
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

const fn key(section: &'static str, name: &'static str, kind: Kind) -> Key {
    Key {
        section,
        name,
        kind,
    }
}

/// Every key, in the order of `config/spacedav.toml`.
pub(crate) const KEYS: &[Key] = &[
    key("server", "listen", Kind::Addr),
    key("server", "public_url", Kind::PublicUrl),
    key("server", "header_read_timeout", Kind::Seconds),
    key("server", "idle_timeout", Kind::Seconds),
    key("server", "body_stall_timeout", Kind::Seconds),
    key("server", "max_connections", Kind::Count),
    key("storage", "data_root", Kind::Path),
    key("storage", "storage_id", Kind::Uuid),
    key("storage", "metadata_url", Kind::MetadataUrl),
    key("storage", "blob_backend", Kind::BlobBackend),
    key("storage", "blob_path", Kind::Path),
    key("auth", "token_secret", Kind::Secret),
    key("auth", "token_secret_file", Kind::Path),
    key("auth", "oidc_issuer", Kind::PublicUrl),
    key("auth", "oidc_audience", Kind::List),
    key("auth", "oidc_user_claim", Kind::Text),
    key("auth", "oidc_autoprovision", Kind::Bool),
    key("auth", "oidc_access_token_ttl", Kind::Seconds),
    key("auth", "oidc_refresh_token_ttl", Kind::Seconds),
    key("auth", "oidc_clients", Kind::OidcClients),
    key("tus", "transfer_secret", Kind::Secret),
    key("tus", "transfer_secret_file", Kind::Path),
    key("tus", "upload_expiry", Kind::Seconds),
    key("tus", "sweep_interval", Kind::Seconds),
    key("tus", "max_upload_size", Kind::Bytes),
    key("tus", "max_chunk_size", Kind::Bytes),
    key("tus", "checksum_algorithms", Kind::Checksums),
    key("cors", "origins", Kind::Origins),
    key("log", "format", Kind::LogFormat),
    key("dav", "propfind_depth_infinity", Kind::Bool),
    key("trash", "retention", Kind::Seconds),
    key("versions", "max_count", Kind::Count),
    key("versions", "max_age", Kind::Seconds),
    key("sharing", "link_password_enforced_for", Kind::List),
    key("sharing", "link_expiry_days", Kind::Count),
    key("sharing", "link_expiry_enforced", Kind::Bool),
    key("sharing", "share_expiry_days", Kind::Count),
    key("sharing", "share_expiry_enforced", Kind::Bool),
    key("web", "assets_path", Kind::Path),
    key("admin", "password", Kind::Secret),
    key("metrics", "token", Kind::Secret),
];

/// The key `section.name`, if there is one.
pub(crate) fn find(section: &str, name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.section == section && k.name == name)
}

/// The key whose env variable is `var`, if there is one.
pub(crate) fn by_env_var(var: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.env_var() == var)
}

/// Whether `section` is a known TOML table.
pub(crate) fn is_section(section: &str) -> bool {
    KEYS.iter().any(|k| k.section == section)
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
                let is_key = |n: &str| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
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
