//! A cluster of `spacedav serve` processes: one fresh PostgreSQL database, one Garage bucket
//! for the file bytes (`tests/common/garage.rs`), one transfer and one token secret (so an upload URL or a Bearer token from one
//! node is good on every node, as behind a load balancer), and a data root of its own per
//! node. Nodes can be killed, paused, resumed and started again.

use std::path::PathBuf;
use std::process::Command;

use crate::binary::{self, ADMIN_PASSWORD, Server};
use crate::common::client::Client;
use crate::common::garage::Garage;

/// The PostgreSQL server the suite runs on; panics when none is named (the suite was asked
/// for, so a missing database is a failure, not a skip).
pub async fn database() -> String {
    crate::common::postgres_database().await.unwrap_or_else(|| {
        panic!(
            "the multi-node suite needs PostgreSQL: set {} (.ci/run does)",
            crate::common::POSTGRES_ENV
        )
    })
}

/// Running nodes on one database and one bucket; each stopped on drop (Garage last).
pub struct Cluster {
    root: tempfile::TempDir,
    pub metadata_url: String,
    /// Where every node keeps the file bytes.
    pub garage: Garage,
    nodes: Vec<Option<Server>>,
    /// The admin's personal space id.
    pub sid: String,
    /// Whether [`Cluster::command`] configures the shared secrets; without them each node
    /// must take the installation's from the database (tests/scaleout/secrets.rs).
    pub configured_secrets: bool,
}

impl Cluster {
    /// Starts `n` nodes, one after the other (the first creates the schema and `admin`).
    pub async fn start(n: usize) -> Cluster {
        let mut cluster = Cluster::empty(database().await).await;
        for i in 0..n {
            cluster.nodes.push(None);
            cluster.restart(i);
        }
        cluster.sid = cluster.space_id();
        cluster
    }

    /// [`Cluster::start`] with nodes that configure no secret and no signing key.
    pub async fn start_unconfigured(n: usize) -> Cluster {
        let mut cluster = Cluster::empty(database().await).await;
        cluster.configured_secrets = false;
        for i in 0..n {
            cluster.nodes.push(None);
            cluster.restart(i);
        }
        cluster.sid = cluster.space_id();
        cluster
    }

    /// No node running yet, on the database at `metadata_url` and a fresh Garage.
    pub async fn empty(metadata_url: String) -> Cluster {
        let root = tempfile::tempdir().expect("temp dir");
        Cluster {
            root,
            metadata_url,
            garage: Garage::start().await,
            nodes: Vec::new(),
            sid: String::new(),
            configured_secrets: true,
        }
    }

    /// The working directory of node `i` (its data root is `data/` in it).
    pub fn node_dir(&self, i: usize) -> PathBuf {
        let dir = self.root.path().join(format!("node{i}"));
        std::fs::create_dir_all(&dir).expect("node dir");
        dir
    }

    /// The command that runs the binary as node `i`: the cluster's database, bucket and
    /// secrets in the environment, as an operator would configure each node.
    pub fn command(&self, i: usize) -> Command {
        let mut cmd = binary::spacedav(&self.node_dir(i));
        cmd.env("SPACEDAV_STORAGE_METADATA_URL", &self.metadata_url)
            .envs(self.garage.env());
        if !self.configured_secrets {
            return cmd;
        }
        cmd.env(
            "SPACEDAV_TUS_TRANSFER_SECRET",
            "cluster-transfer-secret-0123456789",
        )
        .env(
            "SPACEDAV_AUTH_TOKEN_SECRET",
            "cluster-token-secret-0123456789abc",
        );
        cmd
    }

    /// (Re)starts node `i` (stopping a running one first).
    pub fn restart(&mut self, i: usize) {
        self.nodes[i] = None;
        self.nodes[i] = Some(Server::spawn(self.command(i)));
    }

    /// Starts one more node (the next index).
    pub fn add_node(&mut self) {
        self.nodes.push(None);
        self.restart(self.nodes.len() - 1);
    }

    /// (Re)starts node `i` with its S3 requests sent to `endpoint` (a proxy in front of the
    /// cluster's Garage).
    pub fn restart_through(&mut self, i: usize, endpoint: &str) {
        self.nodes[i] = None;
        let mut cmd = self.command(i);
        cmd.env("SPACEDAV_STORAGE_S3_ENDPOINT", endpoint);
        self.nodes[i] = Some(Server::spawn(cmd));
    }

    /// Takes `servers`, started from [`Cluster::command`] in index order, as its nodes.
    pub fn adopt(&mut self, servers: Vec<Server>) {
        self.nodes = servers.into_iter().map(Some).collect();
        self.sid = self.space_id();
    }

    fn node(&self, i: usize) -> &Server {
        self.nodes[i].as_ref().expect("node is running")
    }

    /// `http://IP:PORT` of node `i`.
    pub fn base(&self, i: usize) -> String {
        format!("http://{}", self.node(i).addr)
    }

    /// The admin's personal space on node `i`: `.../spaces/{sid}` (no trailing slash).
    pub fn space(&self, i: usize) -> String {
        format!("{}/remote.php/dav/spaces/{}", self.base(i), self.sid)
    }

    /// The same path (`/data/...`, `/remote.php/...`) on node `i`.
    pub fn on(&self, i: usize, url: &str) -> String {
        let at = url.find("/data/").or_else(|| url.find("/remote.php/"));
        format!("{}{}", self.base(i), &url[at.expect("a spacedav URL")..])
    }

    /// Sends `signal` (`KILL`, `STOP`, `CONT`) to node `i`'s process.
    pub fn signal(&self, i: usize, signal: &str) {
        let pid = self.node(i).child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal} {pid}");
    }

    /// SIGKILLs node `i` and reaps it; it stays down until [`Cluster::restart`].
    pub fn kill(&mut self, i: usize) {
        self.signal(i, "KILL");
        let mut node = self.nodes[i].take().expect("node is running");
        node.child.wait().expect("reap");
    }

    /// What the bucket holds besides finished blobs: the open multipart uploads and the tail
    /// objects, listed through Garage's S3 API.
    pub async fn leftovers(&self) -> (Vec<(String, String)>, Vec<String>) {
        let blobs = self.garage.blobs();
        let uploads = blobs.open_multipart_uploads().await.expect("list uploads");
        let tails = self
            .objects()
            .await
            .into_iter()
            .filter(|k| k.contains(".tail."))
            .collect();
        (uploads, tails)
    }

    /// Every object key in the bucket.
    pub async fn objects(&self) -> Vec<String> {
        self.garage
            .blobs()
            .object_keys()
            .await
            .expect("list objects")
    }

    /// Runs `spacedav args...` as an operator on node `i`'s configuration; its output.
    pub fn run(&self, i: usize, args: &[&str]) -> std::process::Output {
        self.command(i).args(args).output().expect("binary runs")
    }

    /// Makes the upload at `url` expired, as if its expiry had passed, in the database.
    pub async fn expire(&self, url: &str) {
        use sqlx::Connection;
        let mut db = sqlx::PgConnection::connect(&self.metadata_url)
            .await
            .expect("connect to the cluster's database");
        let done = sqlx::query("UPDATE uploads SET expires_at = 0 WHERE id = $1")
            .bind(upload_id(url).to_string())
            .execute(&mut db)
            .await
            .expect("UPDATE uploads");
        assert_eq!(done.rows_affected(), 1, "upload {url} exists");
    }

    /// The admin's personal space id, from `spacedav space list` against the database.
    fn space_id(&self) -> String {
        let out = self
            .command(0)
            .args(["space", "list"])
            .output()
            .expect("space list");
        let list = binary::stdout(&out);
        list.lines()
            .find(|l| l.contains("\tpersonal\tpersonal/admin\t"))
            .and_then(|l| l.split('\t').next())
            .unwrap_or_else(|| panic!("no personal space of admin: {list}"))
            .to_string()
    }
}

/// The admin's client (Basic credentials; good on every node).
pub fn admin() -> Client {
    Client::new("admin", ADMIN_PASSWORD)
}

/// A request body the test feeds piece by piece: the sender, and the body to send.
pub fn streaming() -> (
    futures::channel::mpsc::UnboundedSender<Result<bytes::Bytes, std::io::Error>>,
    reqwest::Body,
) {
    let (tx, rx) = futures::channel::mpsc::unbounded();
    (tx, reqwest::Body::wrap_stream(rx))
}

/// The value of the counter series `name{labels}` on node `i`'s `/metrics`; panics when the
/// node does not export it.
pub async fn counter(cluster: &Cluster, i: usize, series: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", cluster.base(i)))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics body");
    let prefix = format!("{series} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("node {i} exports no {series}"))
        .trim()
        .parse()
        .expect("a count")
}

/// The upload id a `/data/{token}` URL names (the `upl` claim of its transfer token).
pub fn upload_id(url: &str) -> uuid::Uuid {
    use base64::Engine;
    let token = &url[url.find("/data/").expect("an upload URL") + "/data/".len()..];
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("JSON claims");
    claims["upl"]
        .as_str()
        .expect("upl")
        .parse()
        .expect("a uuid")
}

/// The PostgreSQL backends (pids) that hold the upload at `url`: the session advisory lock
/// keyed on the upload id's last 64 bits is granted to them.
async fn holders(db: &mut sqlx::PgConnection, url: &str) -> Vec<i32> {
    let id = upload_id(url);
    let b = id.as_bytes();
    let key = i64::from_be_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]);
    sqlx::query_scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND objsubid = 1 AND classid::bigint = $1 AND objid::bigint = $2",
    )
    .bind((key >> 32) & 0xffff_ffff)
    .bind(key & 0xffff_ffff)
    .fetch_all(db)
    .await
    .expect("pg_locks")
}

async fn connect(cluster: &Cluster) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(&cluster.metadata_url)
        .await
        .expect("connect to the cluster's database")
}

/// Waits until some node holds the upload at `url` (a request of it is under way there).
pub async fn await_held(cluster: &Cluster, url: &str) {
    let mut db = connect(cluster).await;
    while holders(&mut db, url).await.is_empty() {
        tokio::task::yield_now().await;
    }
}

/// Ends the database session through which a node holds the upload at `url`, as PostgreSQL
/// does for a client that stopped answering (TCP keepalive, `idle_session_timeout`), and
/// waits until the hold is gone.
pub async fn end_hold(cluster: &Cluster, url: &str) {
    let mut db = connect(cluster).await;
    let pids = holders(&mut db, url).await;
    assert_eq!(pids.len(), 1, "one session holds the upload");
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pids[0])
        .fetch_one(&mut db)
        .await
        .expect("pg_terminate_backend");
    assert!(ended, "the holding session ended");
    while !holders(&mut db, url).await.is_empty() {
        tokio::task::yield_now().await;
    }
}

/// `oc:checksums` as the server renders them for `data`.
pub fn oc_checksums(data: &[u8]) -> String {
    use sha1::Digest;
    format!(
        "SHA1:{} MD5:{} ADLER32:{:08x}",
        hex::encode(sha1::Sha1::digest(data)),
        hex::encode(md5::Md5::digest(data)),
        adler::adler32_slice(data)
    )
}
