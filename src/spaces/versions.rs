//! File versions (issue 11): the earlier contents every overwrite keeps in `versions`
//! (`commit_file` for PUT and tus, a MOVE onto a file, a version restore), looking one up by
//! its key, restoring one, and the retention sweep (`versions.max_count`, `versions.max_age`).
//! A version is metadata naming a write-once blob; the blob is freed once nothing names it.

use sqlx::Row;
use uuid::Uuid;

use super::Store;
use super::db::{self, DbConn, child, new_etag, node_by_id, now_ns, propagate};
use super::error::{StoreError, StoreResult};
use super::ids::NodeId;
use super::lock_rules::LockHolder;
use super::locks::refuse_locked_in;
use super::model::{Mtime, Node, Version};
use super::quota::check_quota;

/// Record the current content of file `old` as a version of `owner`.
async fn keep(conn: &mut DbConn, owner: NodeId, old: &Node) -> StoreResult<()> {
    let Some(blob) = &old.blob else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO versions (id, node_id, blob, size, mtime, etag, sha1, md5, adler32, \
         created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(owner.to_string())
    .bind(blob)
    .bind(old.size as i64)
    .bind(old.mtime.0)
    .bind(&old.etag)
    .bind(&old.checksums.sha1)
    .bind(&old.checksums.md5)
    .bind(&old.checksums.adler32)
    .bind(now_ns())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A MOVE of file `src` onto the existing file `parent/name` (with `overwrite`): the replaced
/// content becomes a version of the moved file (it now holds that path), and the replaced
/// node goes (its blob stays named by the version). `None` when this is not such a move.
pub(super) async fn keep_replaced_file(
    conn: &mut DbConn,
    src: &Node,
    parent: &Node,
    name: &str,
    overwrite: bool,
) -> StoreResult<Option<Vec<super::blob::BlobKey>>> {
    if !overwrite || src.is_folder() {
        return Ok(None);
    }
    let Some(old) = child(conn, parent.id, name).await? else {
        return Ok(None);
    };
    if old.is_folder() || old.id == src.id {
        return Ok(None);
    }
    keep(conn, src.id, &old).await?;
    let freed = db::remove_subtree(conn, old.id).await?;
    propagate(conn, parent.id, -(old.size as i64)).await?;
    Ok(Some(freed))
}

fn version_from_row(row: &db::DbRow) -> StoreResult<Version> {
    Ok(Version {
        id: db::uuid(row.try_get("id")?)?,
        blob: row.try_get("blob")?,
        size: row.try_get::<i64, _>("size")?.max(0) as u64,
        mtime: Mtime(row.try_get("mtime")?),
        etag: row.try_get("etag")?,
        checksums: db::checksums_from_row(row)?,
        created_at: row.try_get("created_at")?,
    })
}

const VERSION_COLS: &str = "id, node_id, blob, size, mtime, etag, sha1, md5, adler32, created_at";

impl Store {
    /// The version with key `id` and the file it belongs to.
    pub async fn version(&self, id: Uuid) -> StoreResult<(Node, Version)> {
        let mut conn = self.db.acquire().await?;
        let row = sqlx::query(&format!(
            "SELECT {VERSION_COLS} FROM versions WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        let node = NodeId(db::uuid(row.try_get("node_id")?)?);
        let node = node_by_id(&mut conn, node).await?;
        Ok((node, version_from_row(&row)?))
    }

    /// Make version `id` the content of its file again: the current content becomes a
    /// version, the file keeps its id and gets a new etag, which propagates up. `expect`
    /// guards against a concurrent change (the file's `version` counter when it was checked);
    /// a WebDAV lock on the file (or a deep one above it) needs its token in `holder`
    /// (`Locked`), checked in the same transaction as the write.
    pub async fn restore_version(
        &self,
        id: Uuid,
        expect: Option<i64>,
        holder: &LockHolder,
    ) -> StoreResult<Node> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT {VERSION_COLS} FROM versions WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let v = version_from_row(&row)?;
        let node = node_by_id(&mut tx, NodeId(db::uuid(row.try_get("node_id")?)?)).await?;
        if node.is_folder() {
            return Err(StoreError::IsFolder);
        }
        if expect.is_some_and(|e| e != node.version) {
            return Err(StoreError::Conflict);
        }
        let parent = node.parent.ok_or(StoreError::NotFound)?;
        let path = super::trash::path_in(&mut tx, &node).await?;
        refuse_locked_in(
            &mut tx,
            node.space,
            &path,
            holder,
            None,
            self.clock.now_ns(),
        )
        .await?;
        let delta = v.size as i64 - node.size as i64;
        check_quota(&mut tx, node.space, delta, None).await?;
        keep(&mut tx, node.id, &node).await?;
        sqlx::query("DELETE FROM versions WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE nodes SET blob = $1, size = $2, sha1 = $3, md5 = $4, adler32 = $5, \
             mtime = $6, etag = $7, version = version + 1 WHERE id = $8",
        )
        .bind(&v.blob)
        .bind(v.size as i64)
        .bind(&v.checksums.sha1)
        .bind(&v.checksums.md5)
        .bind(&v.checksums.adler32)
        .bind(v.mtime.0)
        .bind(new_etag())
        .bind(node.id.to_string())
        .execute(&mut *tx)
        .await?;
        propagate(&mut tx, parent, delta).await?;
        let node = node_by_id(&mut tx, node.id).await?;
        tx.commit().await?;
        self.durable().await?;
        Ok(node)
    }

    /// The retention sweep: drop versions created before `max_age_cutoff` (unix ns), and all
    /// but the newest `max_count` of each file; then free the blobs nothing names any more.
    /// Returns how many versions were dropped.
    pub async fn expire_versions(&self, max_count: u64, max_age_cutoff: i64) -> StoreResult<usize> {
        let mut tx = self.begin_write().await?;
        // Newest first per file; everything past `max_count` (or too old) goes.
        let rows = sqlx::query(
            "SELECT id, node_id, blob, created_at FROM versions ORDER BY node_id, created_at DESC",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut doomed = Vec::new();
        let (mut current, mut seen) = (String::new(), 0u64);
        for row in &rows {
            let node: String = row.try_get("node_id")?;
            if node != current {
                current = node;
                seen = 0;
            }
            seen += 1;
            let created: i64 = row.try_get("created_at")?;
            if seen > max_count || created < max_age_cutoff {
                doomed.push((
                    row.try_get::<String, _>("id")?,
                    row.try_get::<super::blob::BlobKey, _>("blob")?,
                ));
            }
        }
        for (id, _) in &doomed {
            sqlx::query("DELETE FROM versions WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.durable().await?;
        let n = doomed.len();
        self.free_blobs(doomed.into_iter().map(|(_, b)| b).collect())
            .await;
        Ok(n)
    }
}
