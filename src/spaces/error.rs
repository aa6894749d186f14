//! `StoreError`: every way a storage-core operation can fail. HTTP layers map it to statuses.
//!
//! Database and blob-store failures enter only through the `From` impls below, which count them
//! (`spacedav_store_errors_total`, README "Operations"): every `?` on a sqlx or I/O error is
//! counted once, whichever layer later maps it to a status.
//!
//! I/O and database failures are classified once, here, on their way in: a full disk or
//! quota (ENOSPC, EDQUOT, `SQLITE_FULL`, PostgreSQL `disk_full`) becomes
//! [`StoreError::StorageFull`] and a read-only file system or database becomes
//! [`StoreError::ReadOnly`], so every protocol can tell its client instead of answering 500.

use super::path::InvalidPath;
use crate::metrics::{StoreComponent, metrics};

/// A storage-core failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The addressed user, space, node, blob or upload does not exist.
    #[error("not found")]
    NotFound,
    /// A parent folder of the target does not exist.
    #[error("parent folder does not exist")]
    ParentMissing,
    /// The target already exists (and may not be replaced).
    #[error("already exists")]
    AlreadyExists,
    /// A folder was found where a file was expected (or the target is a folder).
    #[error("is a folder")]
    IsFolder,
    /// A file was found where a folder was expected.
    #[error("not a folder")]
    NotFolder,
    /// The node changed since the caller read it (compare-and-set lost).
    #[error("conflicting concurrent change")]
    Conflict,
    /// A precondition (`If-Match`, expected absence) does not hold.
    #[error("precondition failed")]
    PreconditionFailed,
    /// A WebDAV lock the writer does not hold covers the target.
    #[error("locked")]
    Locked,
    /// The space's quota cannot take the bytes.
    #[error("quota exceeded")]
    QuotaExceeded,
    /// The path or name is not acceptable.
    #[error("invalid path: {0}")]
    InvalidPath(#[from] InvalidPath),
    /// Source and destination are in different spaces.
    #[error("cross-space operation")]
    CrossSpace,
    /// A folder would be moved or copied into itself.
    #[error("destination is inside the source")]
    IntoItself,
    /// The space root cannot be deleted, moved or replaced.
    #[error("operation not allowed on the space root")]
    RootImmutable,
    /// A user or alias name collides.
    #[error("name taken: {0}")]
    NameTaken(String),
    /// The link, share or membership an upload was created through no longer allows it
    /// (`upload_grant`); `hidden`: answer as if nothing were there (404) rather than 403.
    #[error("the upload's link or share no longer allows it")]
    GrantRevoked {
        /// Whether the uploader no longer sees the target at all.
        hidden: bool,
    },
    /// The disk (or the file-system quota) holding the data root has no room for the write.
    /// Nothing was half-written: the operation failed as a whole.
    #[error("storage full: {0}")]
    StorageFull(String),
    /// The data root's file system or the metadata database does not accept writes.
    #[error("storage read-only: {0}")]
    ReadOnly(String),
    /// Blob store I/O failed.
    #[error("blob store: {0}")]
    Io(#[source] std::io::Error),
    /// The metadata database failed.
    #[error("metadata database: {0}")]
    Db(#[source] sqlx::Error),
    /// A migration failed at start-up.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// What a storage failure says about the medium, if anything.
enum Medium {
    Full,
    ReadOnly,
}

fn io_medium(e: &std::io::Error) -> Option<Medium> {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => Some(Medium::Full),
        ErrorKind::ReadOnlyFilesystem => Some(Medium::ReadOnly),
        _ => None,
    }
}

/// SQLite result codes (the primary code is the low byte of an extended one) and PostgreSQL
/// SQLSTATEs that describe the medium.
fn db_medium(e: &sqlx::Error) -> Option<Medium> {
    match e {
        sqlx::Error::Io(io) => io_medium(io),
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            match code.as_ref() {
                // PostgreSQL: disk_full; read_only_sql_transaction (a hot standby).
                "53100" => Some(Medium::Full),
                "25006" => Some(Medium::ReadOnly),
                other => match other.parse::<i32>().ok()? & 0xff {
                    // SQLITE_FULL
                    13 => Some(Medium::Full),
                    // SQLITE_READONLY
                    8 => Some(Medium::ReadOnly),
                    _ => None,
                },
            }
        }
        _ => None,
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        metrics().store_error(StoreComponent::Blobs);
        match io_medium(&e) {
            Some(Medium::Full) => StoreError::StorageFull(e.to_string()),
            Some(Medium::ReadOnly) => StoreError::ReadOnly(e.to_string()),
            None => StoreError::Io(e),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        metrics().store_error(StoreComponent::Database);
        match db_medium(&e) {
            Some(Medium::Full) => StoreError::StorageFull(e.to_string()),
            Some(Medium::ReadOnly) => StoreError::ReadOnly(e.to_string()),
            None => StoreError::Db(e),
        }
    }
}

/// Result alias for the storage core.
pub type StoreResult<T> = Result<T, StoreError>;

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::str::FromStr;

    use sqlx::{ConnectOptions, Executor};

    use super::*;

    /// Writing where there is no room at all is the ENOSPC a full disk gives.
    #[test]
    fn a_write_to_a_full_device_is_storage_full() {
        let mut full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let e = full
            .write_all(b"x")
            .and_then(|()| full.flush())
            .unwrap_err();
        assert!(matches!(StoreError::from(e), StoreError::StorageFull(_)));
    }

    /// A database that may not grow fails with SQLITE_FULL, as on a full disk.
    #[tokio::test]
    async fn sqlite_full_is_storage_full() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("full.db").display());
        let mut conn = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        conn.execute("CREATE TABLE t (v TEXT)").await.unwrap();
        conn.execute("PRAGMA max_page_count = 2").await.unwrap();
        let grow = sqlx::query("INSERT INTO t VALUES (zeroblob(100000))")
            .execute(&mut conn)
            .await
            .unwrap_err();
        let e = StoreError::from(grow);
        assert!(matches!(e, StoreError::StorageFull(_)), "{e:?}");
    }

    /// A database opened read-only refuses writes with SQLITE_READONLY.
    #[tokio::test]
    async fn sqlite_readonly_is_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("ro.db").display());
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url).unwrap();
        let mut rw = options
            .clone()
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        rw.execute("CREATE TABLE t (v TEXT)").await.unwrap();
        let mut ro = options.read_only(true).connect().await.unwrap();
        let refused = ro.execute("INSERT INTO t VALUES ('x')").await.unwrap_err();
        let e = StoreError::from(refused);
        assert!(matches!(e, StoreError::ReadOnly(_)), "{e:?}");
    }
}
