//! The `spacedav-cluster` server kind: three `spacedav serve` nodes on one PostgreSQL database
//! with their bytes in one Garage bucket (issue 14's scale-out setup), behind no balancer:
//! the load client spreads its requests over the nodes in turn ([`Endpoint::round_robin`]).
//!
//! PostgreSQL is the server `SPACEDAV_BENCH_POSTGRES` names (`postgres://user@host:port`); the
//! bench creates a fresh database on it for each start. Garage is started here, single-node,
//! from `SPACEDAV_BENCH_GARAGE`, `~/.cargo/bin/garage` or `garage` on `PATH`, in the run's
//! temporary directory. The nodes run under one `sh` (the [`super::Running`] process), so the CPU
//! and memory columns are those of the three spacedav processes; Garage and PostgreSQL are
//! outside that tree.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use tokio::process::{Child, Command};
use url::Url;

use super::{ADMIN_PASSWORD, Kind, Started, Tools, free_port, wait_for_port};
use crate::client::Endpoint;

/// How many nodes the cluster runs.
const NODES: usize = 3;
/// The region Garage signs for.
const REGION: &str = "garage";
/// The bucket the nodes share.
const BUCKET: &str = "spacedav-bench";
/// The environment variable naming the PostgreSQL server.
pub const POSTGRES_ENV: &str = "SPACEDAV_BENCH_POSTGRES";

/// What runs beside the nodes and stops with them: Garage (killed on drop).
pub struct Sidecar {
    _garage: Child,
}

/// The garage binary, if installed.
fn garage_binary() -> Option<PathBuf> {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::var_os("SPACEDAV_BENCH_GARAGE")
        .map(PathBuf::from)
        .into_iter()
        .chain([Path::new(&home).join(".cargo/bin/garage")])
        .chain(std::env::split_paths(&path).map(|d| d.join("garage")))
        .find(|c| c.is_file())
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// Starts the cluster in `dir` (logs into `log`).
pub async fn start(tools: &Tools, dir: tempfile::TempDir, log: std::fs::File) -> Result<Started> {
    let Ok(server) = std::env::var(POSTGRES_ENV) else {
        return Ok(Started::Missing(format!(
            "{POSTGRES_ENV} is not set (a PostgreSQL server URL the bench may create a \
             database on, e.g. postgres://postgres@127.0.0.1:5432)"
        )));
    };
    let Some(garage_bin) = garage_binary() else {
        return Ok(Started::Missing(
            "garage not installed (cargo install garage --locked --version 2.5.0)".into(),
        ));
    };
    let metadata_url = fresh_database(&server).await?;
    let (garage, s3) = start_garage(&garage_bin, dir.path(), &log).await?;
    let ports: Vec<u16> = (0..NODES).map(|_| free_port()).collect::<Result<_>>()?;
    // One shell parents the nodes: its process tree is what the bench measures, and SIGTERM
    // to it stops every node.
    let mut script = String::new();
    for (i, port) in ports.iter().enumerate() {
        let data = dir.path().join(format!("node{i}"));
        std::fs::create_dir_all(&data)?;
        script.push_str(&format!(
            "\"$0\" serve --listen 127.0.0.1:{port} --data-root '{}' & P{i}=$!\n",
            data.display()
        ));
    }
    let pids: Vec<String> = (0..NODES).map(|i| format!("$P{i}")).collect();
    script.push_str(&format!(
        "trap 'kill {0}; wait' TERM\nwait {0}\n",
        pids.join(" ")
    ));
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .arg(&tools.spacedav)
        .env("SPACEDAV_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("SPACEDAV_AUTH_OIDC_ACCESS_TOKEN_TTL", "86400")
        .env("SPACEDAV_STORAGE_METADATA_URL", &metadata_url)
        .env("SPACEDAV_TUS_TRANSFER_SECRET", random_hex(32))
        .env("SPACEDAV_AUTH_TOKEN_SECRET", random_hex(32))
        .envs(s3)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);
    let mut child = cmd.spawn().context("starting the cluster's nodes")?;
    let pid = child.id().ok_or_else(|| anyhow!("the cluster exited"))?;
    for port in &ports {
        wait_for_port(&mut child, *port).await?;
    }
    let addrs: Vec<SocketAddr> = ports
        .iter()
        .map(|p| SocketAddr::from(([127, 0, 0, 1], *p)))
        .collect();
    let url = Url::parse(&format!("http://{}/", addrs[0]))?;
    let mut running = super::describe(Kind::Spacedav, url, pid, child, dir).await?;
    running.kind = Kind::SpacedavCluster;
    running.sidecar = Some(Sidecar { _garage: garage });
    // Every request from here on goes to the next node.
    let spread = |ep: &Endpoint| Endpoint::round_robin(addrs.clone(), ep.auth());
    if let Some(t) = running.tus.as_mut() {
        t.ep = spread(&t.ep)?;
    }
    if let Some(d) = running.dav.as_mut() {
        d.ep = spread(&d.ep)?;
    }
    Ok(Started::Up(Box::new(running)))
}

/// Creates a database of its own on the PostgreSQL server at `server`; its URL.
async fn fresh_database(server: &str) -> Result<String> {
    use sqlx::Connection as _;
    let name = format!("spacedav_bench_{}", random_hex(6));
    let mut conn = sqlx::PgConnection::connect(server)
        .await
        .with_context(|| format!("connecting to {POSTGRES_ENV} ({server})"))?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .with_context(|| format!("creating database {name}"))?;
    let mut url = Url::parse(server)?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// Starts a single-node Garage with a fresh key and bucket under `dir` and waits until the
/// bucket answers; the child and the nodes' `SPACEDAV_STORAGE_*` variables.
async fn start_garage(
    bin: &Path,
    dir: &Path,
    log: &std::fs::File,
) -> Result<(Child, Vec<(String, String)>)> {
    let (rpc, s3, admin) = (free_port()?, free_port()?, free_port()?);
    let root = dir.join("garage");
    std::fs::create_dir_all(&root)?;
    let config = format!(
        "metadata_dir = \"{root}/meta\"\ndata_dir = \"{root}/data\"\ndb_engine = \"sqlite\"\n\
         replication_factor = 1\nconsistency_mode = \"consistent\"\n\
         metadata_fsync = false\ndata_fsync = false\n\
         rpc_bind_addr = \"127.0.0.1:{rpc}\"\nrpc_public_addr = \"127.0.0.1:{rpc}\"\n\
         rpc_secret = \"{secret}\"\n[s3_api]\ns3_region = \"{REGION}\"\n\
         api_bind_addr = \"127.0.0.1:{s3}\"\nroot_domain = \".s3.garage.localhost\"\n\
         [admin]\napi_bind_addr = \"127.0.0.1:{admin}\"\nadmin_token = \"{token}\"\n",
        root = root.display(),
        secret = random_hex(32),
        token = random_hex(16),
    );
    let config_path = root.join("garage.toml");
    std::fs::write(&config_path, config)?;
    let access_key = format!("GK{}", random_hex(12));
    let secret_key = random_hex(32);
    let child = Command::new(bin)
        .arg("-c")
        .arg(&config_path)
        .args(["server", "--single-node", "--default-bucket"])
        .env("GARAGE_DEFAULT_ACCESS_KEY", &access_key)
        .env("GARAGE_DEFAULT_SECRET_KEY", &secret_key)
        .env("GARAGE_DEFAULT_BUCKET", BUCKET)
        .env("RUST_LOG", "garage=warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let endpoint = format!("http://127.0.0.1:{s3}");
    let settings = spacedav::spaces::s3::S3Settings {
        endpoint: endpoint.parse()?,
        region: REGION.into(),
        bucket: BUCKET.into(),
        path_style: true,
        access_key: access_key.clone(),
        secret_key: secret_key.clone(),
    };
    let blobs = spacedav::spaces::s3::S3Blobs::new(&settings, 1 << 40)?;
    let deadline = Instant::now() + super::START_TIMEOUT;
    while let Err(e) = spacedav::spaces::BlobStore::check(&blobs).await {
        if Instant::now() > deadline {
            bail!("garage did not become ready: {e}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let env = [
        ("BLOB_BACKEND", "s3"),
        ("S3_ENDPOINT", endpoint.as_str()),
        ("S3_REGION", REGION),
        ("S3_BUCKET", BUCKET),
        ("S3_PATH_STYLE", "true"),
        ("S3_ACCESS_KEY", access_key.as_str()),
        ("S3_SECRET_KEY", secret_key.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (format!("SPACEDAV_STORAGE_{k}"), v.to_string()))
    .collect();
    Ok((child, env))
}
