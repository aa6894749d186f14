//! The storage core: users, spaces and their node trees in the metadata database, file bytes in
//! the blob store (DESIGN.md). No HTTP types in here.
//!
//! [`Store`] is the one facade every protocol layer uses. Writes follow "bytes first, then one
//! commit": content is streamed into a fresh blob, then a single transaction switches the node to
//! it and propagates etags and subtree sizes up to the space root.
//!
//! Two small traits keep the backends replaceable below this facade: metadata runs on any
//! [`backend::MetaBackend`] (SQLite or PostgreSQL; one schema, one set of queries), bytes on
//! any [`BlobStore`]. All SQL lives in this module; the protocol layers see domain types only.

mod accounts;
mod app_tokens;
mod backend;
pub mod blob;
pub mod checksum;
mod cluster;
mod commit_batch;
mod db;
mod error;
mod fsck;
mod grants;
mod group_commit;
mod groups;
pub mod ids;
mod ingest;
mod inline;
mod local_blobs;
mod local_sink;
pub mod lock_rules;
mod locks;
mod manage;
pub mod model;
mod moves;
pub mod path;
mod props;
mod quota;
mod reserve;
pub mod s3;
mod search;
pub mod secrets;
mod shares;
mod staging;
mod target;
mod trash;
mod tree;
mod upload_grant;
mod uploads;
mod versions;
mod wire;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use uuid::Uuid;

use db::{Db, DbPool};

pub use app_tokens::AppToken;
pub use backend::{Hold, is_metadata_url};
pub use blob::{
    BlobKey, BlobPage, BlobReader, BlobSink, BlobStore, Listed, PartNumbers, StagingPlan,
    StagingSink, StagingState,
};
pub use checksum::{Algorithm, Checksums, Digests, HashPipe, Hasher};
pub use cluster::{SWEEPER, StorageIdError, StorageIdOrigin, Sweeper};
pub use error::{StoreError, StoreResult};
pub use fsck::{FsckProblem, FsckReport};
pub use grants::{CodeRecord, CodeRedemption, GrantRecord, Rotation};
pub use ids::{NodeId, ResourceId, SpaceId, SpaceRef, UploadId, UserId};
pub use ingest::{BATCH, FileWrite, Ingest, IngestPlan, StagedBlob};
pub use inline::DEFAULT_INLINE_MAX;
pub use local_blobs::LocalBlobs;
pub use lock_rules::{
    LockHolder, LockRecord, applying, conflict_below, conflict_to_path, write_conflict,
};
pub use model::{
    Grantee, Group, Mtime, NewSpace, NewUser, Node, NodeKind, Quota, Role, Space, SpaceKind, User,
    Version,
};
pub use moves::{CopyDepth, CopySpec, Overwrite};
pub use path::{InvalidPath, SpacePath, check_name, normalize_name};
pub use props::{DeadProp, NodeScope, PropChange};
pub use search::{Found, SearchResult};
pub use secrets::{SecretError, SecretOrigin};
pub use shares::{NewShare, Share, ShareKind, ShareUpdate, share_bits};
pub use staging::Settling;
pub use trash::{RestoreTo, Restored, TrashItem};
pub use tree::{Committed, NewContent, Precondition};
pub use upload_grant::{GrantVerdict, UploadGrant};
pub use uploads::{ConcatRole, Upload};
pub use wire::decode_digest;

/// Handle to the metadata database and the blob store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: DbPool,
    blobs: Arc<dyn BlobStore>,
    storage_id: Uuid,
    backend: Arc<dyn backend::MetaBackend>,
    clock: crate::clock::Clock,
    /// Contents up to this many bytes are stored inline (`inline.rs`).
    inline_max: u64,
    /// Staged contents waiting for their shared commit (`commit_batch.rs`).
    commits: Arc<commit_batch::CommitQueue>,
}

impl Store {
    /// Open the metadata database at `metadata_url` (creating it and running the embedded
    /// migrations) and use `blobs` for bytes.
    pub async fn open(
        metadata_url: &str,
        blobs: Arc<dyn BlobStore>,
        storage_id: Uuid,
    ) -> StoreResult<Store> {
        let (db, backend) = backend::connect(metadata_url).await?;
        Ok(Store {
            db,
            backend,
            blobs,
            storage_id,
            clock: crate::clock::Clock::system(),
            inline_max: inline::DEFAULT_INLINE_MAX,
            commits: Arc::default(),
        })
    }

    /// This store reading `clock` for everything that expires (tests pass an adjustable one).
    pub fn with_clock(self, clock: crate::clock::Clock) -> Store {
        Store { clock, ..self }
    }

    /// The time source of expiry ([`crate::clock`]).
    pub fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    /// Open with the local blob store under `blob_dir`.
    pub async fn open_local(
        metadata_url: &str,
        blob_dir: impl Into<std::path::PathBuf>,
        storage_id: Uuid,
    ) -> StoreResult<Store> {
        let blobs = Arc::new(LocalBlobs::open(blob_dir).await?);
        Self::open(metadata_url, blobs, storage_id).await
    }

    /// Open with the S3 blob store `settings` names; `max_object` is the largest upload
    /// allowed (what an upload of unknown length plans its part size for).
    pub async fn open_s3(
        metadata_url: &str,
        settings: &s3::S3Settings,
        max_object: u64,
        storage_id: Uuid,
    ) -> StoreResult<Store> {
        let blobs = Arc::new(s3::S3Blobs::new(settings, max_object)?);
        Self::open(metadata_url, blobs, storage_id).await
    }

    /// The installation's storage id.
    pub fn storage_id(&self) -> Uuid {
        self.storage_id
    }

    /// The wire id of the space with this uuid.
    pub fn space_id(&self, space: Uuid) -> SpaceId {
        SpaceId {
            storage: self.storage_id,
            space,
        }
    }

    /// The blob store, for tests that inspect or break it; the protocol layer goes through
    /// the core's own calls.
    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.blobs
    }

    /// Free bytes where the blobs are kept, when the store has a bound (a file system);
    /// `None` for a store without one known (S3).
    pub async fn free_bytes(&self) -> StoreResult<Option<u64>> {
        Ok(self.blobs.capacity().await?)
    }

    /// Return once every transaction this process committed before the call is on stable
    /// storage. Call it after a commit and before acknowledging the change to a client;
    /// concurrent callers share one fsync.
    pub async fn durable(&self) -> StoreResult<()> {
        self.backend.durable().await
    }

    /// Whether the metadata database answers a query on its schema (the readiness probe).
    pub async fn check_database(&self) -> StoreResult<()> {
        sqlx::query("SELECT id FROM users LIMIT 1")
            .fetch_optional(&self.db)
            .await?;
        Ok(())
    }

    /// Whether the blob store answers (the readiness probe).
    pub async fn check_blobs(&self) -> StoreResult<()> {
        Ok(self.blobs.check().await?)
    }

    /// Close the database connections, waiting for those in use; every later database call
    /// fails. For an orderly end of the process, and for tests of a lost database.
    pub async fn close(&self) {
        self.db.close().await;
        self.backend.close().await;
    }

    /// Where a write outside a transaction runs (a single statement that needs no reads
    /// before it): on SQLite the writers' queue, so that it never meets a writer's lock.
    pub(crate) fn writer(&self) -> &DbPool {
        self.backend.writer(&self.db)
    }

    /// Start a transaction that may write anything; it holds the database's write lock from
    /// its first statement, so its reads and writes see one state, and no other write runs.
    pub(crate) async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, Db>> {
        self.backend
            .begin_write(&self.db, backend::WriteScope::All)
            .await
    }

    /// Start a transaction that writes only into `spaces` (their trees, sessions and
    /// reservations): it holds their write locks, taken in one fixed order, so writes into
    /// other spaces run beside it (on PostgreSQL; SQLite has one writer).
    pub(crate) async fn begin_write_in(
        &self,
        spaces: &[Uuid],
    ) -> StoreResult<sqlx::Transaction<'static, Db>> {
        self.backend
            .begin_write(&self.db, backend::WriteScope::Spaces(spaces))
            .await
    }

    /// [`Store::begin_write_in`] unless the write would have to wait for another
    /// ([`backend::MetaBackend::try_begin_write`]).
    pub(crate) async fn try_begin_write_in(
        &self,
        spaces: &[Uuid],
    ) -> StoreResult<Option<sqlx::Transaction<'static, Db>>> {
        self.backend
            .try_begin_write(&self.db, backend::WriteScope::Spaces(spaces))
            .await
    }

    /// Run `op`, a write that frees space. When the disk is too full even for that, give the
    /// database the room set aside for this (`reserve.rs`) and run it once more.
    pub(crate) async fn freeing<T, F, Fut>(&self, op: F) -> StoreResult<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = StoreResult<T>>,
    {
        match op().await {
            Err(StoreError::StorageFull(_)) if self.backend.release_reserve().await => op().await,
            other => other,
        }
    }

    /// Set the room for deleting on a full disk aside again, if there is room for it.
    pub(crate) async fn restore_reserve(&self) {
        self.backend.restore_reserve().await
    }

    /// Delete blobs nothing references (no node, version or open upload session) that are
    /// older than `grace` (so a blob being written right now, not yet committed, survives),
    /// a page of the store's listing at a time, and inline contents nothing references. What
    /// belongs to a referenced key (an upload's tail object) stays with it.
    /// Returns how many were deleted.
    pub async fn sweep_blobs(&self, grace: Duration) -> StoreResult<usize> {
        let cutoff = SystemTime::now() - grace;
        let referenced: std::collections::HashSet<BlobKey> = sqlx::query_scalar(
            "SELECT blob FROM nodes WHERE blob IS NOT NULL \
             UNION SELECT blob FROM versions UNION SELECT blob FROM uploads \
             WHERE state <> 'done'",
        )
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .collect();
        let mut deleted = 0;
        let mut from = None;
        loop {
            let page = self.blobs.list_page(from.as_deref()).await?;
            for listed in page.entries {
                if listed.modified > cutoff
                    || referenced.contains(&listed.key)
                    || referenced.contains(&listed.owner)
                {
                    continue;
                }
                self.blobs.delete(&listed.key).await?;
                deleted += 1;
            }
            match page.next {
                Some(next) => from = Some(next),
                None => break,
            }
        }
        deleted += self.sweep_inline().await?;
        self.restore_reserve().await;
        Ok(deleted)
    }
}
