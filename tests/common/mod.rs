//! The one way tests start a server in-process: on 127.0.0.1:0, with its own temp data root.
//! Dropping the `TestServer` stops it (in-flight requests are cut off). Its clock is
//! adjustable ([`TestServer::advance`]); [`client`] is the typed tus and WebDAV client, [`dav`]
//! the WebDAV shorthands and multistatus reading, [`log`] the captured log. Tests that kill or
//! restart a real process use `tests/binary`'s `Server`, built on the same client and admin
//! password.
#![allow(dead_code)]

pub mod client;
pub mod dav;
pub mod garage;
pub mod log;

use std::net::SocketAddr;

use spacedav::auth::hash_password;
use spacedav::clock::Clock;
use spacedav::config::Config;
use spacedav::spaces::{NewSpace, NewUser, Role, Space, SpaceId, SpacePath, User};
use spacedav::{AppState, TusState};
use tokio::sync::oneshot;

/// The user every test server starts with.
pub const ADMIN: &str = "admin";
/// Password of the `admin` user every test server starts with (the binary's too).
pub const ADMIN_PASSWORD: &str = "admin-test-password";

/// A WebDAV root of SPEC §1.
#[derive(Debug, Clone, Copy)]
pub enum Root {
    /// `/remote.php/dav/spaces/{sid}/`
    Spaces,
    /// `/remote.php/dav/files/{user}/`
    Files,
    /// `/remote.php/webdav/`
    Webdav,
}

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
    /// The state the server runs with: the core (direct store access for assertions, through
    /// `Deref`) and the tus service its requests use.
    pub state: TusState,
    /// The temp data root (removed on drop).
    pub dir: tempfile::TempDir,
    /// The admin's personal space.
    admin_sid: SpaceId,
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
        let state = TusState::new(state);
        let admin = state.store().user_by_name(ADMIN).await.expect("admin");
        let admin_sid = state.store().space_id(admin.id.0);
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
            admin_sid,
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

    /// The `capabilities` object of OCS's capabilities, as an anonymous client reads it.
    pub async fn capabilities(&self) -> serde_json::Value {
        let res = self
            .client()
            .get(self.url("/ocs/v2.php/cloud/capabilities?format=json"))
            .send()
            .await
            .unwrap();
        let mut v: serde_json::Value = res.json().await.unwrap();
        v["ocs"]["data"]["capabilities"].take()
    }

    /// The admin's personal space id.
    pub async fn admin_space(&self) -> SpaceId {
        self.admin_sid
    }

    /// The admin's personal space id, known since the start.
    pub fn admin_space_id(&self) -> &SpaceId {
        &self.admin_sid
    }

    /// Absolute URL (trailing `/`) of a WebDAV root of the admin on this server.
    pub fn root(&self, root: Root) -> String {
        self.root_at(&self.base, root)
    }

    /// The same root reached through another base (a recording proxy).
    pub fn root_at(&self, base: &str, root: Root) -> String {
        let base = base.trim_end_matches('/');
        match root {
            Root::Spaces => format!("{base}/remote.php/dav/spaces/{}/", self.admin_sid),
            Root::Files => format!("{base}/remote.php/dav/files/{ADMIN}/"),
            Root::Webdav => format!("{base}/remote.php/webdav/"),
        }
    }

    /// `{base}/remote.php/dav/spaces/{sid}` (no trailing slash).
    pub fn space_url(&self, sid: &SpaceId) -> String {
        format!("{}/remote.php/dav/spaces/{}", self.base, sid)
    }

    /// Break the metadata database for real: drop `table` behind the server's back (the
    /// storage failure tests).
    pub async fn drop_table(&self, table: &str) {
        use sqlx::Connection;
        let mut db = sqlx::AnyConnection::connect(&self.state.config().metadata_url)
            .await
            .expect("connect to the metadata database");
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&mut db)
            .await
            .expect("drop the table");
    }

    /// Create a project space named `name`, owned (and managed) by the admin, with `quota`
    /// bytes (`None`: unlimited).
    pub async fn project_space(&self, name: &str, quota: Option<u64>) -> Space {
        let store = self.state.store();
        let admin = store.user_by_name(ADMIN).await.expect("admin");
        store
            .create_project_space(NewSpace {
                name: name.into(),
                alias: None,
                quota,
                owner: admin.id,
            })
            .await
            .expect("create a project space")
    }

    /// A project space `Project` with a folder `docs`, where the admin manages and a new user
    /// `bob` (password `bob-pw`) edits: the setting of the tests of writes by two users.
    pub async fn shared_project_space(&self) -> SpaceId {
        let store = self.state.store();
        let bob = self.add_user("bob", "bob-pw").await;
        let space = self.project_space("Project", None).await;
        store
            .set_member(space.id.space, bob.id, Some(Role::Editor))
            .await
            .expect("bob edits");
        store
            .create_folder(space.id.space, &SpacePath::parse("docs").unwrap())
            .await
            .expect("create docs");
        space.id
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

/// Write `data` into upload `session`'s staging from its start and advance the session to
/// the end of it, as a final PATCH does up to its commit, without committing the file.
pub async fn stage_without_committing(
    store: &spacedav::spaces::Store,
    session: &mut spacedav::spaces::Upload,
    data: &[u8],
) {
    let mut sink = store.append_staging(session, 0).await.unwrap();
    sink.write_bytes(bytes::Bytes::copy_from_slice(data))
        .await
        .unwrap();
    let staged = sink.sync().await.unwrap();
    let end = data.len() as u64;
    assert!(
        store
            .advance_staged(session, end, Some(end), staged)
            .await
            .unwrap()
    );
}
