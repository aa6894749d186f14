//! Starting and stopping the servers under test, each on 127.0.0.1 with its own temporary
//! data directory, and describing how to reach its tus and WebDAV endpoints.
//!
//! Servers that can bind port 0 and print their address do so (spacedav, the sinks, the Node
//! peer); rustus and Apache get a port picked just before they start. Every server is stopped
//! by PID (SIGTERM, then SIGKILL after 10 s), never by name.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use base64::Engine as _;
use http::{HeaderValue, Method};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

use crate::client::{self, Endpoint};
use crate::dav::DavTarget;
use crate::tus::{Cleanup, TusTarget};

mod cluster;

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A server the bench knows how to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Kind {
    /// This project (`spacedav serve`), authenticated with Basic.
    Spacedav,
    /// The same, authenticated with a Bearer JWT from its built-in OpenID Connect provider
    /// (`--bearer`): shows what token verification costs next to Basic.
    SpacedavBearer,
    /// Transport ceiling: discards bodies.
    Null,
    /// Hash-bound ceiling: SHA1 + MD5 + ADLER32 of every body, then discards it.
    Hash,
    /// rustus (`cargo install rustus`).
    Rustus,
    /// @tus/server + @tus/file-store (`bench/tus-node`).
    TusNode,
    /// Apache httpd with mod_dav_fs (Debian `apache2`, `bench/apache`).
    Apache,
    /// Three spacedav nodes on one PostgreSQL with their bytes in Garage, requests spread
    /// over them in turn (`servers/cluster.rs`).
    SpacedavCluster,
}

impl Kind {
    /// The short name used in tables, JSON and `--servers`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Spacedav => "spacedav",
            Kind::SpacedavBearer => "spacedav-bearer",
            Kind::Null => "null-sink",
            Kind::Hash => "hash-sink",
            Kind::Rustus => "rustus",
            Kind::TusNode => "tus-node",
            Kind::Apache => "apache",
            Kind::SpacedavCluster => "spacedav-cluster",
        }
    }
}

/// Where the programs and assets are.
pub struct Tools {
    /// `spacedav` binary.
    pub spacedav: PathBuf,
    /// `rustus` binary, if found.
    pub rustus: Option<PathBuf>,
    /// `node` binary, if found.
    pub node: Option<PathBuf>,
    /// `apache2`/`httpd` binary, if found.
    pub apache: Option<PathBuf>,
    /// Apache's module directory.
    pub apache_modules: PathBuf,
    /// The repository's `bench/` directory.
    pub assets: PathBuf,
    /// Parent of the temporary data directories.
    pub work_dir: PathBuf,
}

/// A started server.
pub struct Running {
    /// Which server.
    pub kind: Kind,
    /// Its process id (the root of its process tree).
    pub pid: u32,
    /// Its tus endpoint, if it speaks tus.
    pub tus: Option<TusTarget>,
    /// Its WebDAV collection, if it speaks WebDAV.
    pub dav: Option<DavTarget>,
    child: Child,
    dir: tempfile::TempDir,
    /// What runs beside a cluster's nodes (its object store), stopped after them.
    sidecar: Option<cluster::Sidecar>,
}

/// The outcome of trying to start a server.
pub enum Started {
    /// Running.
    Up(Box<Running>),
    /// Not installed here; the text says what is missing.
    Missing(String),
}

/// Starts `kind`.
pub async fn start(kind: Kind, tools: &Tools) -> Result<Started> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("spacedav-bench-{}-", kind.name()))
        .tempdir_in(&tools.work_dir)?;
    let log = std::fs::File::create(dir.path().join("server.log"))?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let exe = std::env::current_exe()?;
    let mut port = None;
    let mut cmd = match kind {
        Kind::SpacedavCluster => return cluster::start(tools, dir, log).await,
        Kind::Spacedav | Kind::SpacedavBearer => {
            if !tools.spacedav.is_file() {
                bail!(
                    "{} not found (cargo build --release --bin spacedav)",
                    tools.spacedav.display()
                );
            }
            let mut c = Command::new(&tools.spacedav);
            c.args(["serve", "--listen", "127.0.0.1:0", "--data-root"])
                .arg(&data)
                .env("SPACEDAV_ADMIN_PASSWORD", ADMIN_PASSWORD)
                // One access token serves the whole run (the default lifetime is 5 minutes).
                .env("SPACEDAV_AUTH_OIDC_ACCESS_TOKEN_TTL", "86400");
            c
        }
        Kind::Null | Kind::Hash => {
            let mut c = Command::new(exe);
            let k = if kind == Kind::Null { "null" } else { "hash" };
            c.args(["sink", "--kind", k, "--listen", "127.0.0.1:0"]);
            c
        }
        Kind::TusNode => {
            let Some(node) = &tools.node else {
                return Ok(Started::Missing("node not installed".into()));
            };
            let script = tools.assets.join("tus-node/server.mjs");
            if !tools
                .assets
                .join("tus-node/node_modules/@tus/server")
                .is_dir()
            {
                return Ok(Started::Missing(format!(
                    "@tus/server not installed (npm ci --prefix {})",
                    tools.assets.join("tus-node").display()
                )));
            }
            let mut c = Command::new(node);
            c.arg(script).arg("0").arg(&data);
            c
        }
        Kind::Rustus => {
            let Some(rustus) = &tools.rustus else {
                return Ok(Started::Missing(
                    "rustus not installed (cargo install rustus --version 0.5.10 --locked)".into(),
                ));
            };
            let p = *port.insert(free_port()?);
            let mut c = Command::new(rustus);
            c.args(["--host", "127.0.0.1", "--port", &p.to_string()])
                .arg("--data-dir")
                .arg(&data)
                .arg("--info-dir")
                .arg(&data)
                // The default limit (256 KiB) refuses 10 MB PATCHes.
                .args(["--max-body-size", "16777216", "--log-level", "ERROR"]);
            c
        }
        Kind::Apache => {
            let Some(apache) = &tools.apache else {
                return Ok(Started::Missing(
                    "apache2 not installed (apt-get install apache2)".into(),
                ));
            };
            let p = *port.insert(free_port()?);
            let conf = apache_conf(tools, dir.path(), &data, p)?;
            let mut c = Command::new(apache);
            c.arg("-f").arg(conf).arg("-DFOREGROUND");
            c
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log.try_clone()?)
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", kind.name()))?;
    let pid = child
        .id()
        .ok_or_else(|| anyhow!("{} exited", kind.name()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let url = match port {
        // rustus and Apache do not print their address; the port was chosen above.
        Some(port) => {
            drain_to(stdout, log);
            wait_for_port(&mut child, port).await?;
            Url::parse(&format!("http://127.0.0.1:{port}/"))?
        }
        None => wait_for_address(&mut child, stdout, log).await?,
    };
    let running = describe(kind, url, pid, child, dir).await;
    running.map(|r| Started::Up(Box::new(r)))
}

/// Password given to spacedav's admin account for the run.
const ADMIN_PASSWORD: &str = "spacedav-bench-admin";

async fn describe(
    kind: Kind,
    url: Url,
    pid: u32,
    child: Child,
    dir: tempfile::TempDir,
) -> Result<Running> {
    let mut r = Running {
        kind,
        pid,
        tus: None,
        dav: None,
        child,
        dir,
        sidecar: None,
    };
    let plain = |u: &Url| Endpoint::new(u, None);
    match kind {
        Kind::Spacedav | Kind::SpacedavBearer | Kind::SpacedavCluster => {
            let auth = if kind == Kind::Spacedav {
                let basic = base64::engine::general_purpose::STANDARD
                    .encode(format!("admin:{ADMIN_PASSWORD}"));
                HeaderValue::from_str(&format!("Basic {basic}"))?
            } else {
                let token =
                    crate::signin::access_token(&plain(&url)?, &url, "admin", ADMIN_PASSWORD)
                        .await
                        .context("signing in at the built-in OpenID Connect provider")?;
                HeaderValue::from_str(&format!("Bearer {token}"))?
            };
            let ep = Endpoint::new(&url, Some(auth))?;
            let base = personal_space(&ep, &url).await?;
            r.tus = Some(
                TusTarget::new(ep.clone(), base.clone(), Cleanup::DavDelete(base.clone())).await?,
            );
            r.dav = Some(DavTarget {
                ep,
                base,
                propfind: true,
            });
        }
        Kind::Null | Kind::Hash => {
            let ep = plain(&url)?;
            r.tus = Some(TusTarget::new(ep.clone(), url.join("/files/")?, Cleanup::Nothing).await?);
            r.dav = Some(DavTarget {
                ep,
                base: url.join("/dav/")?,
                propfind: false,
            });
        }
        Kind::Rustus | Kind::TusNode => {
            let ep = plain(&url)?;
            let create = url.join("/files/")?;
            r.tus = Some(TusTarget::new(ep, create, Cleanup::Terminate).await?);
        }
        Kind::Apache => {
            let ep = plain(&url)?;
            r.dav = Some(DavTarget {
                ep,
                base: url.join("/dav/")?,
                propfind: true,
            });
        }
    }
    Ok(r)
}

/// `GET /graph/v1.0/me/drives` → the personal space's `root.webDavUrl`, as a collection URL.
async fn personal_space(ep: &std::sync::Arc<Endpoint>, url: &Url) -> Result<Url> {
    let mut conn = ep.conn();
    let req = conn
        .request(Method::GET, &url.join("/graph/v1.0/me/drives")?)
        .body(client::empty())?;
    let resp = conn.send(req).await?;
    let (_, _, body) = client::expect(resp, "GET me/drives", &[http::StatusCode::OK]).await?;
    let json: serde_json::Value = serde_json::from_str(&client::text(body).await?)?;
    let web = json["value"][0]["root"]["webDavUrl"]
        .as_str()
        .ok_or_else(|| anyhow!("me/drives has no value[0].root.webDavUrl: {json}"))?;
    let mut base = Url::parse(web)?;
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    Ok(base)
}

impl Running {
    /// Stops the server: SIGTERM by PID, then SIGKILL if it is still there after 10 s.
    pub async fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        drop(self.sidecar);
        drop(self.dir);
    }

    /// The server's directory (its data and log).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The server's log file (stderr and stdout after start-up).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }
}

/// Reads the child's stdout until a line containing `http://ADDR`, then keeps copying stdout
/// into the log so a chatty server never blocks on a full pipe.
async fn wait_for_address(
    child: &mut Child,
    stdout: tokio::process::ChildStdout,
    log: std::fs::File,
) -> Result<Url> {
    let mut lines = BufReader::new(stdout).lines();
    let found = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = lines.next_line().await? {
            if let Some(at) = line.find("http://") {
                let addr = line[at..].split_whitespace().next().unwrap_or_default();
                return Ok(Url::parse(addr)?);
            }
        }
        Err(anyhow!("exited without printing its address"))
    })
    .await;
    let url = match found {
        Ok(r) => r,
        Err(_) => Err(anyhow!("printed no address within {START_TIMEOUT:?}")),
    };
    if url.is_err() {
        let _ = child.start_kill();
    }
    let url = url?;
    drain_to(lines.into_inner(), log);
    Ok(Url::parse(&format!("http://{}/", url.authority()))?)
}

fn drain_to(out: impl tokio::io::AsyncRead + Unpin + Send + 'static, log: std::fs::File) {
    tokio::spawn(async move {
        let mut log = tokio::fs::File::from_std(log);
        let mut out = out;
        let _ = tokio::io::copy(&mut out, &mut log).await;
    });
}

async fn wait_for_port(child: &mut Child, port: u16) -> Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("exited with {status} before listening");
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("not listening on {port} within {START_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A port that was free a moment ago, for servers that cannot bind port 0 and report it.
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Writes the Apache config from `bench/apache/httpd.conf.tmpl` into `run_dir`. As root,
/// Apache's workers run as www-data, so the data and lock directories are handed to it.
fn apache_conf(tools: &Tools, run_dir: &Path, data: &Path, port: u16) -> Result<PathBuf> {
    let tmpl_path = tools.assets.join("apache/httpd.conf.tmpl");
    let tmpl = std::fs::read_to_string(&tmpl_path)
        .with_context(|| format!("reading {}", tmpl_path.display()))?;
    let lock = run_dir.join("lock");
    std::fs::create_dir_all(&lock)?;
    let root = is_root();
    if root {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(run_dir, std::fs::Permissions::from_mode(0o755))?;
        let status = std::process::Command::new("chown")
            .args(["-R", "www-data:www-data"])
            .arg(data)
            .arg(&lock)
            .status()?;
        if !status.success() {
            bail!("chown www-data failed");
        }
    }
    let conf = tmpl
        .replace("{{RUN_DIR}}", &run_dir.display().to_string())
        .replace("{{PORT}}", &port.to_string())
        .replace("{{DAV_ROOT}}", &data.display().to_string())
        .replace("{{MODULES}}", &tools.apache_modules.display().to_string())
        .replace(
            "{{USER_LINES}}",
            if root {
                "User www-data\nGroup www-data"
            } else {
                ""
            },
        );
    let path = run_dir.join("httpd.conf");
    std::fs::write(&path, conf)?;
    Ok(path)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            Some(line.split_whitespace().nth(2)? == "0")
        })
        .unwrap_or(false)
}
