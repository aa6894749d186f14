//! The one way tests start a server: in-process, on 127.0.0.1:0, with its own temp data root.
//! Dropping the `TestServer` stops it (in-flight requests are cut off). Its clock is
//! adjustable ([`TestServer::advance`]); [`client`] is the typed tus and WebDAV client.
#![allow(dead_code)]

pub mod client;
pub mod garage;
pub mod log;

use std::net::SocketAddr;

use spacedav::AppState;
use spacedav::auth::hash_password;
use spacedav::clock::Clock;
use spacedav::config::Config;
use spacedav::spaces::{NewUser, SpaceId, User};
use tokio::sync::oneshot;

/// Password of the `admin` user every test server starts with.
pub const ADMIN_PASSWORD: &str = "admin-test-password";

/// Environment variable naming a PostgreSQL server (`postgres://USER@HOST:PORT`) to run the
/// tests' metadata on instead of SQLite; `.ci/run` sets it for a second pass over the suites.
pub const POSTGRES_ENV: &str = "SPACEDAV_TEST_POSTGRES";

/// A fresh, empty database on the PostgreSQL server named by [`POSTGRES_ENV`], as a metadata
/// URL; `None` when the variable is unset (the tests then use SQLite under their data root).
pub async fn postgres_database() -> Option<String> {
    use sqlx::Connection;
    let server = std::env::var(POSTGRES_ENV).ok()?;
    let server = server.trim_end_matches('/');
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("connect to the test PostgreSQL server");
    let name = format!("spacedav_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!(
        "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
    ))
    .execute(&mut admin)
    .await
    .expect("create a test database");
    Some(format!("{server}/{name}"))
}

/// The metadata URL for a store under `dir`: SQLite there, or a fresh PostgreSQL database.
pub async fn metadata_url(dir: &std::path::Path) -> String {
    match postgres_database().await {
        Some(url) => url,
        None => format!("sqlite://{}", dir.join("meta.db").display()),
    }
}

/// The `WWW-Authenticate` values of a response, in order.
pub fn challenges(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .collect()
}

/// Assert that a 401 offers both Bearer and Basic (SPEC §2; desktop client 7 needs Bearer).
pub fn assert_both_challenges(res: &reqwest::Response, what: &str) {
    assert_eq!(
        challenges(res),
        ["Bearer realm=\"spacedav\"", "Basic realm=\"spacedav\""],
        "{what}"
    );
}

/// A running server.
pub struct TestServer {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// The state the server runs with (direct store access for assertions).
    pub state: AppState,
    /// The temp data root (removed on drop).
    pub dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// Start with the default configuration.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Start after letting the test adjust the configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_data_root(dir.path());
        if let Some(url) = postgres_database().await {
            config.metadata_url = url;
        }
        config.admin_password = Some(ADMIN_PASSWORD.into());
        adjust(&mut config);
        Self::start_in(dir, config).await
    }

    /// Start on an existing data root (e.g. to test a restart) with `config`. The server's
    /// clock is adjustable: [`TestServer::advance`] moves it.
    pub async fn start_in(dir: tempfile::TempDir, config: Config) -> TestServer {
        let state = AppState::open_with_clock(config, Clock::adjustable())
            .await
            .expect("open state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel();
        let st = state.clone();
        tokio::spawn(async move {
            spacedav::serve(listener, st, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        TestServer {
            base: format!("http://{addr}"),
            addr,
            state,
            dir,
            shutdown: Some(tx),
        }
    }

    /// Move the server's clock forward by `by`: uploads, locks and tokens expire as if that
    /// time had passed, without waiting for it.
    pub fn advance(&self, by: std::time::Duration) {
        self.state.clock().advance(by);
    }

    /// Stop the server and hand back its data root and config, for a restart.
    pub fn stop(mut self) -> (tempfile::TempDir, Config) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let config = self.state.config().clone();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        (dir, config)
    }

    /// An HTTP client.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    /// `{base}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The admin's personal space id.
    pub async fn admin_space(&self) -> SpaceId {
        let admin = self
            .state
            .store()
            .user_by_name("admin")
            .await
            .expect("admin");
        self.state.store().space_id(admin.id.0)
    }

    /// `{base}/remote.php/dav/spaces/{sid}` (no trailing slash).
    pub fn space_url(&self, sid: &SpaceId) -> String {
        format!("{}/remote.php/dav/spaces/{}", self.base, sid)
    }

    /// Create a (non-admin) user with a password.
    pub async fn add_user(&self, name: &str, password: &str) -> User {
        self.state
            .store()
            .create_user(NewUser {
                name: name.into(),
                display_name: name.into(),
                email: Some(format!("{name}@example.org")),
                password_hash: hash_password(password),
                is_admin: false,
            })
            .await
            .expect("create user")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
