//! Inline contents (table `inline_contents`, migration 0010): contents up to
//! `storage.inline_max_size` bytes live in the metadata database instead of a blob of their
//! own (DESIGN.md "The storage core owns whole writes"). The row is inserted by the same
//! transaction as the node that points at it, so the bytes and the tree become durable with
//! one WAL sync, which group commit shares among concurrent writers: a small upload costs no
//! file fsync, no directory fsync and no rename.
//!
//! A content key names either a blob or, with the [`PREFIX`], a row here; a content is wholly
//! one or the other. Keys move between nodes and versions (overwrite, COPY, restore, trash)
//! unchanged, so only the places that open or free a content look at the prefix: this module's
//! [`Store::open_content`] and [`Store::free_content`], and the sweep.

use std::ops::Range;

use bytes::Bytes;

use super::Store;
use super::blob::{BlobKey, BlobReader};
use super::db::DbConn;
use super::error::StoreResult;

/// What starts the key of an inline content (blob keys are hex names: no clash).
pub(crate) const PREFIX: &str = "inline:";

/// The default of `storage.inline_max_size`: the size below which a file's own fsync, directory
/// fsync and rename cost more than its bytes in the WAL (README "Durability").
pub const DEFAULT_INLINE_MAX: u64 = 64 << 10;

/// Whether `key` names an inline content.
pub(crate) fn is_inline(key: &str) -> bool {
    key.starts_with(PREFIX)
}

/// A fresh key for an inline content.
pub(super) fn new_key() -> BlobKey {
    BlobKey::new(format!("{PREFIX}{}", uuid::Uuid::new_v4().simple()))
}

/// Store each `(key, data)` as an inline content inside the caller's write transaction, in
/// one statement.
pub(super) async fn insert_all_in(
    conn: &mut DbConn,
    contents: &[(BlobKey, &[u8])],
) -> StoreResult<()> {
    if contents.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..contents.len())
        .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "INSERT INTO inline_contents (key, data) VALUES {}",
        rows.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for (key, data) in contents {
        q = q.bind(key.as_str()).bind(*data);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// `range` of `data`, clamped to its length (as a blob read past its end is).
fn slice(data: Vec<u8>, range: Option<Range<u64>>) -> Bytes {
    let data = Bytes::from(data);
    match range {
        None => data,
        Some(r) => {
            let len = data.len() as u64;
            let (start, end) = (r.start.min(len), r.end.min(len).max(r.start.min(len)));
            data.slice(start as usize..end as usize)
        }
    }
}

impl Store {
    /// The largest content stored inline (0: none).
    pub fn inline_max(&self) -> u64 {
        self.inline_max
    }

    /// This store keeping contents up to `bytes` inline (`storage.inline_max_size`; 0 disables;
    /// at most [`super::BATCH`], the most an ingest holds in memory).
    pub fn with_inline_max(self, bytes: u64) -> Store {
        Store {
            inline_max: bytes.min(super::BATCH as u64),
            ..self
        }
    }

    /// Read `range` of the content `key` (or all of it), inline or in the blob store.
    pub(crate) async fn open_content(
        &self,
        key: &BlobKey,
        range: Option<Range<u64>>,
    ) -> StoreResult<BlobReader> {
        if !is_inline(key.as_str()) {
            return Ok(self.blobs.open(key, range).await?);
        }
        let data: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT data FROM inline_contents WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.db)
                .await?;
        let data = data.ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("inline content {key} is missing"),
            )
        })?;
        Ok(Box::pin(std::io::Cursor::new(slice(data, range))))
    }

    /// Delete the content `key`, which nothing names any more (the caller checked). An inline
    /// row goes in its own statement: if a crash loses that, the sweep deletes it.
    pub(crate) async fn free_content(&self, key: &BlobKey) -> StoreResult<()> {
        if !is_inline(key.as_str()) {
            return Ok(self.blobs.delete(key).await?);
        }
        sqlx::query("DELETE FROM inline_contents WHERE key = $1")
            .bind(key)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Delete inline contents that no node or version names (left when a deletion's cleanup
    /// did not run). Rows are only ever inserted together with the node naming them, so no
    /// grace period is needed. Returns how many were deleted.
    pub(crate) async fn sweep_inline(&self) -> StoreResult<usize> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "DELETE FROM inline_contents WHERE key NOT IN \
             (SELECT blob FROM nodes WHERE blob IS NOT NULL UNION SELECT blob FROM versions)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_clamped_like_blob_reads() {
        let data = b"0123456789".to_vec();
        assert_eq!(&slice(data.clone(), None)[..], b"0123456789");
        assert_eq!(&slice(data.clone(), Some(2..5))[..], b"234");
        assert_eq!(&slice(data.clone(), Some(8..20))[..], b"89");
        assert_eq!(&slice(data, Some(12..20))[..], b"");
    }

    #[test]
    fn only_prefixed_keys_are_inline() {
        assert!(is_inline("inline:0a1b"));
        assert!(!is_inline("0a1b2c3d"));
    }
}
