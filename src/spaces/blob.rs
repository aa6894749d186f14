//! The blob store seam: write-once byte containers named by keys ([`BlobStore`], [`BlobSink`]).
//! The local-directory backend is `local_blobs.rs` (with its writer in `local_sink.rs`).
//!
//! A blob is written once ([`BlobStore::create`]) or staged piece by piece as an upload's bytes
//! (tus: [`BlobStore::append`], then an explicit [`BlobStore::seal`]), and never changed after a
//! node points at it. A backend keeps its bookkeeping of staged bytes (an S3 multipart upload
//! id, its parts and their etags, a tail object) in an opaque [`StagingState`] that the store
//! returns and the upload row keeps, written by the same compare-and-set as the offset; the
//! local backend needs none. The metadata database says which keys are live;
//! [`super::Store::sweep_blobs`] pages through [`BlobStore::list_page`] and deletes the rest.

use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use tokio::io::AsyncRead;

/// The name of a blob: chosen by the blob store, kept by the metadata database (nodes,
/// versions, upload sessions). Opaque to everything above the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type)]
#[sqlx(transparent)]
pub struct BlobKey(String);

impl BlobKey {
    /// A key as the store (or the database) spells it.
    pub fn new(key: impl Into<String>) -> Self {
        BlobKey(key.into())
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A backend's record of an upload's staged bytes (for S3: the multipart upload, its parts
/// with their etags, the tail object below a part). Opaque above the store: the upload row
/// keeps it and moves it by the same compare-and-set as the offset. Empty for local disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StagingState(String);

impl StagingState {
    /// A state as the store (or the database) spells it.
    pub fn new(state: impl Into<String>) -> Self {
        StagingState(state.into())
    }

    /// Its text, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a store is told when an upload's staging starts: enough to choose a part size.
#[derive(Debug, Clone, Copy)]
pub struct StagingPlan {
    /// The upload's length, when known.
    pub length: Option<u64>,
    /// The largest length a deferred upload may still declare (`tus.max_upload_size`).
    pub max_length: u64,
}

/// One listed object of the store, for the garbage sweep.
#[derive(Debug, Clone)]
pub struct Listed {
    /// What [`BlobStore::delete`] removes.
    pub key: BlobKey,
    /// The blob (or staging) key it belongs to: while that is referenced, it stays.
    pub owner: BlobKey,
    /// Last modification.
    pub modified: SystemTime,
}

/// A page of [`BlobStore::list_page`].
#[derive(Debug, Clone, Default)]
pub struct BlobPage {
    /// The entries of this page.
    pub entries: Vec<Listed>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<String>,
}

/// Hands out part numbers of one upload that no other request ever gets (a counter in the
/// upload row), so a slow or paused request can never overwrite a part someone else
/// committed.
#[async_trait]
pub trait PartNumbers: Send + Sync {
    /// The next unused part number.
    async fn next(&self) -> io::Result<u32>;
}

/// A boxed reader over (part of) a blob.
pub type BlobReader = Pin<Box<dyn AsyncRead + Send>>;

/// An open writer into a new blob.
#[async_trait]
pub trait BlobSink: Send {
    /// Append bytes.
    async fn write(&mut self, data: &[u8]) -> io::Result<()>;
    /// Append owned bytes; backends can hand a large buffer to the device without copying it.
    async fn write_bytes(&mut self, data: bytes::Bytes) -> io::Result<()> {
        self.write(&data).await
    }
    /// Make everything durable and seal the blob under its key; returns the key.
    async fn finish(self: Box<Self>) -> io::Result<BlobKey>;
}

/// An open writer appending to an upload's staged bytes.
#[async_trait]
pub trait StagingSink: Send {
    /// Append owned bytes.
    async fn write_bytes(&mut self, data: bytes::Bytes) -> io::Result<()>;
    /// Make everything written so far durable; returns the staging state that records it,
    /// for the session row (nothing counts until that row says so).
    async fn sync(&mut self) -> io::Result<StagingState>;
}

/// Byte storage. Keys are opaque strings chosen by the store.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Start a new blob of about `size` bytes (when known); nothing is visible under its key
    /// until `finish`.
    async fn create(&self, size: Option<u64>) -> io::Result<Box<dyn BlobSink>>;
    /// Allocate empty staged bytes for an upload; returns their key and initial state.
    async fn create_staging(&self, plan: StagingPlan) -> io::Result<(BlobKey, StagingState)>;
    /// Open staged bytes (as `state` records them) for appending at `at`, dropping anything
    /// beyond `at` (bytes a failed request left behind that were never acknowledged).
    async fn append(
        &self,
        key: &BlobKey,
        state: &StagingState,
        at: u64,
        parts: Arc<dyn PartNumbers>,
    ) -> io::Result<Box<dyn StagingSink>>;
    /// The first `len` staged bytes, when the backend can read them before the seal (an S3
    /// multipart upload's parts cannot be read back): `None` then.
    async fn read_staged(
        &self,
        key: &BlobKey,
        state: &StagingState,
        len: u64,
    ) -> io::Result<Option<BlobReader>>;
    /// Make the staged bytes the blob `key` (S3: complete the multipart upload); returns the
    /// sealed state. Sealing a sealed state changes nothing.
    async fn seal(
        &self,
        key: &BlobKey,
        state: &StagingState,
        parts: Arc<dyn PartNumbers>,
    ) -> io::Result<StagingState>;
    /// Whether [`BlobStore::seal`] never changes anything (the staged bytes are the blob
    /// already, as on local disk): a completion can then commit without waiting for the
    /// seal, and only the bytes' sync stands between its statements and its commit.
    fn seals_in_place(&self) -> bool {
        false
    }
    /// Free staged bytes that will never become a file (S3: abort the multipart upload,
    /// delete the tail, and the object once sealed).
    async fn discard_staging(&self, key: &BlobKey, state: &StagingState) -> io::Result<()>;
    /// Free what `old` (of staged bytes `key`) holds and `current` no longer names (a
    /// superseded tail, a multipart upload a failed request started), once
    /// the session row moved from `old` to `current`, or stayed at `current` when a move failed.
    async fn release_superseded(
        &self,
        key: &BlobKey,
        old: &StagingState,
        current: &StagingState,
    ) -> io::Result<()>;
    /// A new blob holding the concatenation of the sealed blobs `parts`, assembled by the
    /// backend without passing the bytes through this process where it can.
    async fn concat(&self, parts: &[BlobKey]) -> io::Result<BlobKey>;
    /// Read `range` (or everything) of a blob.
    async fn open(&self, key: &BlobKey, range: Option<Range<u64>>) -> io::Result<BlobReader>;
    /// Current length of a blob.
    async fn len(&self, key: &BlobKey) -> io::Result<u64>;
    /// Remove a blob; removing a missing blob is not an error.
    async fn delete(&self, key: &BlobKey) -> io::Result<()>;
    /// One page of everything stored, starting at `from` (a previous page's `next`).
    async fn list_page(&self, from: Option<&str>) -> io::Result<BlobPage>;
    /// Everything stored, every page (tools and tests; the sweep pages by itself).
    async fn list(&self) -> io::Result<Vec<(BlobKey, SystemTime)>> {
        let mut out = Vec::new();
        let mut from = None;
        loop {
            let page = self.list_page(from.as_deref()).await?;
            out.extend(page.entries.into_iter().map(|l| (l.key, l.modified)));
            match page.next {
                Some(next) => from = Some(next),
                None => return Ok(out),
            }
        }
    }
    /// Free bytes where the blobs are kept, when the store has a bound (a file system);
    /// `None` for a store without one known (S3).
    async fn capacity(&self) -> io::Result<Option<u64>>;
    /// Whether the store answers at all (the readiness probe); cheap, changes nothing.
    async fn check(&self) -> io::Result<()>;
}
