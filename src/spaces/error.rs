//! `StoreError`: every way a storage-core operation can fail. HTTP layers map it to statuses.
//!
//! Database and blob-store failures enter only through the `From` impls below, which count them
//! (`spacedav_store_errors_total`, README "Operations"): every `?` on a sqlx or I/O error is
//! counted once, whichever layer later maps it to a status.

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

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        metrics().store_error(StoreComponent::Blobs);
        StoreError::Io(e)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        metrics().store_error(StoreComponent::Database);
        StoreError::Db(e)
    }
}

/// Result alias for the storage core.
pub type StoreResult<T> = Result<T, StoreError>;
