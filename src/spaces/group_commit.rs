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

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::metrics::metrics;

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
        })
    }

    /// Return once every transaction committed before this call is on stable storage.
    pub(crate) async fn sync(&self) -> io::Result<()> {
        self.arrived.fetch_add(1, Ordering::AcqRel);
        // Any fsync that starts after this point covers our commit.
        let needed = self.started.load(Ordering::Acquire) + 1;
        let _leader = self.leader.lock().await;
        if self.finished.load(Ordering::Acquire) >= needed {
            return Ok(());
        }
        metrics().group_commit(self.arrived.swap(0, Ordering::AcqRel));
        self.started.fetch_add(1, Ordering::AcqRel);
        let wal = self.wal.clone();
        tokio::task::spawn_blocking(move || wal.sync_data())
            .await
            .map_err(io::Error::other)??;
        self.finished.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }
}
