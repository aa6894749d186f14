//! The blob store seam: write-once byte containers named by keys ([`BlobStore`], [`BlobSink`]).
//! The local-directory backend is `local_blobs.rs` (with its writer in `local_sink.rs`).
//!
//! A blob is written once (PUT: temp file, fsync, rename) or appended to while it is an upload's
//! staging blob (tus), and never changed after a node points at it. The metadata database says
//! which keys are live; [`super::Store::sweep_blobs`] deletes the rest.

use std::io;
use std::ops::Range;
use std::pin::Pin;
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

/// A boxed reader over (part of) a blob.
pub type BlobReader = Pin<Box<dyn AsyncRead + Send>>;

/// An open writer into a blob.
#[async_trait]
pub trait BlobSink: Send {
    /// Append bytes.
    async fn write(&mut self, data: &[u8]) -> io::Result<()>;
    /// Append owned bytes; backends can hand a large buffer to the device without copying it.
    async fn write_bytes(&mut self, data: bytes::Bytes) -> io::Result<()> {
        self.write(&data).await
    }
    /// Make everything written so far durable; returns the blob's length.
    async fn sync(&mut self) -> io::Result<u64>;
    /// Make everything durable and seal the blob under its key; returns the key.
    async fn finish(self: Box<Self>) -> io::Result<BlobKey>;
}

/// Byte storage. Keys are opaque strings chosen by the store.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Start a new blob; nothing is visible under its key until `finish`.
    async fn create(&self) -> io::Result<Box<dyn BlobSink>>;
    /// Allocate an empty appendable staging blob (a tus upload's bytes); returns its key.
    async fn create_staging(&self) -> io::Result<BlobKey>;
    /// Open a staging blob for appending at `at`, first cutting off anything beyond `at`
    /// (bytes a failed request left behind that were never acknowledged).
    async fn append(&self, key: &BlobKey, at: u64) -> io::Result<Box<dyn BlobSink>>;
    /// A new blob holding the concatenation of `parts`, assembled by the backend without
    /// passing the bytes through this process where it can.
    async fn concat(&self, parts: &[BlobKey]) -> io::Result<BlobKey>;
    /// A new blob with the same content.
    async fn copy(&self, key: &BlobKey) -> io::Result<BlobKey>;
    /// Read `range` (or everything).
    async fn open(&self, key: &BlobKey, range: Option<Range<u64>>) -> io::Result<BlobReader>;
    /// Current length.
    async fn len(&self, key: &BlobKey) -> io::Result<u64>;
    /// Remove a blob; removing a missing blob is not an error.
    async fn delete(&self, key: &BlobKey) -> io::Result<()>;
    /// Every key with its last modification time (for the garbage sweep).
    async fn list(&self) -> io::Result<Vec<(BlobKey, SystemTime)>>;
    /// Whether the store answers at all (the readiness probe); cheap, changes nothing.
    async fn check(&self) -> io::Result<()>;
}
