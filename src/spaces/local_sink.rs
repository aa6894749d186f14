//! The writer of the local blob store: gathers what it is given into writes of at least
//! [`WRITE_BUF`] (owned pieces without copying them, in one `writev`), hands every written
//! range to the kernel's writeback in the background, so that the sync that ends a blob (or a
//! tus PATCH) finds little left to write, and removes an unfinished new blob.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use tokio::fs;

use super::blob::{BlobKey, BlobSink, StagingSink, StagingState};

/// Make a directory's entries (a rename, a new file) durable.
pub(super) async fn sync_dir(dir: &std::path::Path) -> io::Result<()> {
    fs::File::open(dir).await?.sync_all().await
}

/// Writes go to the file once this much has gathered: one system call per MiB.
pub(super) const WRITE_BUF: usize = 1 << 20;

/// Borrowed (and small owned) writes are copied into one buffer of this size; larger owned
/// pieces are queued as they are.
const GATHER: usize = 64 << 10;

/// Pages are handed to writeback in whole pages of this size (the last, partial page of a
/// write is written again by the next one, so it waits for that).
const PAGE: u64 = 4096;

/// Start writing `from..to` of `file` to the device without waiting for it: the final
/// `fdatasync` then only waits for what is still in flight, the last bytes and the journal
/// (without it, a 10 MB PATCH's sync wrote all 10 MB: ~15 ms here, ~2 ms with it; the
/// periodic background `fdatasync` this replaces paid a journal commit and a cache flush
/// each time and still left up to 8 MiB).
///
/// rustix has no `sync_file_range`, and the crate forbids `unsafe`: on Linux,
/// `POSIX_FADV_DONTNEED` starts writeback of the range's dirty pages first (`WB_SYNC_NONE`,
/// as `SYNC_FILE_RANGE_WRITE` does) and then drops only the pages that are clean, which
/// freshly written ones under writeback are not (they stay cached: `fincore` showed all 64
/// MiB of a file written this way resident). It is advice: a failure changes nothing that
/// counts, since durability comes from the sync.
fn start_writeback(file: &std::fs::File, from: u64, to: u64) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(len) = std::num::NonZeroU64::new(to.saturating_sub(from)) {
        let _ = rustix::fs::fadvise(file, from, Some(len), rustix::fs::Advice::DontNeed);
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = (file, from, to);
}

/// A blob file being written. What it is given waits in `pending` until a write of
/// [`WRITE_BUF`] is due; the file itself is only touched on the blocking pool.
pub(super) struct LocalSink {
    file: Option<std::fs::File>,
    /// Owned pieces, in order, for the next write.
    pending: Vec<Bytes>,
    pending_len: usize,
    /// Small writes gather here before they join `pending`.
    gather: BytesMut,
    key: BlobKey,
    final_path: PathBuf,
    temp_path: Option<PathBuf>,
    /// Bytes accepted (written or pending).
    len: u64,
    /// Bytes in the file: where the next write lands.
    on_disk: u64,
    /// Where the pages not yet handed to writeback start (a page boundary).
    kicked: u64,
    /// A second handle of the file for [`LocalSink::kick`], made on the first kick.
    kick_handle: Option<Arc<std::fs::File>>,
    /// The kick under way, if any.
    kicker: Option<tokio::task::JoinHandle<()>>,
}

impl LocalSink {
    pub(super) fn new(
        file: std::fs::File,
        key: BlobKey,
        final_path: PathBuf,
        temp: Option<PathBuf>,
        len: u64,
    ) -> Self {
        LocalSink {
            file: Some(file),
            pending: Vec::new(),
            pending_len: 0,
            gather: BytesMut::new(),
            key,
            final_path,
            temp_path: temp,
            len,
            on_disk: len,
            kicked: len - len % PAGE,
            kick_handle: None,
            kicker: None,
        }
    }

    /// Run `op` on the file on the blocking pool.
    async fn with_file<T: Send + 'static>(
        &mut self,
        op: impl FnOnce(&mut std::fs::File) -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("blob file lost by an earlier failure"))?;
        let (file, result) = tokio::task::spawn_blocking(move || {
            let r = op(&mut file);
            (file, r)
        })
        .await
        .map_err(io::Error::other)?;
        self.file = Some(file);
        result
    }

    /// Take what is queued for the next write; `on_disk` moves to where it will end.
    fn take_pending(&mut self) -> Vec<Bytes> {
        self.seal_gather();
        self.on_disk += std::mem::take(&mut self.pending_len) as u64;
        std::mem::take(&mut self.pending)
    }

    /// Make everything accepted so far durable, in one trip to the blocking pool: the last
    /// write and the sync. Returns the length.
    async fn sync_all(&mut self) -> io::Result<u64> {
        let pieces = self.take_pending();
        self.with_file(move |f| {
            write_all_vectored(f, &pieces)?;
            f.sync_data()
        })
        .await?;
        self.kicked = self.on_disk - self.on_disk % PAGE;
        Ok(self.len)
    }

    /// Move the gathered small writes behind the queued pieces.
    fn seal_gather(&mut self) {
        if !self.gather.is_empty() {
            let piece = self.gather.split().freeze();
            self.pending_len += piece.len();
            self.pending.push(piece);
        }
    }

    /// Queue `data`; write once [`WRITE_BUF`] has gathered.
    async fn queue(&mut self, data: Bytes) -> io::Result<()> {
        self.seal_gather();
        self.pending_len += data.len();
        self.pending.push(data);
        self.write_due().await
    }

    async fn write_due(&mut self) -> io::Result<()> {
        if self.pending_len >= WRITE_BUF {
            self.write_pending().await?;
        }
        Ok(())
    }

    /// Write everything queued in one system call (more only for a short write), and hand
    /// the whole pages written so far to writeback.
    async fn write_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() && self.gather.is_empty() {
            return Ok(());
        }
        let pieces = self.take_pending();
        self.with_file(move |f| write_all_vectored(f, &pieces))
            .await?;
        self.kick(self.on_disk)
    }

    /// Hand the whole pages below `to` that were not handed yet to writeback, on a task of
    /// its own: starting writeback allocates blocks and may wait for a journal commit under
    /// way (p99 5 ms, max 7 ms under load when it ran in the write's own trip), which must
    /// not stall the writes. While one kick runs, the next write's kick covers both ranges.
    fn kick(&mut self, to: u64) -> io::Result<()> {
        let to = to - to % PAGE;
        let busy = self.kicker.as_ref().is_some_and(|k| !k.is_finished());
        if busy || to <= self.kicked {
            return Ok(());
        }
        let handle = match &self.kick_handle {
            Some(h) => h.clone(),
            None => {
                let Some(file) = self.file.as_ref() else {
                    return Ok(());
                };
                self.kick_handle.insert(Arc::new(file.try_clone()?)).clone()
            }
        };
        let from = std::mem::replace(&mut self.kicked, to);
        self.kicker = Some(tokio::task::spawn_blocking(move || {
            start_writeback(&handle, from, to)
        }));
        Ok(())
    }
}

/// `write_all` over several buffers: one `writev` unless the kernel writes less.
fn write_all_vectored(f: &mut std::fs::File, pieces: &[Bytes]) -> io::Result<()> {
    use std::io::{IoSlice, Write};
    let mut slices: Vec<IoSlice<'_>> = pieces.iter().map(|p| IoSlice::new(p)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match f.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The end of a new blob, in one trip to the blocking pool: the last write, the rename from
/// the temp name to the key's, the file's sync and its directory's. The rename comes before
/// the syncs so that one journal commit (the file's) makes both the bytes and the name
/// durable and the directory's sync finds nothing left to commit (syncing before renaming
/// paid two). A crash in between leaves an unreferenced blob under its key, which the sweep
/// collects like any blob whose commit never came; a failure removes it.
fn seal_new(
    f: &mut std::fs::File,
    pieces: &[Bytes],
    temp: &Path,
    final_path: &Path,
) -> io::Result<()> {
    write_all_vectored(f, pieces)?;
    std::fs::rename(temp, final_path)?;
    let durable = f
        .sync_data()
        .and_then(|()| std::fs::File::open(final_path.parent().expect("has parent"))?.sync_all());
    if durable.is_err() {
        let _ = std::fs::remove_file(final_path);
    }
    durable
}

#[async_trait]
impl BlobSink for LocalSink {
    async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.len += data.len() as u64;
        if self.gather.capacity() - self.gather.len() < data.len() {
            self.seal_gather();
            self.gather.reserve(GATHER.max(data.len()));
        }
        self.gather.extend_from_slice(data);
        if self.gather.len() >= GATHER {
            self.seal_gather();
        }
        self.write_due().await
    }

    async fn write_bytes(&mut self, data: bytes::Bytes) -> io::Result<()> {
        if data.len() < GATHER {
            return self.write(&data).await;
        }
        self.len += data.len() as u64;
        self.queue(data).await
    }

    async fn finish(mut self: Box<Self>) -> io::Result<BlobKey> {
        let Some(temp) = self.temp_path.take() else {
            self.sync_all().await?;
            return Ok(self.key.clone());
        };
        let pieces = self.take_pending();
        let final_path = self.final_path.clone();
        let sealed = self
            .with_file(move |f| seal_new(f, &pieces, &temp, &final_path))
            .await;
        if sealed.is_err() {
            // Failed before the rename: the temp file goes (`seal_new` removed a renamed one).
            let _ = std::fs::remove_file(self.final_path.with_extension("tmp"));
        }
        sealed.map(|()| self.key.clone())
    }
}

#[async_trait]
impl StagingSink for LocalSink {
    async fn write_bytes(&mut self, data: bytes::Bytes) -> io::Result<()> {
        BlobSink::write_bytes(self, data).await
    }

    async fn sync(&mut self) -> io::Result<StagingState> {
        // The file is the whole record: its length after the sync is what the row's
        // offset says.
        self.sync_all().await?;
        Ok(StagingState::default())
    }
}

impl Drop for LocalSink {
    fn drop(&mut self) {
        // An unfinished new blob leaves no trace; the sweep would catch it anyway.
        if let Some(temp) = self.temp_path.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}
