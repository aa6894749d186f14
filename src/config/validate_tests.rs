use std::time::Duration;

use super::*;
use crate::config::LogFormat;
use crate::config::layers::{ConfigFile, Overrides, Sources, collect};

fn check(file: &str, env: &[(&str, &str)]) -> Result<Validated, ConfigError> {
    let sources = Sources {
        file: Some(ConfigFile {
            path: "t.toml".into(),
            text: file.into(),
        }),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        overrides: Overrides::default(),
    };
    validate(&collect(&sources))
}

/// The keys named by the problems of `file`.
fn problem_keys(file: &str) -> Vec<String> {
    match check(file, &[]) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.into_iter().map(|p| p.key).collect(),
    }
}

#[test]
fn empty_file_gives_defaults() {
    let s = check("", &[]).unwrap();
    assert_eq!(s.listen.to_string(), "127.0.0.1:9200");
    assert_eq!(s.data_root, PathBuf::from("spaces"));
    assert_eq!(s.max_chunk_size, 10_000_000);
    assert_eq!(s.checksum_algorithms, ["md5", "sha1", "adler32"]);
    assert_eq!(s.log_format, LogFormat::Text);
    assert!(matches!(s.transfer_secret, SecretSource::Unset));
    assert!(s.cors_origins.is_empty());
}

#[test]
fn each_bad_value_is_rejected_with_its_key() {
    let rows: &[(&str, &str)] = &[
        ("[server]\nlisten = \"localhost\"", "server.listen"),
        ("[server]\nlisten = 9200", "server.listen"),
        ("[server]\npublic_url = \"not a url\"", "server.public_url"),
        (
            "[server]\npublic_url = \"ftp://example.com\"",
            "server.public_url",
        ),
        (
            "[server]\npublic_url = \"https://x.org/?q=1\"",
            "server.public_url",
        ),
        (
            "[server]\nheader_read_timeout = 0",
            "server.header_read_timeout",
        ),
        ("[server]\nidle_timeout = \"1m\"", "server.idle_timeout"),
        (
            "[server]\nbody_stall_timeout = -1",
            "server.body_stall_timeout",
        ),
        ("[server]\nmax_connections = 0", "server.max_connections"),
        ("[storage]\ndata_root = \"\"", "storage.data_root"),
        ("[storage]\nstorage_id = \"abc\"", "storage.storage_id"),
        (
            "[storage]\nmetadata_url = \"mysql://x\"",
            "storage.metadata_url",
        ),
        ("[storage]\nblob_backend = \"s4\"", "storage.blob_backend"),
        ("[auth]\ntoken_secret = \"short\"", "auth.token_secret"),
        ("[tus]\nupload_expiry = 0", "tus.upload_expiry"),
        ("[tus]\nsweep_interval = \"1h\"", "tus.sweep_interval"),
        ("[tus]\nmax_upload_size = -5", "tus.max_upload_size"),
        ("[tus]\nmax_chunk_size = 1.5", "tus.max_chunk_size"),
        (
            "[tus]\nchecksum_algorithms = [\"crc32\"]",
            "tus.checksum_algorithms",
        ),
        (
            "[tus]\nchecksum_algorithms = \"md5\"",
            "tus.checksum_algorithms",
        ),
        ("[cors]\norigins = [\"https://a.org/path\"]", "cors.origins"),
        ("[cors]\norigins = [1]", "cors.origins"),
        ("[log]\nformat = \"yaml\"", "log.format"),
        (
            "[dav]\npropfind_depth_infinity = \"yes\"",
            "dav.propfind_depth_infinity",
        ),
        ("[admin]\npassword = \"\"", "admin.password"),
        ("[server]\nlisen = \"x\"", "server.lisen"),
        (
            "[tus]\nmax_upload_size = 100\nmax_chunk_size = 200",
            "tus.max_chunk_size",
        ),
    ];
    for (file, key) in rows {
        assert_eq!(problem_keys(file), [*key], "{file}");
    }
}

#[test]
fn good_values_are_accepted() {
    let s = check(
        r#"
        [server]
        listen = "[::1]:8080"
        public_url = "https://cloud.example.org"
        header_read_timeout = 5
        max_connections = 10
        [tus]
        checksum_algorithms = ["SHA1", "sha256", "sha1"]
        [cors]
        origins = ["*", "https://web.example.org/"]
        [dav]
        propfind_depth_infinity = true
        "#,
        &[],
    )
    .unwrap();
    assert_eq!(s.listen.to_string(), "[::1]:8080");
    assert_eq!(
        s.public_url.as_ref().unwrap().host_str(),
        Some("cloud.example.org")
    );
    assert_eq!(s.checksum_algorithms, ["sha1", "sha256"]);
    assert_eq!(s.cors_origins, ["*", "https://web.example.org"]);
    assert!(s.propfind_depth_infinity);
    assert_eq!(s.limits.header_read_timeout, Duration::from_secs(5));
    assert_eq!(s.limits.idle_timeout, Duration::from_secs(60), "default");
    assert_eq!(s.limits.max_connections, 10);
}

#[test]
fn every_problem_is_listed_not_just_the_first() {
    let err = check(
        r#"
        [server]
        public_url = "::bad::"
        colour = "blue"
        [tus]
        max_upload_size = -1
        max_chunk_size = 0
        "#,
        &[("SPACEDAV_LOG_FORMAT", "xml")],
    )
    .unwrap_err();
    let keys: Vec<_> = err.problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "server.colour",
            "server.public_url",
            "tus.max_upload_size",
            "tus.max_chunk_size",
            "log.format"
        ]
    );
    let text = err.to_string();
    assert!(
        text.starts_with("invalid configuration (5 problems):"),
        "{text}"
    );
    assert!(
        text.contains("log.format = \"xml\" (env SPACEDAV_LOG_FORMAT)"),
        "{text}"
    );
    assert!(text.contains("tus.max_upload_size = -1 (file t.toml): must be greater than zero"));
}

#[test]
fn env_values_are_parsed_from_strings() {
    let s = check(
        "",
        &[
            ("SPACEDAV_TUS_MAX_CHUNK_SIZE", "5000"),
            ("SPACEDAV_CORS_ORIGINS", "https://a.org, https://b.org"),
            ("SPACEDAV_DAV_PROPFIND_DEPTH_INFINITY", "true"),
            ("SPACEDAV_TUS_TRANSFER_SECRET", "0123456789abcdef0123"),
        ],
    )
    .unwrap();
    assert_eq!(s.max_chunk_size, 5000);
    assert_eq!(s.cors_origins, ["https://a.org", "https://b.org"]);
    assert!(s.propfind_depth_infinity);
    assert!(matches!(s.transfer_secret, SecretSource::Value(ref v) if v == "0123456789abcdef0123"));
}

#[test]
fn secret_and_secret_file_together_conflict() {
    let err = check(
        "[tus]\ntransfer_secret = \"0123456789abcdef0123\"\ntransfer_secret_file = \"/k\"",
        &[],
    )
    .unwrap_err();
    assert_eq!(err.problems.len(), 1);
    assert_eq!(err.problems[0].key, "tus.transfer_secret_file");
}

#[test]
fn secrets_are_never_echoed_in_problems() {
    let err = check("[auth]\ntoken_secret = \"hunter2\"", &[]).unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("<redacted>"), "{text}");
}

#[test]
fn sharing_policy_reads_its_keys_and_refuses_what_cannot_be_enforced() {
    let s = check(
        "[sharing]\nlink_password_enforced_for = [\"read_only\"]\nlink_expiry_days = 7\n\
         link_expiry_enforced = true",
        &[("SPACEDAV_SHARING_SHARE_EXPIRY_DAYS", "30")],
    )
    .unwrap();
    assert_eq!(s.sharing.link_password_enforced_for, ["read_only"]);
    assert_eq!(s.sharing.link_expiry_days, Some(7));
    assert!(s.sharing.link_expiry_enforced);
    assert_eq!(s.sharing.share_expiry_days, Some(30));
    assert!(!s.sharing.share_expiry_enforced);
    let rows: &[(&str, &str)] = &[
        (
            "[sharing]\nlink_password_enforced_for = [\"everything\"]",
            "sharing.link_password_enforced_for",
        ),
        (
            "[sharing]\nlink_expiry_enforced = true",
            "sharing.link_expiry_enforced",
        ),
        (
            "[sharing]\nshare_expiry_days = 0",
            "sharing.share_expiry_days",
        ),
    ];
    for (file, key) in rows {
        assert_eq!(problem_keys(file), [*key], "{file}");
    }
}

#[test]
fn the_s3_backend_needs_its_bucket_named_completely_and_reads_its_keys_from_env() {
    assert_eq!(
        problem_keys("[storage]\nblob_backend = \"s3\""),
        [
            "storage.s3_endpoint",
            "storage.s3_bucket",
            "storage.s3_access_key",
            "storage.s3_secret_key"
        ]
    );
    let env = [
        ("SPACEDAV_STORAGE_BLOB_BACKEND", "s3"),
        ("SPACEDAV_STORAGE_S3_ENDPOINT", "http://127.0.0.1:3900"),
        ("SPACEDAV_STORAGE_S3_REGION", "garage"),
        ("SPACEDAV_STORAGE_S3_BUCKET", "b"),
        ("SPACEDAV_STORAGE_S3_ACCESS_KEY", "GK1"),
        ("SPACEDAV_STORAGE_S3_SECRET_KEY", "s3cr3t"),
    ];
    let s = check("", &env).unwrap().config.object_store;
    let s3 = s.s3_settings().unwrap().unwrap();
    assert_eq!(
        (s3.endpoint.as_str(), s3.region.as_str(), s3.bucket.as_str()),
        ("http://127.0.0.1:3900/", "garage", "b")
    );
    assert!(s3.path_style);
    assert_eq!(
        (s3.access_key.as_str(), s3.secret_key.as_str()),
        ("GK1", "s3cr3t")
    );
    let both = "[storage]\nblob_backend = \"s3\"\ns3_endpoint = \"http://h\"\ns3_bucket = \"b\"\n\
        s3_access_key = \"k\"\ns3_secret_key = \"s\"\ns3_secret_key_file = \"/k\"";
    assert_eq!(problem_keys(both), ["storage.s3_secret_key_file"]);
}
