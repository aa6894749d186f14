use std::os::unix::fs::PermissionsExt;

use super::*;

fn sources(dir: &Path, file: &str, env: &[(&str, &str)], overrides: Overrides) -> Sources {
    let mut env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.entry("SPACEDAV_STORAGE_DATA_ROOT".into())
        .or_insert_with(|| dir.display().to_string());
    Sources {
        file: Some(ConfigFile {
            path: "t.toml".into(),
            text: file.into(),
        }),
        env,
        overrides,
    }
}

#[test]
fn flags_beat_env_beat_file_beat_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = "[server]\nlisten = \"127.0.0.1:1001\"\npublic_url = \"http://file.example\"\n\
                [tus]\nmax_chunk_size = 111\nupload_expiry = 60\n";
    let env = [
        ("SPACEDAV_SERVER_LISTEN", "127.0.0.1:1002"),
        ("SPACEDAV_TUS_MAX_CHUNK_SIZE", "222"),
    ];
    let flags = Overrides {
        listen: Some("127.0.0.1:1003".into()),
        ..Overrides::default()
    };
    let c = load(&sources(dir.path(), file, &env, flags))
        .unwrap()
        .config;
    assert_eq!(
        c.listen.to_string(),
        "127.0.0.1:1003",
        "flag beats env and file"
    );
    assert_eq!(c.max_chunk_size, 222, "env beats file");
    assert_eq!(
        c.upload_expiry,
        Duration::from_secs(60),
        "file beats default"
    );
    assert_eq!(c.public_url.unwrap().as_str(), "http://file.example/");
    assert_eq!(c.sweep_interval, Duration::from_secs(3600), "default");
}

#[test]
fn web_assets_path_comes_from_file_env_or_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = "[web]\nassets_path = \"from-file\"\n";
    let load_with = |env: &[(&str, &str)], flag: Option<&str>| {
        let flags = Overrides {
            web_assets: flag.map(String::from),
            ..Overrides::default()
        };
        load(&sources(dir.path(), file, env, flags))
            .unwrap()
            .config
            .web_assets_path
    };
    assert_eq!(load_with(&[], None), Some("from-file".into()));
    let env = [("SPACEDAV_WEB_ASSETS_PATH", "from-env")];
    assert_eq!(load_with(&env, None), Some("from-env".into()));
    assert_eq!(load_with(&env, Some("from-flag")), Some("from-flag".into()));
    let none = load(&sources(dir.path(), "", &[], Overrides::default())).unwrap();
    assert_eq!(none.config.web_assets_path, None);
}

#[test]
fn metadata_url_and_blobs_follow_the_data_root() {
    let dir = tempfile::tempdir().unwrap();
    let c = load(&sources(dir.path(), "", &[], Overrides::default()))
        .unwrap()
        .config;
    assert_eq!(
        c.metadata_url,
        format!("sqlite://{}", dir.path().join("spacedav.db").display())
    );
    assert_eq!(c.blob_dir(), dir.path().join("blobs"));
}

#[test]
fn embedded_default_file_matches_built_in_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = load(&sources(
        dir.path(),
        DEFAULT_FILE,
        &[],
        Overrides::default(),
    ))
    .unwrap()
    .config;
    let builtin = Config::for_data_root(dir.path());
    assert_eq!(from_file.listen.to_string(), "127.0.0.1:9200");
    assert_eq!(from_file.data_root, dir.path());
    assert_eq!(from_file.public_url, builtin.public_url);
    assert_eq!(from_file.limits, builtin.limits);
    assert_eq!(from_file.metadata_url, builtin.metadata_url);
    assert_eq!(from_file.blobs, builtin.blobs);
    assert_eq!(from_file.upload_expiry, builtin.upload_expiry);
    assert_eq!(from_file.sweep_interval, builtin.sweep_interval);
    assert_eq!(from_file.max_upload_size, builtin.max_upload_size);
    assert_eq!(from_file.max_chunk_size, builtin.max_chunk_size);
    assert_eq!(from_file.checksum_algorithms, builtin.checksum_algorithms);
    assert_eq!(from_file.cors_origins, builtin.cors_origins);
    assert_eq!(from_file.log_format, builtin.log_format);
    assert_eq!(
        from_file.propfind_depth_infinity,
        builtin.propfind_depth_infinity
    );
    assert_eq!(from_file.retention, builtin.retention);
    assert_eq!(from_file.admin_password, None);
    assert_eq!(from_file.oidc, builtin.oidc);
}

#[test]
fn embedded_default_file_documents_every_key() {
    let mut section = "";
    let mut seen = Vec::new();
    for line in DEFAULT_FILE.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name;
        } else if let Some((key, _)) = line.trim_start_matches("# ").split_once(" = ") {
            if key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                seen.push(format!("{section}.{key}"));
            }
        }
    }
    let all: Vec<String> = keys::KEYS.iter().map(keys::Key::dotted).collect();
    assert_eq!(seen, all);
}

#[test]
fn generated_storage_id_and_secrets_persist_across_loads() {
    let dir = tempfile::tempdir().unwrap();
    let first = load(&sources(dir.path(), "", &[], Overrides::default())).unwrap();
    assert_eq!(first.notes.len(), 3, "{:?}", first.notes);
    let second = load(&sources(dir.path(), "", &[], Overrides::default())).unwrap();
    assert!(second.notes.is_empty(), "{:?}", second.notes);
    let (a, b) = (first.config, second.config);
    assert_eq!(a.storage_id, b.storage_id);
    assert_eq!(a.token_secret, b.token_secret);
    assert_eq!(a.transfer_secret, b.transfer_secret);
    assert_ne!(a.token_secret, a.transfer_secret);
    assert!(a.transfer_secret.len() >= codec::MIN_SECRET_LEN);
    let stored = std::fs::read_to_string(dir.path().join("storage-id")).unwrap();
    assert_eq!(stored.trim(), a.storage_id.to_string());
    for name in ["token.key", "transfer.key"] {
        let meta = std::fs::metadata(dir.path().join("secrets").join(name)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
    }
}

#[test]
fn configured_values_are_not_persisted() {
    let dir = tempfile::tempdir().unwrap();
    let id = "5d5b1d6e-7c4e-4a36-9d49-0c8f8b1c2f10";
    let env = [
        ("SPACEDAV_STORAGE_STORAGE_ID", id),
        ("SPACEDAV_AUTH_TOKEN_SECRET", "token-secret-from-env"),
        ("SPACEDAV_TUS_TRANSFER_SECRET", "transfer-secret-from-env"),
    ];
    let c = load(&sources(dir.path(), "", &env, Overrides::default()))
        .unwrap()
        .config;
    assert_eq!(c.storage_id.to_string(), id);
    assert_eq!(c.token_secret, "token-secret-from-env");
    assert_eq!(c.transfer_secret, "transfer-secret-from-env");
    assert!(!dir.path().join("storage-id").exists());
    assert!(!dir.path().join("secrets").exists());
}

#[test]
fn secrets_are_read_from_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("transfer");
    std::fs::write(&key, "transfer-secret-in-a-file\n").unwrap();
    let env = [("SPACEDAV_TUS_TRANSFER_SECRET_FILE", key.to_str().unwrap())];
    let c = load(&sources(dir.path(), "", &env, Overrides::default()))
        .unwrap()
        .config;
    assert_eq!(c.transfer_secret, "transfer-secret-in-a-file");
    assert!(!dir.path().join("secrets/transfer.key").exists());
}

#[test]
fn unreadable_secret_files_are_problems() {
    let dir = tempfile::tempdir().unwrap();
    let file = "[auth]\ntoken_secret_file = \"/nonexistent/token\"\n\
                [tus]\ntransfer_secret_file = \"/nonexistent/transfer\"\n";
    let err = load(&sources(dir.path(), file, &[], Overrides::default())).unwrap_err();
    let keys: Vec<_> = err.problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["auth.token_secret_file", "tus.transfer_secret_file"]);
}

#[test]
fn debug_output_redacts_secrets() {
    let mut c = Config::for_data_root("/tmp/x");
    c.admin_password = Some("admin-password".into());
    let text = format!("{c:?}");
    for secret in [&c.token_secret, &c.transfer_secret, "admin-password"] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[test]
fn unknown_spacedav_env_variables_become_notes() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("SPACEDAV_SERVER_LISEN", "x")];
    let loaded = load(&sources(dir.path(), "", &env, Overrides::default())).unwrap();
    assert!(
        loaded
            .notes
            .iter()
            .any(|n| n.contains("SPACEDAV_SERVER_LISEN"))
    );
}

#[test]
fn readme_configuration_table_lists_every_key() {
    let readme = include_str!("../../README.md");
    for key in keys::KEYS {
        let row = format!("| `{}` | `{}` |", key.dotted(), key.env_var());
        assert!(
            readme.contains(&row),
            "README lacks the row for {}",
            key.dotted()
        );
    }
}

/// The key table's defaults are what the shipped file sets: every key shows the same value
/// loaded from `config/spacedav.toml` as from `Config::for_data_root` (except the address,
/// which `for_data_root` puts on a free port).
#[test]
fn every_key_of_the_embedded_file_shows_its_table_default() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = load(&sources(
        dir.path(),
        DEFAULT_FILE,
        &[],
        Overrides::default(),
    ))
    .unwrap()
    .config;
    let builtin = Config::for_data_root(dir.path());
    for key in super::keys::KEYS {
        let Some(show) = key.show else { continue };
        if key.dotted() == "server.listen" {
            continue;
        }
        let (file, table) = (show(&from_file).to_string(), show(&builtin).to_string());
        assert_eq!(file, table, "{}", key.dotted());
    }
}

/// `Debug` lists every key of the table and redacts every secret, those of the OpenID Connect
/// clients and the metrics token included.
#[test]
fn debug_lists_every_key_and_redacts_every_secret() {
    let mut c = Config::for_data_root("/tmp/x");
    c.metrics_token = Some("metrics-token-0123456789".into());
    c.oidc.clients = vec![super::OidcClientConfig {
        id: "app".into(),
        secret: Some("client-secret-0123".into()),
        redirect_uris: vec!["https://app.example/cb".into()],
        post_logout_redirect_uris: Vec::new(),
    }];
    let text = format!("{c:?}");
    for key in super::keys::KEYS.iter().filter(|k| k.show.is_some()) {
        assert!(text.contains(&format!("\"{}\"", key.dotted())), "{text}");
    }
    for secret in ["metrics-token-0123456789", "client-secret-0123"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(text.contains("<redacted>"), "{text}");
}
