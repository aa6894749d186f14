//! The writer of the local blob store: gathers what it is given into writes of at least
//! [`WRITE_BUF`] (owned pieces without copying them, in one `writev`), starts syncing in the
//! background while writing goes on, and removes an unfinished new blob.

use std::io;
use std::path::PathBuf;

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

/// Start syncing written pages in the background after this many bytes, so the final sync of
/// a large blob (or of a long tus PATCH) has only the last few MiB left (a 1 GiB PUT spent
/// ~1 s, a third of its time, in one final `fdatasync`; a 10 MB PATCH ~18 ms).
const FLUSH_EVERY: u64 = 4 << 20;

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
    len: u64,
    /// Bytes written since the last background flush started.
    unflushed: u64,
    /// A background `fdatasync` started while writing continues (see [`FLUSH_EVERY`]).
    flusher: Option<tokio::task::JoinHandle<io::Result<()>>>,
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
            unflushed: 0,
            flusher: None,
        }
    }

    /// After `n` more bytes: start a background flush when enough have gathered and the
    /// previous flush is done. It syncs through a second handle of the same file, so the
    /// writes go on meanwhile.
    fn note_written(&mut self, n: u64) -> io::Result<()> {
        self.unflushed += n;
        let idle = self.flusher.as_ref().is_none_or(|f| f.is_finished());
        if self.unflushed < FLUSH_EVERY || !idle {
            return Ok(());
        }
        let Some(file) = self.file.as_ref() else {
            return Ok(());
        };
        let handle = file.try_clone()?;
        self.unflushed = 0;
        self.flusher = Some(tokio::task::spawn_blocking(move || handle.sync_data()));
        Ok(())
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

    /// Make everything written so far durable; returns the length.
    async fn sync_all(&mut self) -> io::Result<u64> {
        self.write_pending().await?;
        if let Some(flusher) = self.flusher.take() {
            flusher.await.map_err(io::Error::other)??;
        }
        self.with_file(|f| f.sync_data()).await?;
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

    /// Write everything queued in one system call (more only for a short write).
    async fn write_pending(&mut self) -> io::Result<()> {
        self.seal_gather();
        if self.pending.is_empty() {
            return Ok(());
        }
        let pieces = std::mem::take(&mut self.pending);
        let n = std::mem::take(&mut self.pending_len) as u64;
        self.with_file(move |f| write_all_vectored(f, &pieces))
            .await?;
        self.note_written(n)
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
        self.sync_all().await?;
        if let Some(temp) = self.temp_path.take() {
            fs::rename(&temp, &self.final_path).await?;
            sync_dir(self.final_path.parent().expect("has parent")).await?;
        }
        Ok(self.key.clone())
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
