//! The local-directory backend of the blob store: blobs as files under one directory. An
//! upload's staged bytes are an append-only file under its final key, so its staging state is
//! empty and sealing it changes nothing.

use std::io::{self, SeekFrom};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::fs::{self, File};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use uuid::Uuid;

use super::blob::{
    BlobKey, BlobPage, BlobReader, BlobSink, BlobStore, Listed, PartNumbers, StagingPlan,
    StagingSink, StagingState,
};
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
    async fn create(&self, _size: Option<u64>) -> io::Result<Box<dyn BlobSink>> {
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

    async fn create_staging(&self, _plan: StagingPlan) -> io::Result<(BlobKey, StagingState)> {
        let (key, path) = self.new_key().await?;
        // An empty file has no data to sync; syncing its directory makes the name durable.
        // One trip to the blocking pool for both: small uploads are bounded by such hops.
        blocking(move || {
            std::fs::File::create(&path)?;
            std::fs::File::open(path.parent().expect("has parent"))?.sync_all()
        })
        .await?;
        Ok((key, StagingState::default()))
    }

    async fn append(
        &self,
        key: &BlobKey,
        _state: &StagingState,
        at: u64,
        _parts: Arc<dyn PartNumbers>,
    ) -> io::Result<Box<dyn StagingSink>> {
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

    async fn read_staged(
        &self,
        key: &BlobKey,
        _state: &StagingState,
        len: u64,
    ) -> io::Result<Option<BlobReader>> {
        self.open(key, Some(0..len)).await.map(Some)
    }

    fn seals_in_place(&self) -> bool {
        true
    }

    async fn seal(
        &self,
        _key: &BlobKey,
        state: &StagingState,
        _parts: Arc<dyn PartNumbers>,
    ) -> io::Result<StagingState> {
        Ok(state.clone())
    }

    async fn discard_staging(&self, key: &BlobKey, _state: &StagingState) -> io::Result<()> {
        self.delete(key).await
    }

    async fn release_superseded(
        &self,
        _: &BlobKey,
        _: &StagingState,
        _: &StagingState,
    ) -> io::Result<()> {
        Ok(())
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

    async fn list_page(&self, from: Option<&str>) -> io::Result<BlobPage> {
        // A page is one shard directory: at most 1/256 of the blobs, in a stable order.
        let mut shards = Vec::new();
        let mut top = fs::read_dir(&self.dir).await?;
        while let Some(shard) = top.next_entry().await? {
            let name = shard.file_name().to_string_lossy().into_owned();
            if shard.file_type().await?.is_dir() && from.is_none_or(|f| name.as_str() >= f) {
                shards.push(name);
            }
        }
        shards.sort();
        let Some(first) = shards.first() else {
            return Ok(BlobPage::default());
        };
        let mut entries = Vec::new();
        let mut inner = fs::read_dir(self.dir.join(first)).await?;
        while let Some(entry) = inner.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let modified = entry.metadata().await?.modified()?;
            let owner = name.split('.').next().unwrap_or_default().to_string();
            entries.push(Listed {
                key: BlobKey::new(name),
                owner: BlobKey::new(owner),
                modified,
            });
        }
        Ok(BlobPage {
            entries,
            next: shards.get(1).cloned(),
        })
    }

    async fn capacity(&self) -> io::Result<Option<u64>> {
        #[cfg(unix)]
        {
            let dir = self.dir.clone();
            blocking(move || {
                let s = rustix::fs::statvfs(&dir)?;
                Ok(Some(s.f_bavail.saturating_mul(s.f_frsize)))
            })
            .await
        }
        #[cfg(not(unix))]
        {
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoParts;
    #[async_trait]
    impl PartNumbers for NoParts {
        async fn next(&self) -> io::Result<u32> {
            unreachable!("local staging has no parts")
        }
    }

    fn no_parts() -> Arc<dyn PartNumbers> {
        Arc::new(NoParts)
    }

    async fn list_all(store: &LocalBlobs) -> Vec<Listed> {
        let mut out = Vec::new();
        let mut from = None;
        loop {
            let page = store.list_page(from.as_deref()).await.unwrap();
            out.extend(page.entries);
            match page.next {
                Some(next) => from = Some(next),
                None => return out,
            }
        }
    }

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
        let mut sink = store.create(None).await.unwrap();
        sink.write(b"hello ").await.unwrap();
        sink.write(b"world").await.unwrap();
        assert!(
            list_all(&store)
                .await
                .iter()
                .all(|l| l.key.as_str().ends_with(".tmp"))
        );
        let key = sink.finish().await.unwrap();
        assert_eq!(read_all(&store, &key, None).await, b"hello world");
        assert_eq!(read_all(&store, &key, Some(6..11)).await, b"world");
        assert_eq!(store.len(&key).await.unwrap(), 11);
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
    }

    #[tokio::test]
    async fn listing_pages_by_shard_and_capacity_is_the_directorys_free_space() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobs::open(dir.path()).await.unwrap();
        let mut keys = Vec::new();
        while keys.len() < 3 {
            let mut sink = store.create(None).await.unwrap();
            sink.write(b"x").await.unwrap();
            let key = sink.finish().await.unwrap();
            // Keys in three different shards, so the listing takes three pages.
            if keys
                .iter()
                .all(|k: &BlobKey| k.as_str()[..2] != key.as_str()[..2])
            {
                keys.push(key);
            }
        }
        let mut pages = 0;
        let mut from = None;
        loop {
            let page = store.list_page(from.as_deref()).await.unwrap();
            pages += 1;
            match page.next {
                Some(next) => from = Some(next),
                None => break,
            }
        }
        let shards = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(pages, shards);
        let mut listed: Vec<BlobKey> = list_all(&store).await.into_iter().map(|l| l.key).collect();
        listed.sort();
        let mut all: Vec<BlobKey> = std::fs::read_dir(dir.path())
            .unwrap()
            .flat_map(|s| std::fs::read_dir(s.unwrap().path()).unwrap())
            .map(|e| BlobKey::new(e.unwrap().file_name().to_string_lossy().into_owned()))
            .collect();
        all.sort();
        assert_eq!(listed, all);
        assert!(store.capacity().await.unwrap().is_some_and(|free| free > 0));
    }

    #[tokio::test]
    async fn dropped_sink_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobs::open(dir.path()).await.unwrap();
        let mut sink = store.create(None).await.unwrap();
        sink.write(b"partial").await.unwrap();
        drop(sink);
        assert!(list_all(&store).await.is_empty());
    }

    #[tokio::test]
    async fn staging_append_truncates_unacknowledged_tail_and_concat_joins() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobs::open(dir.path()).await.unwrap();
        let plan = StagingPlan {
            length: None,
            max_length: 100,
        };
        let (key, state) = store.create_staging(plan).await.unwrap();
        let mut s = store.append(&key, &state, 0, no_parts()).await.unwrap();
        s.write_bytes(bytes::Bytes::from_static(b"abcdef"))
            .await
            .unwrap();
        assert_eq!(s.sync().await.unwrap(), state);
        drop(s);
        let mut s = store.append(&key, &state, 3, no_parts()).await.unwrap();
        s.write_bytes(bytes::Bytes::from_static(b"XY"))
            .await
            .unwrap();
        s.sync().await.unwrap();
        assert_eq!(store.seal(&key, &state, no_parts()).await.unwrap(), state);
        assert_eq!(read_all(&store, &key, None).await, b"abcXY");
        assert!(store.append(&key, &state, 9, no_parts()).await.is_err());
        let joined = store.concat(&[key.clone(), key.clone()]).await.unwrap();
        assert_eq!(read_all(&store, &joined, None).await, b"abcXYabcXY");
        assert!(store.path(&BlobKey::new("../etc")).is_err());
    }
}
