//! Group commit for the metadata database.
//!
//! SQLite runs with `synchronous = NORMAL` in WAL mode: a commit is atomic and survives a
//! process crash, but is only on stable storage once the WAL is synced. One fsync costs ~5 ms
//! on the machines we measured, so syncing inside every commit (`FULL`) caps the server at
//! ~200 transactions per second. Instead every write path calls [`WalSync::sync`] after its
//! commit and before it answers: concurrent callers share one fsync of the WAL, so an
//! acknowledged change is durable and throughput grows with concurrency.
//!
//! Each fsync records how many callers arrived since the previous one started
//! (`spacedav_db_group_commit_batch_size`): the commits it made durable. A caller that finds
//! its commit already covered is counted in the next batch, so the sum is exact and a single
//! batch is at most one fsync off.
//!
//! Checkpoints (copying the WAL back into the database file, with two more fsyncs) run beside
//! the writers instead of inside one of their commits. SQLite's automatic checkpoint runs in the
//! commit that crosses its threshold, and that commit then kept the writer, and every commit
//! queued behind it, waiting: under a burst of small uploads 19–25 of ~210 batch commits took
//! over 3 ms (up to 137 ms while other processes wrote GiBs), 0–3 with checkpoints beside them.
//! So every connection runs with `wal_autocheckpoint = 0`, and [`Checkpointer`] starts a passive
//! checkpoint on a connection of its own once an fsync finds one due ([`WalSync::sync`]).
//! A passive checkpoint neither waits for nor blocks readers and the writer; the writer starts
//! the WAL over from its beginning once a checkpoint has copied all of it, so the checkpointer
//! goes on until one has. The frames written after that wait for the next due checkpoint while
//! writers go on; once they have been quiet for a moment, a checkpoint copies them too, so a
//! pause leaves the WAL all copied and the next burst starts it over instead of adding to it.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::metrics::metrics;

/// The WAL size past which its growth starts a checkpoint (SQLite's own default threshold is
/// 1000 pages, 4 MB).
const CHECKPOINT_BYTES: u64 = 4 << 20;

/// Syncs after which a checkpoint starts whatever the WAL's size: the frames a sync covers
/// (one or a batch of commits) are few, so what waits for the next checkpoint stays small
/// (sequential 1 KiB PUTs add ~5 pages per sync: ~5 MB). Every checkpoint pays a sync of the
/// database file, which the WAL syncs of the commits beside it then queue behind: with a
/// checkpoint every 32 syncs, sequential small PUTs had a p99 of 3.4-4.4 ms, with 256 of
/// 1.7-2.4 ms (and 3% more of them per second).
const CHECKPOINT_SYNCS: u64 = 256;

/// The most checkpoints one start runs before it leaves the rest to the next start, and the
/// pause between them.
const CHECKPOINT_ROUNDS: usize = 50;
const CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// How long no commit must come before what is left in the WAL is copied. A burst's last
/// frames are then in the database file a moment after it, and the next burst starts the WAL
/// over; writers that pause for less keep the sync-driven schedule above.
const CHECKPOINT_QUIET: std::time::Duration = std::time::Duration::from_millis(200);

/// Coalesces WAL fsyncs across concurrent committers.
pub(crate) struct WalSync {
    wal: Arc<File>,
    /// Number of fsyncs started; read on entry to know which fsync covers the caller.
    started: AtomicU64,
    /// Number of fsyncs finished.
    finished: AtomicU64,
    /// Callers that arrived since the last fsync started (the next batch's size).
    arrived: AtomicU64,
    /// Serialises fsyncs; waiters queue here and usually find their work already done.
    leader: tokio::sync::Mutex<()>,
    /// Syncs since a checkpoint was last found due.
    since_checkpoint: AtomicU64,
    /// The largest WAL file size a checkpoint was started at.
    high_water: AtomicU64,
}

impl WalSync {
    /// Sync the WAL of the database file at `db_path` (`<db_path>-wal`, which exists once the
    /// database is open in WAL mode).
    pub(crate) fn open(db_path: &Path) -> io::Result<WalSync> {
        let mut wal = db_path.as_os_str().to_owned();
        wal.push("-wal");
        Ok(WalSync {
            wal: Arc::new(File::open(wal)?),
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            arrived: AtomicU64::new(0),
            leader: tokio::sync::Mutex::new(()),
            since_checkpoint: AtomicU64::new(0),
            high_water: AtomicU64::new(0),
        })
    }

    /// Return once every transaction committed before this call is on stable storage; `true`
    /// when this call ran an fsync after which a checkpoint is due ([`Self::checkpoint_due`]).
    pub(crate) async fn sync(&self) -> io::Result<bool> {
        self.arrived.fetch_add(1, Ordering::AcqRel);
        // Any fsync that starts after this point covers our commit.
        let needed = self.started.load(Ordering::Acquire) + 1;
        let _leader = self.leader.lock().await;
        if self.finished.load(Ordering::Acquire) >= needed {
            return Ok(false);
        }
        metrics().group_commit(self.arrived.swap(0, Ordering::AcqRel));
        self.started.fetch_add(1, Ordering::AcqRel);
        let wal = self.wal.clone();
        tokio::task::spawn_blocking(move || wal.sync_data())
            .await
            .map_err(io::Error::other)??;
        self.finished.fetch_add(1, Ordering::AcqRel);
        Ok(self.checkpoint_due())
    }

    /// Whether a checkpoint is due after this sync: the WAL file grew past
    /// [`CHECKPOINT_BYTES`] and beyond any size seen before (frames pile up faster than
    /// checkpoints copy them), or [`CHECKPOINT_SYNCS`] syncs passed since the last one (once
    /// started over, the WAL is rewritten inside its old size, which says nothing of how much
    /// of it waits for a copy).
    fn checkpoint_due(&self) -> bool {
        let syncs = self.since_checkpoint.fetch_add(1, Ordering::AcqRel) + 1;
        let len = self.wal.metadata().map_or(0, |m| m.len());
        let grew = len > CHECKPOINT_BYTES && len > self.high_water.load(Ordering::Acquire);
        if grew || syncs >= CHECKPOINT_SYNCS {
            self.since_checkpoint.store(0, Ordering::Release);
            self.high_water.fetch_max(len, Ordering::AcqRel);
            return true;
        }
        false
    }
}

/// Runs passive checkpoints on a connection of its own, one at a time: while the writers are
/// busy when a sync finds one due, and once they have been quiet for [`CHECKPOINT_QUIET`].
pub(crate) struct Checkpointer {
    inner: Arc<CheckpointerInner>,
}

struct CheckpointerInner {
    conn: tokio::sync::Mutex<sqlx::SqliteConnection>,
    /// Checkpoints that a sync found due run.
    running: AtomicBool,
    /// A task waits for the writers to go quiet.
    watching: AtomicBool,
    /// Commits made durable so far; the quiet watcher's clock.
    commits: AtomicU64,
}

impl Checkpointer {
    /// Checkpoint through `conn` (a connection kept open for the life of the store).
    pub(crate) fn new(conn: sqlx::SqliteConnection) -> Checkpointer {
        Checkpointer {
            inner: Arc::new(CheckpointerInner {
                conn: tokio::sync::Mutex::new(conn),
                running: AtomicBool::new(false),
                watching: AtomicBool::new(false),
                commits: AtomicU64::new(0),
            }),
        }
    }

    /// A commit is durable; `due` when its sync found a checkpoint due ([`WalSync::sync`]).
    /// A due checkpoint starts in the background unless one runs already. Every commit also
    /// makes sure a task waits for the writers to go quiet and then copies what is left: the
    /// frames written after a busy time's last checkpoint would otherwise wait in the WAL for
    /// the next due one, and the next burst could not start the WAL over but would add to it.
    pub(crate) fn committed(&self, due: bool) {
        let inner = &self.inner;
        inner.commits.fetch_add(1, Ordering::AcqRel);
        if due && !inner.running.swap(true, Ordering::AcqRel) {
            let inner = inner.clone();
            tokio::spawn(async move {
                inner.copy().await;
                inner.running.store(false, Ordering::Release);
            });
        }
        if !inner.watching.swap(true, Ordering::AcqRel) {
            tokio::spawn(inner.clone().watch());
        }
    }
}

impl CheckpointerInner {
    /// Passive checkpoints until one has copied every frame of the WAL (so the writer can start
    /// it over), with a pause between them while writers keep adding frames, at most
    /// [`CHECKPOINT_ROUNDS`].
    async fn copy(&self) {
        let mut conn = self.conn.lock().await;
        for _ in 0..CHECKPOINT_ROUNDS {
            let done: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&mut *conn)
                .await;
            match done {
                Ok((_, frames, copied)) => {
                    metrics().wal_checkpoint();
                    if copied >= frames {
                        return;
                    }
                }
                Err(e) => {
                    // The next due sync or quiet time tries again.
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                    return;
                }
            }
            tokio::time::sleep(CHECKPOINT_PAUSE).await;
        }
    }

    /// Wait until no commit came for [`CHECKPOINT_QUIET`], then copy the WAL; go on watching
    /// if commits came meanwhile.
    async fn watch(self: Arc<Self>) {
        let mut seen = self.commits.load(Ordering::Acquire);
        loop {
            tokio::time::sleep(CHECKPOINT_QUIET).await;
            let now = self.commits.load(Ordering::Acquire);
            if now != seen {
                seen = now;
                continue;
            }
            self.copy().await;
            self.watching.store(false, Ordering::Release);
            // A commit that came during the copy found this task watching and started none:
            // watch for it, unless a commit after the store above started a watcher already.
            if self.commits.load(Ordering::Acquire) == now
                || self.watching.swap(true, Ordering::AcqRel)
            {
                return;
            }
        }
    }
}
