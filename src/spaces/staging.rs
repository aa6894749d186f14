//! The bytes of upload sessions (tus): a staging blob per session that grows by appends, is
//! re-read to rebuild a hasher after a restart, is joined with others for a concatenation,
//! and is freed with its session unless a file took it over. The protocol layer names a
//! session; only the core sees the blob store, so that another backend (S3 multipart, issue
//! 14) can keep its own staging state behind these calls.

use tokio::io::AsyncReadExt;

use super::Store;
use super::blob::BlobSink;
use super::checksum::Hasher;
use super::error::StoreResult;
use super::ingest::BATCH;
use super::uploads::Upload;

impl Store {
    /// Allocate the (empty) staging bytes of a new session; returns their key, which the
    /// session row keeps.
    pub async fn new_staging(&self) -> StoreResult<String> {
        Ok(self.blobs.create_staging().await?)
    }

    /// Open the session's staging bytes for appending at `at`, first cutting off anything
    /// beyond it (bytes a failed request left behind that were never acknowledged).
    pub async fn append_staging(&self, s: &Upload, at: u64) -> StoreResult<Box<dyn BlobSink>> {
        Ok(self.blobs.append(&s.blob, at).await?)
    }

    /// New staging bytes holding the concatenation of the parts' bytes, assembled by the
    /// blob store (a kernel copy on local disk).
    pub async fn concat_staging(&self, parts: &[Upload]) -> StoreResult<String> {
        let keys: Vec<String> = parts.iter().map(|p| p.blob.clone()).collect();
        Ok(self.blobs.concat(&keys).await?)
    }

    /// Hash the first `len` bytes of staging bytes `key` (rebuilding a hasher after a
    /// restart, or hashing an assembled concatenation), on the blocking pool.
    pub async fn hash_staging(&self, key: &str, len: u64, sha256: bool) -> StoreResult<Hasher> {
        let mut reader = self.blobs.open(key, Some(0..len)).await?;
        let mut hasher = Hasher::new(sha256);
        let mut done = 0u64;
        while done < len {
            let mut buf = vec![0u8; BATCH.min((len - done) as usize)];
            reader.read_exact(&mut buf).await?;
            done += buf.len() as u64;
            hasher = tokio::task::spawn_blocking(move || {
                hasher.update(&buf);
                hasher
            })
            .await
            .map_err(std::io::Error::other)?;
        }
        Ok(hasher)
    }

    /// Remove a session that will never become a file: its row and its reservation in one
    /// transaction (which works on a full disk, like deleting a file), then its bytes unless
    /// a file or another session names them.
    pub async fn remove_upload(&self, s: &Upload) -> StoreResult<()> {
        let id = s.id.to_string();
        self.freeing(|| async {
            let mut tx = self.begin_write_in(&[s.space]).await?;
            sqlx::query("DELETE FROM uploads WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM reservations WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            self.durable().await
        })
        .await?;
        if !s.done && !self.blob_in_use(&s.blob, None).await? {
            self.blobs.delete(&s.blob).await?;
        }
        Ok(())
    }
}
