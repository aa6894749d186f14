//! The local-directory backend of the blob store: blobs as files under one directory.

use std::io::{self, SeekFrom};
use std::ops::Range;
use std::path::PathBuf;
use std::time::SystemTime;

use async_trait::async_trait;
use tokio::fs::{self, File};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use uuid::Uuid;

use super::blob::{BlobKey, BlobReader, BlobSink, BlobStore};
use super::local_sink::{LocalSink, sync_dir};

/// Blobs as files under one directory: `{dir}/{key[..2]}/{key}`.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    dir: PathBuf,
}

impl LocalBlobs {
    /// Use (and create) `dir`.
    pub async fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir).await?;
        Ok(LocalBlobs { dir })
    }

    /// The file of a key. `list` also reports the temp files of unfinished writes as
    /// `<key>.tmp`, so those names map to their temp file (and can be deleted by the sweep).
    fn path(&self, key: &BlobKey) -> io::Result<PathBuf> {
        let key = key.as_str();
        let (stem, temp) = match key.strip_suffix(".tmp") {
            Some(stem) => (stem, true),
            None => (key, false),
        };
        // Keys come from the database, but a corrupted row must still not escape the directory.
        if stem.len() < 3 || !stem.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad blob key"));
        }
        let path = self.dir.join(&stem[..2]).join(stem);
        Ok(if temp {
            path.with_extension("tmp")
        } else {
            path
        })
    }

    async fn new_key(&self) -> io::Result<(BlobKey, PathBuf)> {
        let key = BlobKey::new(Uuid::new_v4().simple().to_string());
        let path = self.path(&key)?;
        let shard = path.parent().expect("has parent").to_path_buf();
        // The 256 shard directories exist after warm-up; checking costs no blocking-pool trip.
        if !shard.is_dir() {
            fs::create_dir_all(shard).await?;
        }
        Ok((key, path))
    }
}

/// Run file-system work on the blocking pool in one trip.
async fn blocking<T: Send + 'static>(
    op: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(op)
        .await
        .map_err(io::Error::other)?
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn create(&self) -> io::Result<Box<dyn BlobSink>> {
        let (key, final_path) = self.new_key().await?;
        let temp_path = final_path.with_extension("tmp");
        let temp = temp_path.clone();
        let file = blocking(move || std::fs::File::create(temp)).await?;
        Ok(Box::new(LocalSink::new(
            file,
            key,
            final_path,
            Some(temp_path),
            0,
        )))
    }

    async fn create_staging(&self) -> io::Result<BlobKey> {
        let (key, path) = self.new_key().await?;
        // An empty file has no data to sync; syncing its directory makes the name durable.
        // One trip to the blocking pool for both: small uploads are bounded by such hops.
        blocking(move || {
            std::fs::File::create(&path)?;
            std::fs::File::open(path.parent().expect("has parent"))?.sync_all()
        })
        .await?;
        Ok(key)
    }

    async fn append(&self, key: &BlobKey, at: u64) -> io::Result<Box<dyn BlobSink>> {
        let path = self.path(key)?;
        let at_path = path.clone();
        let file = blocking(move || {
            let mut file = std::fs::OpenOptions::new().write(true).open(at_path)?;
            let len = file.metadata()?.len();
            if len < at {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("staging blob has {len} bytes, expected at least {at}"),
                ));
            }
            if len > at {
                file.set_len(at)?;
            }
            std::io::Seek::seek(&mut file, SeekFrom::Start(at))?;
            Ok(file)
        })
        .await?;
        Ok(Box::new(LocalSink::new(file, key.clone(), path, None, at)))
    }

    async fn concat(&self, parts: &[BlobKey]) -> io::Result<BlobKey> {
        let (key, final_path) = self.new_key().await?;
        let temp_path = final_path.with_extension("tmp");
        let sources = parts
            .iter()
            .map(|p| self.path(p))
            .collect::<io::Result<Vec<_>>>()?;
        let temp = temp_path.clone();
        // std::io::copy between files uses copy_file_range on Linux: the kernel moves the
        // bytes (or shares extents), they never pass through user space.
        tokio::task::spawn_blocking(move || -> io::Result<()> {
            let mut out = std::fs::File::create(&temp)?;
            for src in sources {
                let mut input = std::fs::File::open(src)?;
                io::copy(&mut input, &mut out)?;
            }
            out.sync_all()
        })
        .await
        .map_err(io::Error::other)??;
        fs::rename(&temp_path, &final_path).await?;
        sync_dir(final_path.parent().expect("has parent")).await?;
        Ok(key)
    }

    async fn copy(&self, key: &BlobKey) -> io::Result<BlobKey> {
        self.concat(std::slice::from_ref(key)).await
    }

    async fn open(&self, key: &BlobKey, range: Option<Range<u64>>) -> io::Result<BlobReader> {
        let mut file = File::open(self.path(key)?).await?;
        match range {
            None => Ok(Box::pin(file)),
            Some(r) => {
                file.seek(SeekFrom::Start(r.start)).await?;
                Ok(Box::pin(file.take(r.end.saturating_sub(r.start))))
            }
        }
    }

    async fn len(&self, key: &BlobKey) -> io::Result<u64> {
        Ok(fs::metadata(self.path(key)?).await?.len())
    }

    async fn delete(&self, key: &BlobKey) -> io::Result<()> {
        match fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    async fn check(&self) -> io::Result<()> {
        let dir = self.dir.clone();
        blocking(move || {
            // Listing needs the directory to exist, be a directory and be searchable.
            std::fs::read_dir(&dir)?.next().transpose()?;
            Ok(())
        })
        .await
    }

    async fn list(&self) -> io::Result<Vec<(BlobKey, SystemTime)>> {
        let mut out = Vec::new();
        let mut top = fs::read_dir(&self.dir).await?;
        while let Some(shard) = top.next_entry().await? {
            if !shard.file_type().await?.is_dir() {
                continue;
            }
            let mut inner = fs::read_dir(shard.path()).await?;
            while let Some(entry) = inner.next_entry().await? {
                let name = entry.file_name().to_string_lossy().into_owned();
                let modified = entry.metadata().await?.modified()?;
                out.push((BlobKey::new(name), modified));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(store: &LocalBlobs, key: &BlobKey, range: Option<Range<u64>>) -> Vec<u8> {
        let mut r = store.open(key, range).await.unwrap();
        let mut v = Vec::new();
        r.read_to_end(&mut v).await.unwrap();
        v
    }

    #[tokio::test]
    async fn write_once_blob_is_invisible_until_finished_and_readable_by_range() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobs::open(dir.path()).await.unwrap();
        let mut sink = store.create().await.unwrap();
        sink.write(b"hello ").await.unwrap();
        sink.write(b"world").await.unwrap();
        assert!(
            store
                .list()
                .await
                .unwrap()
                .iter()
                .all(|(k, _)| k.as_str().ends_with(".tmp"))
        );
        let key = sink.finish().await.unwrap();
        assert_eq!(read_all(&store, &key, None).await, b"hello world");
        assert_eq!(read_all(&store, &key, Some(6..11)).await, b"world");
        assert_eq!(store.len(&key).await.unwrap(), 11);
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
    }

    #[tokio::test]
    async fn dropped_sink_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobs::open(dir.path()).await.unwrap();
        let mut sink = store.create().await.unwrap();
        sink.write(b"partial").await.unwrap();
        drop(sink);
        assert!(store.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn staging_append_truncates_unacknowledged_tail_and_concat_joins() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobs::open(dir.path()).await.unwrap();
        let key = store.create_staging().await.unwrap();
        let mut s = store.append(&key, 0).await.unwrap();
        s.write(b"abcdef").await.unwrap();
        assert_eq!(s.sync().await.unwrap(), 6);
        drop(s);
        let mut s = store.append(&key, 3).await.unwrap();
        s.write(b"XY").await.unwrap();
        s.finish().await.unwrap();
        assert_eq!(read_all(&store, &key, None).await, b"abcXY");
        assert!(store.append(&key, 9).await.is_err());
        let joined = store.concat(&[key.clone(), key.clone()]).await.unwrap();
        assert_eq!(read_all(&store, &joined, None).await, b"abcXYabcXY");
        assert!(store.path(&BlobKey::new("../etc")).is_err());
    }
}
