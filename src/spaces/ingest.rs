//! New content, the core's way (DESIGN.md "The storage core owns whole writes"): a protocol
//! hands the core a byte stream through an [`Ingest`], which batches, hashes and writes it
//! into a fresh blob; [`Ingest::seal`] makes the bytes durable and returns a [`StagedBlob`],
//! which only this module can make. [`Store::commit_staged`] (`commit_batch.rs`) then re-checks
//! the preconditions and points the file at it in one transaction with one durable wait, or
//! frees the blob when it refuses. Protocol code never sees a blob key or the blob store.
//!
//! The seal is an explicit step so that a backend whose writes become durable only when they
//! are completed (an S3 multipart upload, issue 14) plugs in behind [`Ingest`] unchanged.

use bytes::{Bytes, BytesMut};

use super::Store;
use super::blob::{BlobKey, BlobSink};
use super::checksum::{Digests, HashPipe, Hasher};
use super::error::StoreResult;
use super::lock_rules::LockHolder;
use super::model::Mtime;
use super::tree::Precondition;

/// The most an ingest (or a tus request) holds in memory of its own, and the size of the
/// batches stored bytes are re-read in. Also the upper bound of the inline limit.
pub const BATCH: usize = 1 << 20;

/// What the caller knows about a stream before it starts.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestPlan {
    /// The announced length, when known (a small body is hashed inline, and the first batch
    /// is sized to it).
    pub size: Option<u64>,
    /// Whether SHA-256 is wanted besides the recorded SHA1, MD5 and ADLER32.
    pub sha256: bool,
}

/// A byte stream on its way into a fresh blob, or into the metadata database when it ends
/// within the store's inline limit (`inline.rs`): the blob is only created once the bytes
/// outgrow that limit.
pub struct Ingest {
    // A mutex (only ever taken by `get_mut`) makes the ingest `Sync`, as dav-server asks of
    // its file handles; sinks are `Send` only.
    sink: std::sync::Mutex<Option<Box<dyn BlobSink>>>,
    blobs: std::sync::Arc<dyn super::blob::BlobStore>,
    pipe: HashPipe,
    batch: BytesMut,
    written: u64,
    size: Option<u64>,
    inline_max: u64,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

/// Sealed, durable, hashed content that no file points at yet. Only [`Ingest::seal`] makes
/// one; [`Store::commit_staged`] or [`Store::discard_staged`] consumes it. One that is merely
/// dropped is garbage the blob sweep collects.
#[derive(Debug)]
pub struct StagedBlob {
    pub(super) content: Staged,
    pub(super) size: u64,
    pub(super) digests: Digests,
}

/// Where staged bytes wait for their commit.
#[derive(Debug)]
pub(super) enum Staged {
    /// In a sealed blob of this key.
    Blob(BlobKey),
    /// In memory, to be stored inline by the commit's own transaction.
    Inline(Bytes),
}

impl StagedBlob {
    /// Its length in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Its digests, computed while the bytes arrived.
    pub fn digests(&self) -> &Digests {
        &self.digests
    }
}

/// How staged content becomes a file: what must hold, and what is recorded with it.
#[derive(Debug, Clone)]
pub struct FileWrite {
    /// What must hold about the target at the commit.
    pub pre: Precondition,
    /// Who writes, as far as locks are concerned: a lock on the target it does not hold
    /// refuses the write (`Locked`).
    pub holder: LockHolder,
    /// Client-supplied mtime; `None` = now.
    pub mtime: Option<Mtime>,
    /// MIME type; `None` keeps the old one (or none).
    pub content_type: Option<String>,
}

impl Ingest {
    /// Append bytes (batched: nothing is guaranteed durable before [`Ingest::seal`]). Until a
    /// body outgrows the inline limit it only gathers, since it may never need a blob.
    pub async fn write(&mut self, data: &[u8]) -> StoreResult<()> {
        let spilled = self.sink.get_mut().map_or(true, |s| s.is_some());
        let gathering = !spilled && self.written + data.len() as u64 <= self.inline_max;
        if self.batch.capacity() - self.batch.len() < data.len() {
            if !gathering {
                self.drain().await?;
            }
            // One allocation per piece (or for what may stay inline), sized to the announced
            // body when that is smaller.
            let left = self.size.map_or(u64::MAX, |n| n - self.written.min(n));
            let want = if gathering {
                self.inline_max
            } else {
                super::checksum::PIECE as u64
            };
            self.batch
                .reserve(want.min(left).max(data.len() as u64) as usize);
        }
        self.batch.extend_from_slice(data);
        self.written += data.len() as u64;
        if !gathering && self.batch.len() >= super::checksum::PIECE {
            self.drain().await?;
        }
        Ok(())
    }

    /// Bytes accepted so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Append owned bytes: like [`Ingest::write`], but a large frame that arrives with
    /// nothing gathered before it goes to the hash workers and the blob as it is, uncopied.
    pub async fn write_bytes(&mut self, data: Bytes) -> StoreResult<()> {
        let spilled = self.sink.get_mut().map_or(true, |s| s.is_some());
        if !self.batch.is_empty() || data.len() < super::checksum::PIECE || !spilled {
            return self.write(&data).await;
        }
        self.written += data.len() as u64;
        self.send(data).await
    }

    /// Hash and write the gathered batch.
    async fn drain(&mut self) -> StoreResult<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let data: Bytes = self.batch.split().freeze();
        self.send(data).await
    }

    /// Hash and write `data`, creating the blob on the first call.
    async fn send(&mut self, data: Bytes) -> StoreResult<()> {
        let slot = self.sink.get_mut().unwrap_or_else(|e| e.into_inner());
        let sink = match slot {
            Some(sink) => sink,
            None => slot.insert(self.blobs.create(self.size).await?),
        };
        let (written, ()) = tokio::join!(sink.write_bytes(data.clone()), self.pipe.feed(data));
        Ok(written?)
    }

    /// Make every byte durable and seal the blob; content within the inline limit that never
    /// needed a blob stays in memory for the commit to store. The hash workers finish the
    /// last pieces while the blob is synced: the seal waits for the slower of the two.
    pub async fn seal(mut self) -> StoreResult<StagedBlob> {
        let never_spilled = self.sink.get_mut().map_or(true, |s| s.is_none());
        let (content, hasher) = if never_spilled && self.written <= self.inline_max {
            let data = self.batch.split().freeze();
            self.pipe.feed(data.clone()).await;
            (Staged::Inline(data), self.pipe.finish().await)
        } else {
            self.drain().await?;
            let sink = self.sink.into_inner().unwrap_or_else(|e| e.into_inner());
            let sink = match sink {
                Some(sink) => sink,
                // An empty content over an inline limit of 0: still a blob of its own.
                None => self.blobs.create(self.size).await?,
            };
            let (key, hasher) = tokio::join!(sink.finish(), self.pipe.finish());
            (Staged::Blob(key?), hasher)
        };
        Ok(StagedBlob {
            content,
            size: self.written,
            digests: hasher.finish(),
        })
    }
}

impl Store {
    /// Read `range` of a file's content (or all of it). A folder has none (`IsFolder`).
    pub async fn read_content(
        &self,
        node: &super::model::Node,
        range: Option<std::ops::Range<u64>>,
    ) -> StoreResult<super::blob::BlobReader> {
        let key = node
            .blob
            .as_ref()
            .ok_or(super::error::StoreError::IsFolder)?;
        self.open_content(key, range).await
    }

    /// Read all of an earlier version's content.
    pub async fn read_version(
        &self,
        v: &super::model::Version,
    ) -> StoreResult<super::blob::BlobReader> {
        self.open_content(&v.blob, None).await
    }

    /// Start staging new content (the only way to make a [`StagedBlob`]).
    pub async fn ingest(&self, plan: IngestPlan) -> StoreResult<Ingest> {
        // A body announced beyond the inline limit gets its blob at once, so a store that
        // cannot take one (a full disk) refuses before the body is read.
        let sink = match plan.size {
            Some(n) if n > self.inline_max => Some(self.blobs.create(Some(n)).await?),
            _ => None,
        };
        Ok(Ingest {
            sink: std::sync::Mutex::new(sink),
            blobs: self.blobs.clone(),
            pipe: HashPipe::for_length(Hasher::new(plan.sha256), plan.size),
            batch: BytesMut::new(),
            written: 0,
            size: plan.size,
            inline_max: self.inline_max,
        })
    }

    /// Free staged content that will not be committed (a checksum mismatch, say).
    pub async fn discard_staged(&self, staged: StagedBlob) {
        if let Staged::Blob(key) = &staged.content
            && let Err(e) = self.blobs.delete(key).await
        {
            tracing::warn!(blob = %key, error = %e, "staged blob left for the sweep");
        }
    }
}
