//! A throw-away single-node Garage (an S3-compatible object store) for tests that keep file
//! bytes in S3: [`Garage::start`] writes a config with free loopback ports into a temp dir,
//! starts `garage server` in single-node mode with a default key and bucket (Garage 2.x
//! creates the layout, the key and the bucket itself then, so no `layout assign/apply`,
//! `key create`, `bucket create` or `bucket allow` steps are needed), and waits until the
//! bucket answers. Dropping it kills the process (by its pid) and removes the dir.
//!
//! The binary is `$SPACEDAV_CI_GARAGE`, `~/.cargo/bin/garage` (where `.ci/run install` puts
//! it: `cargo install garage --locked --version 2.5.0`), or `garage` on `PATH`. Tests that
//! need it are `#[ignore]`d: a plain `cargo test` reports them as ignored, and when they are
//! asked for (`--include-ignored`, as `.ci/run` does) a missing binary fails them, as a
//! missing real client does (`tests/clients/support.rs`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use spacedav::config::{BlobBackend, Config};
use spacedav::spaces::s3::{S3Blobs, S3Settings};

/// The region Garage signs for (its `s3_region`).
const REGION: &str = "garage";
/// The bucket every test store uses.
const BUCKET: &str = "spacedav-test";
/// How long a start may take before the test fails (a start takes ~1.3 s).
const START_LIMIT: Duration = Duration::from_secs(60);
/// Starts tried before a test fails (see [`Garage::start`]).
const START_TRIES: usize = 5;

/// A running single-node Garage.
pub struct Garage {
    /// S3 endpoint, `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Access key id with read, write and owner rights on [`Garage::bucket`].
    pub access_key: String,
    /// Its secret.
    pub secret_key: String,
    /// The bucket.
    pub bucket: String,
    child: Child,
    dir: tempfile::TempDir,
}

/// The garage binary (module doc), or a failure of the test that asked for it.
pub fn binary() -> PathBuf {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let path = std::env::var_os("PATH").unwrap_or_default();
    let candidates = std::env::var_os("SPACEDAV_CI_GARAGE")
        .map(PathBuf::from)
        .into_iter()
        .chain([Path::new(&home).join(".cargo/bin/garage")])
        .chain(std::env::split_paths(&path).map(|d| d.join("garage")));
    for c in candidates {
        if c.is_file() {
            return c;
        }
    }
    panic!(
        "garage is not installed (`.ci/run install` builds it: cargo install garage --locked \
         --version 2.5.0); this test is #[ignore]d and runs only when asked for, so a missing \
         garage fails it"
    )
}

/// A port that was free a moment ago (Garage binds it itself).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

impl Garage {
    /// Start a fresh Garage with an empty bucket.
    pub async fn start() -> Garage {
        let bin = binary();
        // The ports are free when chosen and bound by Garage a moment later: a test running
        // beside it may take one first, and Garage then exits. Such a start is tried again.
        for _ in 0..START_TRIES - 1 {
            let mut garage = Garage::spawn(&bin);
            if garage.wait_ready().await {
                return garage;
            }
        }
        let mut garage = Garage::spawn(&bin);
        assert!(
            garage.wait_ready().await,
            "garage exited at its start {START_TRIES} times; its last log:\n{}",
            garage.log()
        );
        garage
    }

    /// Garage on fresh ports and a fresh directory, not yet known to be ready.
    fn spawn(bin: &Path) -> Garage {
        let dir = tempfile::tempdir().expect("temp dir");
        let (rpc, s3, admin) = (free_port(), free_port(), free_port());
        let root = dir.path().display();
        let config = format!(
            "metadata_dir = \"{root}/meta\"\n\
             data_dir = \"{root}/data\"\n\
             db_engine = \"sqlite\"\n\
             replication_factor = 1\n\
             consistency_mode = \"consistent\"\n\
             metadata_fsync = false\n\
             data_fsync = false\n\
             rpc_bind_addr = \"127.0.0.1:{rpc}\"\n\
             rpc_public_addr = \"127.0.0.1:{rpc}\"\n\
             rpc_secret = \"{secret}\"\n\
             [s3_api]\n\
             s3_region = \"{REGION}\"\n\
             api_bind_addr = \"127.0.0.1:{s3}\"\n\
             root_domain = \".s3.garage.localhost\"\n\
             [admin]\n\
             api_bind_addr = \"127.0.0.1:{admin}\"\n\
             admin_token = \"{token}\"\n",
            secret = random_hex(32),
            token = random_hex(16),
        );
        let config_path = dir.path().join("garage.toml");
        std::fs::write(&config_path, config).expect("write garage config");
        let access_key = format!("GK{}", random_hex(12));
        let secret_key = random_hex(32);
        let log = std::fs::File::create(dir.path().join("garage.log")).expect("garage log");
        let child = Command::new(bin)
            .arg("-c")
            .arg(&config_path)
            .args(["server", "--single-node", "--default-bucket"])
            .env("GARAGE_DEFAULT_ACCESS_KEY", &access_key)
            .env("GARAGE_DEFAULT_SECRET_KEY", &secret_key)
            .env("GARAGE_DEFAULT_BUCKET", BUCKET)
            .env("RUST_LOG", "garage=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        Garage {
            endpoint: format!("http://127.0.0.1:{s3}"),
            access_key,
            secret_key,
            bucket: BUCKET.into(),
            child,
            dir,
        }
    }

    /// Wait until the bucket answers through S3 (the key and bucket exist then): true, or
    /// false when Garage exited first (a port taken meanwhile).
    async fn wait_ready(&mut self) -> bool {
        let blobs = self.blobs();
        let started = Instant::now();
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let last = match spacedav::spaces::BlobStore::check(&blobs).await {
                Ok(()) => return true,
                Err(e) => e,
            };
            assert!(
                started.elapsed() < START_LIMIT,
                "garage did not become ready: {last}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What Garage logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("garage.log")).unwrap_or_default()
    }

    /// The S3 settings of its bucket.
    pub fn settings(&self) -> S3Settings {
        S3Settings {
            endpoint: self.endpoint.parse().expect("endpoint URL"),
            region: REGION.into(),
            bucket: self.bucket.clone(),
            path_style: true,
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
        }
    }

    /// A blob store on its bucket, to look at what a server left there.
    pub fn blobs(&self) -> S3Blobs {
        S3Blobs::new(&self.settings(), 1 << 40).expect("S3 client")
    }

    /// Point `config` at its bucket (`storage.blob_backend = "s3"`).
    pub fn configure(&self, config: &mut Config) {
        let s = &mut config.object_store;
        s.backend = BlobBackend::S3;
        s.s3_endpoint = Some(self.endpoint.parse().expect("endpoint URL"));
        s.s3_region = REGION.into();
        s.s3_bucket = self.bucket.clone();
        s.s3_path_style = true;
        s.s3_access_key = self.access_key.clone();
        s.s3_secret_key = Some(self.secret_key.clone());
        s.s3_secret_key_file = None;
    }

    /// The same settings as `SPACEDAV_STORAGE_*` environment variables, for a spacedav
    /// process started as a binary.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("BLOB_BACKEND", "s3"),
            ("S3_ENDPOINT", &self.endpoint),
            ("S3_REGION", REGION),
            ("S3_BUCKET", &self.bucket),
            ("S3_PATH_STYLE", "true"),
            ("S3_ACCESS_KEY", &self.access_key),
            ("S3_SECRET_KEY", &self.secret_key),
        ]
        .into_iter()
        .map(|(k, v)| (format!("SPACEDAV_STORAGE_{k}"), v.to_string()))
        .collect()
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
