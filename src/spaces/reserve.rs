//! Room set aside next to the SQLite database so that deleting works on a full disk.
//!
//! Removing a file frees space, but its transaction must first append a few pages to the WAL;
//! on a disk filled to the last byte that fails with `SQLITE_FULL`, and without DELETE a full
//! disk could not be emptied through the server (issue 15). The database keeps a preallocated
//! file beside it (`<database>-reserve`); a deletion refused for lack of space removes it and
//! runs again, and the reserve is allocated anew once there is room (after the deletion freed
//! its blobs, at the next sweep, or at the next start).

use std::io::{self, Write};
use std::path::PathBuf;

/// Bytes set aside: many deletions' worth of WAL frames (a few KiB each) and a checkpoint.
pub(crate) const RESERVE_BYTES: u64 = 4 << 20;

/// The reserve file of one database.
pub(crate) struct Reserve {
    path: PathBuf,
    /// Serialises release and restore (and keeps two deletions from racing for the file).
    lock: tokio::sync::Mutex<()>,
}

impl Reserve {
    /// The reserve of the database file `db`; allocate it with [`Reserve::restore`].
    pub(crate) fn beside(db: &std::path::Path) -> Reserve {
        let mut path = db.as_os_str().to_owned();
        path.push("-reserve");
        Reserve {
            path: path.into(),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Free the reserve; returns whether there was one to free.
    pub(crate) async fn release(&self) -> bool {
        let _held = self.lock.lock().await;
        let released = tokio::fs::remove_file(&self.path).await.is_ok();
        if released {
            tracing::warn!(path = %self.path.display(), "disk full: released the deletion reserve");
        }
        released
    }

    /// Allocate the reserve unless it is there; a disk without room leaves it for later.
    pub(crate) async fn restore(&self) {
        let _held = self.lock.lock().await;
        let path = self.path.clone();
        let done = tokio::task::spawn_blocking(move || allocate(&path))
            .await
            .map_err(io::Error::other)
            .and_then(|r| r);
        if let Err(e) = done {
            tracing::warn!(path = %self.path.display(), error = %e, "deletion reserve not allocated");
        }
    }
}

/// Create `path` with [`RESERVE_BYTES`] really allocated (not a sparse file); on failure
/// nothing is left behind.
fn allocate(path: &std::path::Path) -> io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() == RESERVE_BYTES) {
        return Ok(());
    }
    let temp = path.with_extension("reserve-tmp");
    let filled = fill(&temp);
    if filled.is_err() {
        let _ = std::fs::remove_file(&temp);
        return filled;
    }
    std::fs::rename(&temp, path)
}

fn fill(temp: &std::path::Path) -> io::Result<()> {
    let mut file = std::fs::File::create(temp)?;
    #[cfg(unix)]
    {
        use rustix::fs::{FallocateFlags, fallocate};
        match fallocate(&file, FallocateFlags::empty(), 0, RESERVE_BYTES) {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::NOSPC => return Err(e.into()),
            // Not supported by this file system: write the bytes instead.
            Err(_) => {}
        }
    }
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..RESERVE_BYTES / zeros.len() as u64 {
        file.write_all(&zeros)?;
    }
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_reserve_is_allocated_released_and_allocated_again() {
        let dir = tempfile::tempdir().unwrap();
        let reserve = Reserve::beside(&dir.path().join("meta.db"));
        let file = dir.path().join("meta.db-reserve");
        reserve.restore().await;
        assert_eq!(std::fs::metadata(&file).unwrap().len(), RESERVE_BYTES);
        assert!(reserve.release().await);
        assert!(!file.exists());
        assert!(!reserve.release().await, "nothing left to release");
        reserve.restore().await;
        reserve.restore().await;
        assert_eq!(std::fs::metadata(&file).unwrap().len(), RESERVE_BYTES);
    }
}
