//! The bytes of upload sessions (tus): staged bytes per session that grow by appends, whose
//! backend record ([`StagingState`]) moves with the offset by compare-and-set, that are sealed
//! into the file's blob explicitly before the commit (or, where sealing changes nothing, synced
//! beside the commit's statements: [`Settling`]), re-read to rebuild a hasher after a
//! restart where the backend can read them, joined with others for a concatenation, and freed
//! with their session unless a file took them over. The protocol layer names a session; only
//! the core sees the blob store.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::io::AsyncReadExt;

use super::Store;
use super::blob::{BlobKey, BlobReader, PartNumbers, StagingPlan, StagingSink, StagingState};
use super::checksum::{Digests, Hasher};
use super::db::DbPool;
use super::error::{StoreError, StoreResult};
use super::ingest::BATCH;
use super::uploads::Upload;

/// Part numbers from the session row's `next_part` counter: one `UPDATE ... RETURNING` each,
/// so no two requests (on any node) ever get the same one.
struct RowParts {
    db: DbPool,
    id: String,
}

#[async_trait]
impl PartNumbers for RowParts {
    async fn next(&self) -> std::io::Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "UPDATE uploads SET next_part = next_part + 1 WHERE id = $1 RETURNING next_part - 1",
        )
        .bind(&self.id)
        .fetch_one(&self.db)
        .await
        .map_err(std::io::Error::other)?;
        u32::try_from(n).map_err(std::io::Error::other)
    }
}

/// An upload's last bytes on their way to stable storage: the sync of its staged bytes,
/// running on a task of its own ([`Store::settle_staging`]) while the completion's commit runs
/// its statements. The commit waits for it before it commits ([`Store::commit_upload`]), so
/// the bytes are durable before the commit that names them (DESIGN.md).
pub struct Settling(tokio::task::JoinHandle<std::io::Result<StagingState>>);

impl Settling {
    /// Wait for the sync: the staging state that records the bytes.
    pub async fn wait(self) -> StoreResult<StagingState> {
        Ok(self.0.await.map_err(std::io::Error::other)??)
    }
}

impl Store {
    /// Start making everything written to `sink` durable, without waiting
    /// ([`StagingSink::sync`] on a task of its own).
    pub fn settle_staging(&self, mut sink: Box<dyn StagingSink>) -> Settling {
        Settling(tokio::spawn(async move { sink.sync().await }))
    }

    /// Get a completing session `s` ready for [`Store::seal_upload`] while its last bytes
    /// may still be settling. Where sealing changes nothing
    /// ([`super::blob::BlobStore::seals_in_place`]) the settling bytes are handed back for
    /// the commit to wait on ([`Store::commit_upload`]); elsewhere (and for a session with
    /// nothing to commit) the sync is awaited here and the state it recorded goes into `s`,
    /// since the seal needs it.
    pub async fn prepare_seal(
        &self,
        s: &mut Upload,
        settling: Option<Settling>,
    ) -> StoreResult<Option<Settling>> {
        match settling {
            Some(bytes) if s.target.is_none() || !self.blobs.seals_in_place() => {
                s.staging = bytes.wait().await?;
                Ok(None)
            }
            other => Ok(other),
        }
    }

    /// Allocate the (empty) staged bytes of a new session planned as `plan`; returns their
    /// key and state, which the session row keeps.
    pub async fn new_staging(&self, plan: StagingPlan) -> StoreResult<(BlobKey, StagingState)> {
        Ok(self.blobs.create_staging(plan).await?)
    }

    /// Open the session's staged bytes for appending at `at`, first dropping anything beyond
    /// it (bytes a failed request left behind that were never acknowledged).
    pub async fn append_staging(&self, s: &Upload, at: u64) -> StoreResult<Box<dyn StagingSink>> {
        let parts = self.part_numbers(s);
        Ok(self.blobs.append(&s.blob, &s.staging, at, parts).await?)
    }

    fn part_numbers(&self, s: &Upload) -> Arc<dyn PartNumbers> {
        Arc::new(RowParts {
            db: self.db.clone(),
            id: s.id.to_string(),
        })
    }

    /// Compare-and-set the offset (and a deferred length) of an open upload together with
    /// the staged bytes' new record `staged` (what [`StagingSink::sync`] returned). Returns
    /// whether `s.version` was still current; on success `s` is updated and what the old
    /// record named and the new one does not (a superseded tail) is freed; on failure what
    /// only the new record named is.
    pub async fn advance_staged(
        &self,
        s: &mut Upload,
        offset: u64,
        length: Option<u64>,
        staged: StagingState,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE uploads SET upload_offset = $1, upload_length = $2, staging = $3, \
             version = version + 1 WHERE id = $4 AND version = $5 AND state = 'open'",
        )
        .bind(offset as i64)
        .bind(length.map(|l| l as i64))
        .bind(staged.as_str())
        .bind(s.id.to_string())
        .bind(s.version)
        .execute(&self.db)
        .await?;
        if done.rows_affected() != 1 {
            self.release_staged(&s.blob, &staged, &s.staging).await;
            return Ok(false);
        }
        self.durable().await?;
        let old = std::mem::replace(&mut s.staging, staged);
        self.release_staged(&s.blob, &old, &s.staging).await;
        s.offset = offset;
        s.length = length;
        s.version += 1;
        Ok(true)
    }

    /// Free what `old` names and `current` does not; a failure leaves it for the sweep.
    async fn release_staged(&self, key: &BlobKey, old: &StagingState, current: &StagingState) {
        if old == current {
            return;
        }
        if let Err(e) = self.blobs.release_superseded(key, old, current).await {
            tracing::warn!(error = %e, "superseded staged bytes left for the sweep");
        }
    }

    /// Seal the session's staged bytes into its blob (S3: complete the multipart upload) and
    /// record the sealed state by compare-and-set; nothing to do when sealed already.
    /// `Conflict` when the session moved since `s` was read.
    pub async fn seal_staging(&self, s: &mut Upload) -> StoreResult<()> {
        let parts = self.part_numbers(s);
        let sealed = self.blobs.seal(&s.blob, &s.staging, parts).await?;
        if sealed == s.staging {
            return Ok(());
        }
        let done = sqlx::query(
            "UPDATE uploads SET staging = $1, version = version + 1 \
             WHERE id = $2 AND version = $3 AND state = 'open'",
        )
        .bind(sealed.as_str())
        .bind(s.id.to_string())
        .bind(s.version)
        .execute(&self.db)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        self.durable().await?;
        s.staging = sealed;
        s.version += 1;
        Ok(())
    }

    /// Seal a complete upload's bytes ([`Store::seal_staging`]) and return the whole
    /// content's digests: `hasher`'s, or, when it missed bytes the store could not read back
    /// before the seal ([`Hasher::is_blind`]), the sealed blob's, read once.
    pub async fn seal_upload(&self, s: &mut Upload, hasher: Hasher) -> StoreResult<Digests> {
        self.seal_staging(s).await?;
        if !hasher.is_blind() {
            return Ok(hasher.finish());
        }
        let reader = self.blobs.open(&s.blob, Some(0..s.offset)).await?;
        Ok(hash_reader(reader, s.offset, Hasher::new(s.wants_sha256()))
            .await?
            .finish())
    }

    /// New staged bytes holding the concatenation of the parts' bytes (each sealed first),
    /// assembled by the blob store (a kernel copy on local disk).
    pub async fn concat_staging(&self, parts: &mut [Upload]) -> StoreResult<BlobKey> {
        let mut keys = Vec::with_capacity(parts.len());
        for p in parts.iter_mut() {
            self.seal_staging(p).await?;
            keys.push(p.blob.clone());
        }
        Ok(self.blobs.concat(&keys).await?)
    }

    /// A hasher over the session's first `len` staged bytes (rebuilding it after a restart,
    /// or hashing an assembled concatenation), on the blocking pool; a blind one
    /// ([`Hasher::is_blind`]) when the store cannot read them before the seal.
    pub async fn hash_staging(&self, s: &Upload, len: u64) -> StoreResult<Hasher> {
        let sha256 = s.wants_sha256();
        if len == 0 {
            // Nothing to read (a new upload's first PATCH), and nothing a store could hide.
            return Ok(Hasher::new(sha256));
        }
        match self.blobs.read_staged(&s.blob, &s.staging, len).await? {
            Some(reader) => hash_reader(reader, len, Hasher::new(sha256)).await,
            None => Ok(Hasher::blind(sha256)),
        }
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
            self.blobs.discard_staging(&s.blob, &s.staging).await?;
        }
        Ok(())
    }
}

/// Feed the first `len` bytes of `reader` to `hasher`, batch by batch on the blocking pool.
async fn hash_reader(mut reader: BlobReader, len: u64, mut hasher: Hasher) -> StoreResult<Hasher> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spaces::locks::tests::fixture;
    use crate::spaces::{ConcatRole, NewContent, Precondition, SpacePath, StoreError, UploadId};

    /// A session of `len` bytes for `target` whose bytes are all written and durable.
    async fn written_session(store: &Store, space: uuid::Uuid, target: &str, len: usize) -> Upload {
        let (blob, staging) = store
            .new_staging(StagingPlan {
                length: Some(len as u64),
                max_length: len as u64,
            })
            .await
            .unwrap();
        let mut s = Upload {
            id: UploadId::new(),
            space,
            blob,
            staging,
            expires_at: i64::MAX,
            version: 1,
            done: false,
            created_at: 0,
            created_by: None,
            role: None,
            target: Some(SpacePath::parse(target).unwrap()),
            length: Some(len as u64),
            offset: 0,
            metadata: String::new(),
            content_type: None,
            mtime: None,
            checksum: None,
            reserved: 0,
            if_match: None,
            concat: ConcatRole::None,
            node: None,
            grant: Default::default(),
        };
        store.insert_upload(&s).await.unwrap();
        let mut sink = store.append_staging(&s, 0).await.unwrap();
        sink.write_bytes(bytes::Bytes::from(vec![7u8; len]))
            .await
            .unwrap();
        store.settle_staging(sink).wait().await.unwrap();
        s.offset = len as u64;
        s
    }

    fn content(s: &Upload) -> NewContent {
        NewContent {
            blob: s.blob.clone(),
            size: s.offset,
            checksums: Default::default(),
            mtime: None,
            content_type: None,
            reservation: None,
        }
    }

    /// The commit runs beside the sync of the last bytes but commits only after it: until
    /// the bytes are durable nobody sees the file or the finished session, and a sync that
    /// fails commits nothing.
    #[tokio::test]
    async fn a_completion_commits_only_once_its_bytes_are_durable() {
        let (store, user, _dir) = fixture().await;
        let space = user.id.0;
        let target = SpacePath::parse("/f.bin").unwrap();
        let s = written_session(&store, space, "/f.bin", 1000).await;

        let (release, wait) = tokio::sync::oneshot::channel::<std::io::Result<StagingState>>();
        let settling = Settling(tokio::spawn(async move { wait.await.unwrap() }));
        let commit = tokio::spawn({
            let (store, s, target, content) =
                (store.clone(), s.clone(), target.clone(), content(&s));
            async move {
                store
                    .commit_upload(
                        &s,
                        &target,
                        content,
                        Precondition::None,
                        &[],
                        Some(settling),
                    )
                    .await
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(
            !commit.is_finished(),
            "committed before its bytes were durable"
        );
        assert!(store.resolve(space, &target).await.is_err());
        assert!(!store.upload(s.id).await.unwrap().unwrap().done);
        release.send(Ok(s.staging.clone())).unwrap();
        commit.await.unwrap().unwrap();
        assert_eq!(store.resolve(space, &target).await.unwrap().size, 1000);
        assert!(store.upload(s.id).await.unwrap().unwrap().done);

        // A sync that fails: nothing is committed, the session stays where it was.
        let target = SpacePath::parse("/g.bin").unwrap();
        let s = written_session(&store, space, "/g.bin", 10).await;
        let failed = Settling(tokio::spawn(async {
            Err(std::io::Error::other("device gone"))
        }));
        let refused = store
            .commit_upload(
                &s,
                &target,
                content(&s),
                Precondition::None,
                &[],
                Some(failed),
            )
            .await;
        assert!(matches!(refused, Err(StoreError::Io(_))), "{refused:?}");
        assert!(store.resolve(space, &target).await.is_err());
        let kept = store.upload(s.id).await.unwrap().unwrap();
        assert!(!kept.done && kept.offset == 0);
    }
}
