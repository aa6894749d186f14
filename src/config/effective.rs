//! `spacedav check-config`: the configuration a start would run with, checked exactly like
//! [`super::load`] (same layers, same validation, same `*_file` reads) but writing nothing:
//! a secret or storage id that a start would generate is reported as such, not created.
//!
//! The result is a TOML document of every key, each line annotated with where its value came
//! from; secrets are redacted.

use std::fmt::Write;
use std::path::Path;

use super::codec::{REDACTED, Shown, s};
use super::keys;
use super::layers::{self, ConfigError, Layers, Origin, Problem, Sources};
use super::secrets;
use super::validate::{self, SecretSource, Validated};
use super::values::RawValue;

/// A configuration that passed every check.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The effective configuration as TOML, one annotated line per key, secrets redacted.
    pub effective: String,
    /// What a start would do beyond reading (generate secrets), and ignored env variables.
    pub notes: Vec<String>,
}

/// Checks `sources` like [`super::load`] without writing; `Err` lists every problem with its
/// origin.
pub fn check(sources: &Sources) -> Result<Checked, ConfigError> {
    let layers = layers::collect(sources);
    let settings = validate::validate(&layers)?;
    let root = settings.data_root.as_path();
    let mut notes: Vec<String> = layers
        .unknown_env
        .iter()
        .map(|var| format!("ignoring environment variable {var}: it names no config key"))
        .collect();
    let mut problems = Vec::new();
    let mut shown = |result: Result<Shown, Problem>| {
        result.unwrap_or_else(|p| {
            problems.push(p);
            Shown::Note("invalid".into())
        })
    };
    let storage_id = shown(storage_id(&settings, root, &mut notes));
    let token = shown(secret(
        &settings.token_secret,
        "auth.token_secret",
        root,
        "token",
        &mut notes,
    ));
    let transfer = shown(secret(
        &settings.transfer_secret,
        "tus.transfer_secret",
        root,
        "transfer",
        &mut notes,
    ));
    if !problems.is_empty() {
        return Err(ConfigError { problems });
    }
    let effective = render(&layers, &settings, [storage_id, token, transfer]);
    Ok(Checked { effective, notes })
}

fn storage_id(
    settings: &Validated,
    root: &Path,
    notes: &mut Vec<String>,
) -> Result<Shown, Problem> {
    if let Some(id) = settings.storage_id {
        return Ok(s(id));
    }
    let path = secrets::storage_id_path(root);
    if !path.exists() {
        notes.push(format!(
            "a start would generate the storage id and keep it in {}",
            path.display()
        ));
        return Ok(Shown::Note("generated on first start".into()));
    }
    secrets::storage_id(None, root).map(|(id, _)| s(id))
}

fn secret(
    source: &SecretSource,
    key: &str,
    root: &Path,
    name: &str,
    notes: &mut Vec<String>,
) -> Result<Shown, Problem> {
    let persisted = secrets::secrets_dir(root).join(format!("{name}.key"));
    if matches!(source, SecretSource::Unset) && !persisted.exists() {
        notes.push(format!(
            "a start would generate {key} and keep it in {}",
            persisted.display()
        ));
        return Ok(Shown::Note("generated on first start".into()));
    }
    // Reads the `*_file` or the persisted secret (and checks it) but creates nothing here.
    secrets::secret(source, key, root, name)?;
    Ok(s(REDACTED))
}

/// One line per key, in the order of `config/spacedav.toml`: the table's view of each value,
/// the resolved storage id and secrets, and the `*_file` paths as given.
fn render(layers: &Layers, st: &Validated, [storage_id, token, transfer]: [Shown; 3]) -> String {
    let mut resolved = [Some(storage_id), Some(token), Some(transfer)];
    let mut out = String::new();
    let mut section = "";
    for key in keys::KEYS {
        let dotted = key.dotted();
        let origin = layers
            .get(&dotted)
            .map_or(Origin::Default, |s| s.origin.clone());
        let shown = match (dotted.as_str(), key.show) {
            ("storage.storage_id", _) => resolved[0].take().expect("shown once"),
            ("auth.token_secret", _) => resolved[1].take().expect("shown once"),
            ("tus.transfer_secret", _) => resolved[2].take().expect("shown once"),
            ("storage.blob_path", _) => s(st.blob_dir().display()),
            (_, Some(show)) => show(st),
            // The `*_file` paths, as given.
            (_, None) => match layers.get(&dotted).map(|setting| &setting.value) {
                Some(RawValue::Toml(toml::Value::String(p)) | RawValue::Text(p)) => s(p),
                Some(RawValue::Toml(other)) => Shown::Value(other.clone()),
                None => Shown::Note("unset".into()),
            },
        };
        if key.section != section {
            section = key.section;
            let _ = writeln!(out, "{}[{section}]", if out.is_empty() { "" } else { "\n" });
        }
        let _ = match shown {
            Shown::Value(v) => writeln!(out, "{} = {v}  # {origin}", key.name),
            Shown::Note(note) => writeln!(out, "# {} = ({note})", key.name),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::ConfigFile;

    fn sources(file: &str, env: &[(&str, &str)]) -> Sources {
        Sources {
            file: Some(ConfigFile {
                path: "t.toml".into(),
                text: file.into(),
            }),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            overrides: Default::default(),
        }
    }

    #[test]
    fn every_key_is_shown_with_its_origin_and_secrets_are_redacted_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let file = "[tus]\nmax_chunk_size = 1234\n[admin]\npassword = \"very-secret-admin\"\n\
                    [storage]\nmetadata_url = \"postgres://u:db-secret@db.example/spacedav\"\n";
        let env = [
            ("SPACEDAV_STORAGE_DATA_ROOT", root.to_str().unwrap()),
            ("SPACEDAV_METRICS_TOKEN", "scrape-token-0123456789"),
        ];
        let checked = check(&sources(file, &env)).unwrap();
        let text = &checked.effective;
        for key in keys::KEYS {
            let line = text
                .lines()
                .find(|l| {
                    l.starts_with(&format!("{} = ", key.name))
                        || l.starts_with(&format!("# {} = ", key.name))
                })
                .unwrap_or_else(|| panic!("{} missing:\n{text}", key.dotted()));
            assert!(!line.is_empty());
        }
        assert!(
            text.contains("max_chunk_size = 1234  # file t.toml"),
            "{text}"
        );
        assert!(
            text.contains("listen = \"127.0.0.1:9200\"  # default"),
            "{text}"
        );
        assert!(
            text.contains("token = \"<redacted>\"  # env SPACEDAV_METRICS_TOKEN"),
            "{text}"
        );
        assert!(!text.contains("very-secret-admin") && !text.contains("scrape-token"));
        assert!(!text.contains("db-secret"), "{text}");
        assert!(
            text.contains("postgres://u:%3Credacted%3E@db.example/spacedav"),
            "{text}"
        );
        assert!(
            text.contains("# storage_id = (generated on first start)"),
            "{text}"
        );
        assert_eq!(checked.notes.len(), 3, "{:?}", checked.notes);
        assert!(!root.exists(), "check wrote nothing");
        assert!(text.parse::<toml::Table>().is_ok(), "valid TOML:\n{text}");
    }

    #[test]
    fn every_problem_is_reported_including_unreadable_secret_files() {
        let file =
            "[server]\nlisten = \"nowhere\"\n[auth]\ntoken_secret_file = \"/nonexistent/key\"\n";
        let err = check(&sources(file, &[("SPACEDAV_TUS_MAX_CHUNK_SIZE", "0")])).unwrap_err();
        let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["server.listen", "tus.max_chunk_size"], "{err}");
        // Secret files are read only once the rest is valid (as at start-up).
        let file = "[auth]\ntoken_secret_file = \"/nonexistent/key\"\n";
        let err = check(&sources(file, &[])).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        assert_eq!(err.problems[0].key, "auth.token_secret_file");
        assert!(err.to_string().contains("cannot read"), "{err}");
    }
}
