//! Collecting raw settings from the layers (file < env < flags) before any value is
//! interpreted. The file is parsed into a loose TOML table, not straight into typed structs, so
//! that one wrong value does not hide the problems after it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use super::keys::{self, ENV_PREFIX, Key};
use super::values::RawValue;

/// Where a setting came from; named in every problem so the operator knows what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// The config file at this path.
    File(PathBuf),
    /// This environment variable.
    Env(String),
    /// This command-line flag.
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(path) => write!(f, "file {}", path.display()),
            Origin::Env(var) => write!(f, "env {var}"),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key, `section.name` (or the unknown name as written).
    pub key: String,
    /// The offending value as written (`<redacted>` for secrets, empty when not applicable).
    pub value: String,
    /// Where the value came from.
    pub origin: Origin,
    /// Why it is rejected.
    pub why: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{} ({}): {}", self.key, self.origin, self.why)
        } else {
            write!(
                f,
                "{} = {} ({}): {}",
                self.key, self.value, self.origin, self.why
            )
        }
    }
}

/// Start-up refused: every problem found, not just the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The problems, in the order they were found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "invalid configuration ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Values given on the command line; strings, so they are checked like every other layer.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--data-root`.
    pub data_root: Option<String>,
    /// `--public-url`.
    pub public_url: Option<String>,
    /// `--log-format`.
    pub log_format: Option<String>,
    /// `--web-assets`.
    pub web_assets: Option<String>,
}

/// A config file's path (for messages and nothing else) and its text.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its contents.
    pub text: String,
}

/// Everything the loader reads, gathered by the caller, so loading needs no process state.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The config file, if any.
    pub file: Option<ConfigFile>,
    /// Environment variables (only `SPACEDAV_*` ones are looked at).
    pub env: BTreeMap<String, String>,
    /// Command-line flags.
    pub overrides: Overrides,
}

/// The winning raw value of one key and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    pub value: RawValue,
    pub origin: Origin,
}

/// The winning raw setting of each key that any layer set, plus the problems found so far
/// (syntax errors, unknown keys).
#[derive(Debug, Default)]
pub(crate) struct Layers {
    pub settings: BTreeMap<String, Setting>,
    pub problems: Vec<Problem>,
    /// `SPACEDAV_*` variables that name no key; reported as notes, because tools around the
    /// server may use the prefix too.
    pub unknown_env: Vec<String>,
}

impl Layers {
    fn set(&mut self, key: &Key, value: RawValue, origin: Origin) {
        self.settings
            .insert(key.dotted(), Setting { value, origin });
    }

    /// The winning setting of `key`.
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.settings.get(key)
    }
}

/// Stacks the layers: file, then env, then flags, each overriding the one before.
pub(crate) fn collect(sources: &Sources) -> Layers {
    let mut layers = Layers::default();
    if let Some(file) = &sources.file {
        collect_file(&mut layers, file);
    }
    for (var, value) in &sources.env {
        if !var.starts_with(ENV_PREFIX) {
            continue;
        }
        match keys::by_env_var(var) {
            Some(key) => layers.set(key, RawValue::Text(value.clone()), Origin::Env(var.clone())),
            None => layers.unknown_env.push(var.clone()),
        }
    }
    let o = &sources.overrides;
    let flags = [
        ("--listen", &o.listen),
        ("--public-url", &o.public_url),
        ("--data-root", &o.data_root),
        ("--log-format", &o.log_format),
        ("--web-assets", &o.web_assets),
    ];
    for (flag, value) in flags {
        if let Some(value) = value {
            let key = keys::by_flag(flag).expect("the key table names every flag");
            layers.set(key, RawValue::Text(value.clone()), Origin::Flag(flag));
        }
    }
    layers
}

fn collect_file(layers: &mut Layers, file: &ConfigFile) {
    let origin = Origin::File(file.path.clone());
    let table: toml::Table = match file.text.parse() {
        Ok(table) => table,
        Err(e) => {
            layers.problems.push(Problem {
                key: "(file)".into(),
                value: String::new(),
                origin,
                why: format!("not valid TOML: {}", e.message()),
            });
            return;
        }
    };
    for (section, value) in table {
        let toml::Value::Table(entries) = value else {
            let why = if keys::is_section(&section) {
                "must be a table ([section])"
            } else {
                "unknown key"
            };
            layers.problems.push(Problem {
                key: section,
                value: value.to_string(),
                origin: origin.clone(),
                why: why.into(),
            });
            continue;
        };
        if !keys::is_section(&section) {
            layers.problems.push(Problem {
                key: format!("[{section}]"),
                value: String::new(),
                origin: origin.clone(),
                why: "unknown section".into(),
            });
            continue;
        }
        for (name, value) in entries {
            match keys::find(&section, &name) {
                Some(key) => layers.set(key, RawValue::Toml(value), origin.clone()),
                None => layers.problems.push(Problem {
                    key: format!("{section}.{name}"),
                    value: value.to_string(),
                    origin: origin.clone(),
                    why: "unknown key".into(),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Option<ConfigFile> {
        Some(ConfigFile {
            path: "test.toml".into(),
            text: text.into(),
        })
    }

    #[test]
    fn later_layers_win() {
        let sources = Sources {
            file: file("[server]\nlisten = \"127.0.0.1:1\"\n[log]\nformat = \"json\""),
            env: [
                (
                    "SPACEDAV_SERVER_LISTEN".to_string(),
                    "127.0.0.1:2".to_string(),
                ),
                ("PATH".to_string(), "/bin".to_string()),
            ]
            .into(),
            overrides: Overrides {
                listen: Some("127.0.0.1:3".into()),
                ..Overrides::default()
            },
        };
        let layers = collect(&sources);
        let listen = layers.get("server.listen").unwrap();
        assert_eq!(listen.value, RawValue::Text("127.0.0.1:3".into()));
        assert_eq!(listen.origin, Origin::Flag("--listen"));
        let format = layers.get("log.format").unwrap();
        assert_eq!(format.origin, Origin::File("test.toml".into()));
        assert!(layers.problems.is_empty());
    }

    #[test]
    fn unknown_sections_keys_and_env_are_reported() {
        let sources = Sources {
            file: file("top = 1\n[nope]\na = 1\n[server]\nlisen = \"x\"\n"),
            env: [("SPACEDAV_SERVER_LISEN".to_string(), "x".to_string())].into(),
            ..Sources::default()
        };
        let layers = collect(&sources);
        let keys: Vec<_> = layers.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["[nope]", "server.lisen", "top"]);
        assert_eq!(layers.unknown_env, ["SPACEDAV_SERVER_LISEN"]);
    }

    #[test]
    fn syntax_error_is_one_problem() {
        let layers = collect(&Sources {
            file: file("[server\nlisten = 1"),
            ..Sources::default()
        });
        assert_eq!(layers.problems.len(), 1);
        assert!(layers.problems[0].why.starts_with("not valid TOML"));
    }
}
