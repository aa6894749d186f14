//! dav-server file handles: `GetFile` reads a node's blob by ranges, `PutFile` hands a PUT
//! body to the core's [`Ingest`] and commits only a complete, verified body, in one core call.

use std::io::SeekFrom;
use std::sync::Mutex;

use bytes::{Buf, Bytes, BytesMut};
use dav_server::fs::{DavFile, DavMetaData, FsError, FsFuture, FsResult, OpenOptions};
use futures::FutureExt;
use tokio::io::AsyncReadExt;

use super::error::DavError;
use super::fs_meta::{NodeMeta, failed, fs_status};
use super::request_ctx::ReqCtx;
use crate::spaces::{
    Algorithm, BlobReader, FileWrite, Ingest, IngestPlan, LockHolder, Node, Precondition,
    SpacePath, Store, StoreError,
};

/// A failed read as dav-server can express it.
fn read_failure(e: StoreError) -> FsError {
    match e {
        StoreError::Io(e) => io_failure(e),
        other => fs_status(&other),
    }
}

/// A blob failure as dav-server can express it: a full or read-only disk is 507 (classified
/// by the storage core), anything else 500.
fn io_failure(e: std::io::Error) -> FsError {
    match StoreError::from(e) {
        StoreError::Io(e) => {
            tracing::error!(error = %e, "webdav blob i/o failed");
            FsError::GeneralFailure
        }
        other => fs_status(&other),
    }
}

/// A failed write (see [`failed`]).
fn write_failure(ctx: &ReqCtx, e: StoreError) -> FsError {
    failed(ctx, e)
}

/// Chunks a GET reads ahead of the socket, so blob reads overlap the writes to the client.
const READ_AHEAD: usize = 2;

/// A blob being read by a task of its own, chunk by chunk, ahead of the sender.
struct ReadAhead {
    chunks: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    /// The unsent rest of the last chunk.
    rest: Bytes,
}

impl ReadAhead {
    /// Read `reader` in chunks of `chunk` bytes on a task; dropping the receiver stops it.
    fn start(mut reader: BlobReader, chunk: usize) -> ReadAhead {
        let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
        tokio::spawn(async move {
            loop {
                // Not zero-filled: `read_buf` writes into the spare capacity.
                let mut b = BytesMut::with_capacity(chunk);
                while b.len() < chunk {
                    match reader.read_buf(&mut b).await {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) => {
                            let _ = tx.send(Err(e)).await;
                            return;
                        }
                    }
                }
                if b.is_empty() || tx.send(Ok(b.freeze())).await.is_err() {
                    return;
                }
            }
        });
        ReadAhead {
            chunks: rx,
            rest: Bytes::new(),
        }
    }

    /// Up to `want` (> 0) bytes; empty at the end of the blob.
    async fn next(&mut self, want: usize) -> std::io::Result<Bytes> {
        if self.rest.is_empty() {
            match self.chunks.recv().await {
                Some(chunk) => self.rest = chunk?,
                None => return Ok(Bytes::new()),
            }
        }
        let n = want.min(self.rest.len());
        Ok(self.rest.split_to(n))
    }
}

/// Reads a file; the blob is (re)opened lazily at the current position after a seek.
pub struct GetFile {
    store: Store,
    node: Node,
    pos: u64,
    // The receiver is `Send` but not `Sync`; a mutex makes the handle `Sync` as dav-server
    // asks.
    reader: Mutex<Option<ReadAhead>>,
}

impl std::fmt::Debug for GetFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetFile")
            .field("node", &self.node.id)
            .field("pos", &self.pos)
            .finish()
    }
}

impl GetFile {
    /// A reader positioned at the start of `node`.
    pub fn new(store: Store, node: Node) -> Self {
        GetFile {
            store,
            node,
            pos: 0,
            reader: Mutex::new(None),
        }
    }
}

impl DavFile for GetFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta: Box<dyn DavMetaData> = Box::new(NodeMeta(self.node.clone()));
        futures::future::ready(Ok(meta)).boxed()
    }

    fn write_buf(&mut self, _buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        futures::future::ready(Err(FsError::Forbidden)).boxed()
    }

    fn write_bytes(&mut self, _buf: Bytes) -> FsFuture<'_, ()> {
        futures::future::ready(Err(FsError::Forbidden)).boxed()
    }

    fn read_bytes(&mut self, count: usize) -> FsFuture<'_, Bytes> {
        async move {
            let size = self.node.size;
            let want = count.min(size.saturating_sub(self.pos) as usize);
            if want == 0 {
                return Ok(Bytes::new());
            }
            let slot = self.reader.get_mut().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                let r = self
                    .store
                    .read_content(&self.node, Some(self.pos..size))
                    .await
                    .map_err(read_failure)?;
                // dav-server asks for its read buffer's size each time: read that much ahead.
                *slot = Some(ReadAhead::start(r, count));
            }
            let reader = slot.as_mut().expect("opened above");
            let first = reader.next(want).await.map_err(io_failure)?;
            let buf = if first.len() == want {
                first
            } else {
                // Only when chunk and request sizes disagree: gather the rest.
                let mut buf = BytesMut::with_capacity(want);
                buf.extend_from_slice(&first);
                while buf.len() < want {
                    let more = reader.next(want - buf.len()).await.map_err(io_failure)?;
                    if more.is_empty() {
                        // The blob is shorter than the node says: fail rather than pad.
                        return Err(FsError::GeneralFailure);
                    }
                    buf.extend_from_slice(&more);
                }
                buf.freeze()
            };
            let got = buf.len();
            self.pos += got as u64;
            Ok(buf)
        }
        .boxed()
    }

    fn seek(&mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        let size = self.node.size as i64;
        let target = match pos {
            SeekFrom::Start(p) => p as i64,
            SeekFrom::End(d) => size + d,
            SeekFrom::Current(d) => self.pos as i64 + d,
        };
        let res = if target < 0 {
            Err(FsError::GeneralFailure)
        } else {
            if target as u64 != self.pos {
                self.pos = target as u64;
                *self.reader.get_mut().unwrap_or_else(|e| e.into_inner()) = None;
            }
            Ok(self.pos)
        };
        futures::future::ready(res).boxed()
    }

    fn flush(&mut self) -> FsFuture<'_, ()> {
        futures::future::ready(Ok(())).boxed()
    }
}

/// A PUT in progress: the body goes into the core's [`Ingest`]; `flush` seals and commits.
pub struct PutFile {
    store: Store,
    ctx: ReqCtx,
    path: SpacePath,
    options: OpenOptions,
    ingest: Option<Ingest>,
    committed: Option<Node>,
}

impl std::fmt::Debug for PutFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PutFile")
            .field("path", &self.path)
            .field("ingest", &self.ingest)
            .finish()
    }
}

impl PutFile {
    /// Start staging new content for `path`.
    pub async fn start(
        store: Store,
        ctx: ReqCtx,
        path: SpacePath,
        options: OpenOptions,
    ) -> FsResult<PutFile> {
        let sha256 = ctx
            .put
            .checksum
            .as_ref()
            .is_some_and(|c| c.alg == Algorithm::Sha256);
        let plan = IngestPlan {
            size: options.size,
            sha256,
        };
        let ingest = match store.ingest(plan).await {
            Ok(i) => i,
            Err(e) => return Err(write_failure(&ctx, e)),
        };
        Ok(PutFile {
            store,
            ctx,
            path,
            options,
            ingest: Some(ingest),
            committed: None,
        })
    }

    fn written(&self) -> u64 {
        self.ingest.as_ref().map_or(0, Ingest::written)
    }

    async fn write(&mut self, data: &[u8]) -> FsResult<()> {
        let ingest = self.ingest.as_mut().ok_or(FsError::GeneralFailure)?;
        match ingest.write(data).await {
            Ok(()) => Ok(()),
            Err(e) => Err(write_failure(&self.ctx, e)),
        }
    }

    /// Seal the content, verify the client's checksum and commit the node.
    pub async fn commit_now(&mut self) -> FsResult<()> {
        let Some(ingest) = self.ingest.take() else {
            return Ok(());
        };
        let staged = ingest
            .seal()
            .await
            .map_err(|e| write_failure(&self.ctx, e))?;
        if let Some(expected) = &self.ctx.put.checksum
            && staged.digests().hex(expected.alg) != Some(hex::encode(&expected.digest).as_str())
        {
            self.store.discard_staged(staged).await;
            self.ctx.set_error(DavError::ChecksumMismatch);
            return Err(FsError::GeneralFailure);
        }
        let write = FileWrite {
            pre: if self.options.create_new {
                Precondition::Absent
            } else {
                Precondition::None
            },
            // dav-server checked the locks (token and principal) before it opened the file;
            // the core's check, in the commit's transaction, closes the race with a LOCK
            // taken meanwhile by someone else. The user's own locks count as held: a LOCK of
            // an unmapped URL creates its empty file after it stored the lock. When the
            // commit's check is the only one, it is dav-server's: no token, no exception.
            holder: LockHolder {
                tokens: self.ctx.put.lock_tokens.clone(),
                owner: (!self.ctx.put.commit_checks_only).then(|| self.ctx.user.name.clone()),
            },
            mtime: self.ctx.put.mtime,
            content_type: None,
        };
        match self
            .store
            .commit_staged(self.ctx.space, &self.path, staged, write)
            .await
        {
            Ok(c) => {
                self.ctx.set_committed(c.node.clone(), !c.created);
                self.committed = Some(c.node);
                Ok(())
            }
            // The answers `SpacesFs::open_write` gives before a body when it checks first.
            Err(StoreError::IsFolder) => Err(FsError::Forbidden),
            Err(StoreError::ParentMissing) => {
                self.ctx.set_error(DavError::ParentMissing);
                Err(FsError::GeneralFailure)
            }
            Err(e) => Err(write_failure(&self.ctx, e)),
        }
    }
}

impl DavFile for PutFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let res = match &self.committed {
            Some(n) => {
                let m: Box<dyn DavMetaData> = Box::new(NodeMeta(n.clone()));
                Ok(m)
            }
            None => Err(FsError::NotFound),
        };
        futures::future::ready(res).boxed()
    }

    fn write_buf(&mut self, mut buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        async move {
            while buf.has_remaining() {
                let chunk = Bytes::copy_from_slice(buf.chunk());
                buf.advance(chunk.len());
                self.write(&chunk).await?;
            }
            Ok(())
        }
        .boxed()
    }

    fn write_bytes(&mut self, buf: Bytes) -> FsFuture<'_, ()> {
        async move {
            // Owned frames: a large one reaches the blob and the hash workers uncopied.
            let ingest = self.ingest.as_mut().ok_or(FsError::GeneralFailure)?;
            let written = ingest.write_bytes(buf).await;
            written.map_err(|e| write_failure(&self.ctx, e))
        }
        .boxed()
    }

    fn read_bytes(&mut self, _count: usize) -> FsFuture<'_, Bytes> {
        futures::future::ready(Err(FsError::Forbidden)).boxed()
    }

    fn seek(&mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        // Only "from the start, at the current end" is possible on a fresh blob.
        let res = match pos {
            SeekFrom::Start(p) if p == self.written() => Ok(p),
            _ => Err(FsError::NotImplemented),
        };
        futures::future::ready(res).boxed()
    }

    fn flush(&mut self) -> FsFuture<'_, ()> {
        async move {
            // dav-server flushes before it checks the length: a short or long body must not
            // become the file's content.
            if self.options.size.is_some_and(|n| n != self.written()) {
                return Ok(());
            }
            self.commit_now().await
        }
        .boxed()
    }
}
