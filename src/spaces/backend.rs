//! The metadata database backends: SQLite (the embedded default) and PostgreSQL.
//!
//! Every query and the schema are shared: they run through `sqlx::Any` with portable SQL, so a
//! backend is a choice of URL, never a second implementation of the tree logic (DESIGN.md). A
//! [`MetaBackend`] contributes only what differs between the databases: how a connection is
//! set up, how a write transaction starts, and when a commit is on stable storage.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};
use uuid::Uuid;

use super::db::{Db, DbPool};
use super::error::{StoreError, StoreResult};
use super::group_commit::{Checkpointer, WalSync};
use super::reserve::Reserve;

/// What one SQL database needs beyond the shared queries.
#[async_trait]
pub(crate) trait MetaBackend: Send + Sync + 'static {
    /// Open a transaction that will write, holding the write lock of `scope` from its first
    /// statement so that its reads and its writes see one consistent state.
    async fn begin_write(
        &self,
        pool: &DbPool,
        scope: WriteScope<'_>,
    ) -> StoreResult<sqlx::Transaction<'static, Db>>;

    /// [`MetaBackend::begin_write`] when no other writer would have to wait for this one:
    /// `None` when the write would queue. For a transaction that then waits for something
    /// else before it commits (the bytes a completion names), which must not keep other
    /// writers waiting too.
    async fn try_begin_write(
        &self,
        pool: &DbPool,
        scope: WriteScope<'_>,
    ) -> StoreResult<Option<sqlx::Transaction<'static, Db>>>;

    /// Return once every transaction this process committed before the call is on stable
    /// storage.
    async fn durable(&self) -> StoreResult<()>;

    /// Take the exclusive hold named `key` as every process on this database sees it: `None`
    /// at once when another holds it, unless `wait`. Where one process owns the database
    /// (SQLite), the hold is the caller's in-process lock alone and this grants at once.
    async fn hold(&self, key: i64, wait: bool) -> StoreResult<Option<Hold>>;

    /// Give the database the room set aside for deleting on a full disk (see `reserve.rs`);
    /// returns whether there was any, i.e. whether a refused deletion is worth running again.
    async fn release_reserve(&self) -> bool;

    /// Set that room aside again, if the disk has it.
    async fn restore_reserve(&self);

    /// Where a single statement that writes outside a [`MetaBackend::begin_write`]
    /// transaction runs: the same queue as those transactions, so that it waits its turn
    /// instead of meeting a writer's lock.
    fn writer<'a>(&'a self, pool: &'a DbPool) -> &'a DbPool;

    /// Close the connections this backend keeps besides `pool` (see [`super::Store::close`]).
    async fn close(&self);
}

/// What a write transaction may change, and so which writers it must exclude.
#[derive(Debug, Clone, Copy)]
pub(crate) enum WriteScope<'a> {
    /// Anything (accounts, sign-in records, shares, sweeps over every space): excludes every
    /// other writer.
    All,
    /// Only the trees, sessions and reservations of these spaces: excludes the writers of the
    /// same spaces and the `All` writers, and runs beside the writers of other spaces.
    Spaces(&'a [Uuid]),
}

/// An exclusive hold across processes ([`MetaBackend::hold`]), kept until
/// [`Hold::release`]. On PostgreSQL it is a session advisory lock on a connection kept for
/// the purpose; a hold dropped without `release` closes that connection, which ends the lock
/// as well (as does the death of the process: its connections close with it).
pub struct Hold(Option<(sqlx::pool::PoolConnection<Db>, i64)>);

impl Hold {
    /// Give the hold up; once this returns, any process can take it.
    pub async fn release(mut self) {
        if let Some((mut conn, key)) = self.0.take() {
            let unlocked = sqlx::query("SELECT 1 FROM (SELECT pg_advisory_unlock($1)) AS u")
                .bind(key)
                .execute(&mut *conn)
                .await;
            if unlocked.is_err() {
                conn.close_on_drop();
            }
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Some((mut conn, _)) = self.0.take() {
            // No async unlock here: closing the session ends its advisory locks.
            conn.close_on_drop();
        }
    }
}

/// The databases a metadata URL can name.
enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    /// The backend `url` names by its scheme, if it is one this build serves.
    fn of(url: &str) -> Option<Kind> {
        if url.starts_with("sqlite:") {
            Some(Kind::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Kind::Postgres)
        } else {
            None
        }
    }
}

/// Whether `url` names a metadata database this build can open (checked by the config
/// before anything is opened).
pub fn is_metadata_url(url: &str) -> bool {
    Kind::of(url).is_some()
}

/// Connect to the metadata database at `url` (`sqlite:` or `postgres:`), run the embedded
/// migrations, and return the pool with the backend that serves it.
pub(crate) async fn connect(url: &str) -> StoreResult<(DbPool, Arc<dyn MetaBackend>)> {
    sqlx::any::install_default_drivers();
    let (pool, backend): (DbPool, Arc<dyn MetaBackend>) = match Kind::of(url) {
        Some(Kind::Sqlite) => Sqlite::connect(url).await?,
        Some(Kind::Postgres) => Postgres::connect(url).await?,
        None => {
            return Err(StoreError::Db(sqlx::Error::Configuration(
                format!("metadata database URL {url:?}: expected sqlite: or postgres:").into(),
            )));
        }
    };
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok((pool, backend))
}

/// Pool options shared by both backends: `max` connections, and a connection that still
/// counts an open transaction is closed instead of being handed out again.
///
/// Why: when a statement or the COMMIT of a write transaction fails with `SQLITE_FULL` (or
/// `SQLITE_IOERR`), SQLite rolls the transaction back by itself. sqlx does not notice: its
/// depth counter stays at 1, the ROLLBACK it sends when the `Transaction` is dropped fails
/// ("no transaction is active") and leaves the counter where it was, and the connection goes
/// back to the pool looking healthy. Every later `begin_write` on it then fails with
/// "attempted to call begin_with at non-zero transaction depth", long after the disk has
/// room again (issue 15). Checking here covers every write path at once.
fn pool_options(max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .before_acquire(|conn, _| {
            Box::pin(async move {
                if conn.is_in_transaction() {
                    tracing::warn!(
                        "discarding a pooled database connection left inside a transaction"
                    );
                    return Ok(false);
                }
                Ok(true)
            })
        })
}

/// SQLite in WAL mode, one file under the data root.
///
/// SQLite has one writer at a time. Left to SQLite, concurrent writers meet its lock and wait
/// in its busy handler, which sleeps 1 to 100 ms between tries instead of queueing: a burst of
/// small uploads then spends most of its latency asleep (issue 13). So every write runs on
/// `writer`, a pool of one connection, whose FIFO acquire queue is the writers' queue: a
/// writer waits exactly as long as the writers before it take, and the lock is always free
/// when its turn comes. Reads run on the main pool beside it (WAL readers never wait).
struct Sqlite {
    /// The one connection that writes, lent out in arrival order.
    writer: DbPool,
    /// The WAL's group-commit syncer.
    wal: WalSync,
    /// Room for deletions on a full disk.
    reserve: Reserve,
    /// Checkpoints the WAL beside the writers, on a connection held open for the life of the
    /// store: SQLite deletes the WAL when its last connection closes, and `wal` must keep
    /// syncing the file the pool writes to.
    checkpoints: Checkpointer,
}

impl Sqlite {
    async fn connect(url: &str) -> StoreResult<(DbPool, Arc<dyn MetaBackend>)> {
        let sqlite = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        // Creates the file and switches it to WAL (a persistent setting) before the pool opens
        // it through the Any driver, whose URL cannot carry these settings.
        let mut keeper = sqlite.connect().await?;
        // Its first read takes the shared lock on the database file that a WAL-mode connection
        // keeps while open; a closing connection deletes the WAL only when no one holds it.
        keeper.execute("SELECT count(*) FROM sqlite_master").await?;
        let any = url.parse::<AnyConnectOptions>()?;
        let pool = Self::pool(readers()).connect_with(any.clone()).await?;
        let writer = Self::pool(1).connect_lazy_with(any);
        let backend = Sqlite {
            writer,
            wal: WalSync::open(sqlite.get_filename())?,
            reserve: Reserve::beside(sqlite.get_filename()),
            checkpoints: Checkpointer::new(keeper),
        };
        backend.reserve.restore().await;
        Ok((pool, Arc::new(backend)))
    }

    /// A pool of up to `max` connections set up for this server.
    fn pool(max: u32) -> AnyPoolOptions {
        pool_options(max).after_connect(|conn, _| {
            Box::pin(async move {
                // NORMAL: commits do not fsync; `durable` syncs the WAL for groups of
                // concurrent commits before anything is acknowledged (see `group_commit.rs`).
                // The busy timeout remains for writes that do not come through `writer`
                // (another process on the file, such as `spacedav fsck`). The page cache is
                // 512 KiB per connection (SQLite's default is 2 MiB), so the 5 connections of a
                // 2-core machine hold at most 2.5 MiB of pages ([`readers`] and the writer); a
                // page beyond it is a read from the OS's file cache
                // (PROPFIND of 10,000 files: same server CPU as with 1 MiB, peak 2-3 MiB lower).
                // No automatic checkpoints: they run beside the writers (`group_commit.rs`).
                conn.execute(
                    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA busy_timeout = 30000; PRAGMA cache_size = -512; \
                     PRAGMA wal_autocheckpoint = 0",
                )
                .await?;
                Ok(())
            })
        })
    }
}

/// How many connections read beside the writer: two per core, at least 4, at most 16. A
/// SQLite read is CPU work on its connection's own thread, so more readers than that only
/// wait for a core; and each reader keeps its page cache and what its thread's malloc arena
/// kept of its largest listing (issue 13: with 8 readers on 2 cores the peaks of a full
/// benchmark run were 3-5 MiB higher than with 4, and PROPFIND of 10,000 files and name
/// search were no faster).
fn readers() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    (2 * cores).clamp(4, 16)
}

#[async_trait]
impl MetaBackend for Sqlite {
    async fn begin_write(
        &self,
        _pool: &DbPool,
        _scope: WriteScope<'_>,
    ) -> StoreResult<sqlx::Transaction<'static, Db>> {
        // SQLite has one writer whatever the scope: the transaction waits for `writer`'s one
        // connection (the queue) and keeps it until it commits or rolls back. IMMEDIATE takes
        // the write lock up front all the same, in case another process holds it.
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn try_begin_write(
        &self,
        _pool: &DbPool,
        _scope: WriteScope<'_>,
    ) -> StoreResult<Option<sqlx::Transaction<'static, Db>>> {
        // The writer's one connection is idle and nobody queues for it (sqlx's `try_acquire`
        // yields to waiters): the transaction delays a writer only if one comes meanwhile.
        Ok(self.writer.try_begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn durable(&self) -> StoreResult<()> {
        let due = self.wal.sync().await?;
        self.checkpoints.committed(due);
        Ok(())
    }

    async fn hold(&self, _key: i64, _wait: bool) -> StoreResult<Option<Hold>> {
        Ok(Some(Hold(None)))
    }

    async fn release_reserve(&self) -> bool {
        self.reserve.release().await
    }

    async fn restore_reserve(&self) {
        self.reserve.restore().await
    }

    fn writer<'a>(&'a self, _pool: &'a DbPool) -> &'a DbPool {
        &self.writer
    }

    async fn close(&self) {
        self.writer.close().await;
    }
}

/// PostgreSQL, for several server processes sharing one database.
struct Postgres {
    /// Connections that carry [`Hold`]s, apart from the query pool: a request holding one
    /// for its whole duration must never leave the queries it makes meanwhile without a
    /// connection.
    holds: DbPool,
}

/// How many holds one process keeps at once (tus uploads streaming in parallel); a further
/// request waits for a connection.
const MAX_HOLDS: u32 = 64;

/// The advisory lock every write transaction holds (an arbitrary constant: "spacedav" in
/// ASCII): exclusively for a [`WriteScope::All`] write, shared for a write into named spaces.
/// Together with the per-space locks ([`space_lock_key`]) this serialises the writers of one
/// space exactly as SQLite serialises all of them, so every read-check-write sequence of the
/// shared queries (quota, compare-and-set, lock conflicts) keeps the meaning it has on SQLite,
/// while writers of different spaces (on any node) run side by side.
const WRITE_LOCK: i64 = 0x7370_6163_6564_6176;

/// The advisory-lock key of a space's write lock: the first 64 bits of its (random, v4) id.
/// A collision of two spaces only makes their writers wait for each other.
pub(crate) fn space_lock_key(space: Uuid) -> i64 {
    let b = space.as_bytes();
    i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// The per-space keys of `spaces` in the one order every writer takes them (ascending, each
/// once), so that two writers touching the same two spaces can never wait for each other in
/// a cycle.
fn ordered_keys(spaces: &[Uuid]) -> Vec<i64> {
    let mut keys: Vec<i64> = spaces.iter().copied().map(space_lock_key).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

impl Postgres {
    async fn connect(url: &str) -> StoreResult<(DbPool, Arc<dyn MetaBackend>)> {
        let any: AnyConnectOptions = url.parse()?;
        let holds = pool_options(MAX_HOLDS).connect_lazy_with(any.clone());
        let pool = pool_options(16).connect_with(any).await?;
        Ok((pool, Arc::new(Postgres { holds })))
    }
}

#[async_trait]
impl MetaBackend for Postgres {
    async fn begin_write(
        &self,
        pool: &DbPool,
        scope: WriteScope<'_>,
    ) -> StoreResult<sqlx::Transaction<'static, Db>> {
        let mut tx = pool.begin().await?;
        match scope {
            WriteScope::All => {
                sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS l")
                    .bind(WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
            }
            WriteScope::Spaces(spaces) => {
                // The shared cluster lock first, then the spaces in key order: every writer
                // takes its locks in this one order.
                sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock_shared($1)) AS l")
                    .bind(WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                for key in ordered_keys(spaces) {
                    sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS l")
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        Ok(tx)
    }

    async fn try_begin_write(
        &self,
        _pool: &DbPool,
        _scope: WriteScope<'_>,
    ) -> StoreResult<Option<sqlx::Transaction<'static, Db>>> {
        // Whether a space's advisory lock is free cannot be known without taking it, and a
        // transaction kept open across nodes is not worth the statements it would hide.
        Ok(None)
    }

    async fn durable(&self) -> StoreResult<()> {
        // `synchronous_commit = on` (the default): a commit returns once its WAL is flushed.
        Ok(())
    }

    async fn hold(&self, key: i64, wait: bool) -> StoreResult<Option<Hold>> {
        let mut conn = self.holds.acquire().await?;
        let taken = if wait {
            sqlx::query("SELECT 1 FROM (SELECT pg_advisory_lock($1)) AS l")
                .bind(key)
                .execute(&mut *conn)
                .await?;
            true
        } else {
            sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(&mut *conn)
                .await?
        };
        Ok(taken.then(|| Hold(Some((conn, key)))))
    }

    /// The server's disk is the PostgreSQL administrator's to keep from filling up.
    async fn release_reserve(&self) -> bool {
        false
    }

    async fn restore_reserve(&self) {}

    /// Every writer takes its advisory locks in [`MetaBackend::begin_write`]; single
    /// statements run on the shared pool.
    fn writer<'a>(&'a self, pool: &'a DbPool) -> &'a DbPool {
        pool
    }

    /// Holds stay: closing would wait for every upload that keeps one.
    async fn close(&self) {}
}

#[cfg(test)]
#[path = "backend_tests.rs"]
mod tests;
