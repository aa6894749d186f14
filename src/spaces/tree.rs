//! Tree operations on a space: resolve, list, create folders, commit content, move, copy,
//! delete, quota and reservations. Every mutation is one `BEGIN IMMEDIATE` transaction that
//! also propagates etags and subtree sizes to the space root.

use sqlx::SqliteConnection;
use uuid::Uuid;

use super::Store;
use super::checksum::Checksums;
use super::db::{self, NODE_COLS, child, new_etag, node_by_id, node_from_row, now_ns, propagate};
use super::error::{StoreError, StoreResult};
use super::ids::NodeId;
use super::model::{Mtime, Node};
use super::path::SpacePath;
use super::quota::check_quota;

/// New content for [`Store::commit_file`]: a finished blob and what is known about it.
#[derive(Debug, Clone)]
pub struct NewContent {
    /// Key of a finished blob.
    pub blob: String,
    /// Its length.
    pub size: u64,
    /// Its checksums.
    pub checksums: Checksums,
    /// Client-supplied mtime; `None` = now.
    pub mtime: Option<Mtime>,
    /// MIME type; `None` keeps the old one (or none).
    pub content_type: Option<String>,
    /// A quota reservation made for these bytes, released by the same transaction.
    pub reservation: Option<String>,
}

/// What must hold about the target when the commit happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Nothing: create or replace.
    None,
    /// The target must not exist.
    Absent,
    /// The target must exist with this version counter (compare-and-set).
    Version(i64),
    /// The target must exist with this etag (unquoted).
    Etag(String),
}

/// The result of a commit.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The node after the commit.
    pub node: Node,
    /// Whether the node was created (else replaced).
    pub created: bool,
}

/// Components resolved per statement; SQLite allows 64 tables in a join.
const JOIN_DEPTH: usize = 32;

/// Resolve a path with one statement per 32 components: a chain of self-joins from the space
/// root, one per component (a file has no children, so a file in the middle of the path cannot
/// match). Statements, not rows, are what cost here: each is a round trip to SQLite's thread.
async fn resolve_in(
    conn: &mut SqliteConnection,
    space: Uuid,
    path: &SpacePath,
) -> StoreResult<Node> {
    let mut node = None;
    let mut from = NodeId(space);
    for names in path.components().chunks(JOIN_DEPTH) {
        let mut sql = format!("SELECT n{}.* FROM nodes n0", names.len());
        for i in 1..=names.len() {
            sql.push_str(&format!(
                " JOIN nodes n{i} ON n{i}.parent_id = n{p}.id AND n{i}.name = ${i}",
                p = i - 1
            ));
        }
        sql.push_str(&format!(" WHERE n0.id = ${}", names.len() + 1));
        let mut query = sqlx::query(&sql);
        for name in names {
            query = query.bind(name);
        }
        let row = query
            .bind(from.to_string())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let found = node_from_row(&row)?;
        from = found.id;
        node = Some(found);
    }
    match node {
        Some(n) => Ok(n),
        None => node_by_id(conn, NodeId(space)).await,
    }
}

/// The parent folder of `path`, which must exist and be a folder.
async fn parent_folder(
    conn: &mut SqliteConnection,
    space: Uuid,
    path: &SpacePath,
) -> StoreResult<(Node, String)> {
    let (parent, name) = match (path.parent(), path.name()) {
        (Some(p), Some(n)) => (p, n.to_string()),
        _ => return Err(StoreError::RootImmutable),
    };
    match resolve_in(conn, space, &parent).await {
        Ok(p) if p.is_folder() => Ok((p, name)),
        Ok(_) | Err(StoreError::NotFound) => Err(StoreError::ParentMissing),
        Err(e) => Err(e),
    }
}

impl Store {
    /// The node at `path` in space `space` (a space uuid).
    pub async fn resolve(&self, space: Uuid, path: &SpacePath) -> StoreResult<Node> {
        let mut conn = self.db.acquire().await?;
        resolve_in(&mut conn, space, path).await
    }

    /// The node with this id.
    pub async fn node(&self, id: NodeId) -> StoreResult<Node> {
        let mut conn = self.db.acquire().await?;
        node_by_id(&mut conn, id).await
    }

    /// The children of a folder, ordered by name, in one query.
    pub async fn children(&self, folder: NodeId) -> StoreResult<Vec<Node>> {
        let rows = sqlx::query(&format!(
            "SELECT {NODE_COLS} FROM nodes WHERE parent_id = $1 ORDER BY name"
        ))
        .bind(folder.to_string())
        .fetch_all(&self.db)
        .await?;
        rows.iter().map(node_from_row).collect()
    }

    /// Up to `limit` children of a folder whose names sort after `after`, ordered by name:
    /// one page of [`Store::children`] (keyset paging on the `(parent_id, name)` index), so
    /// a large listing can be streamed without holding every row or a read snapshot.
    pub async fn children_page(
        &self,
        folder: NodeId,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Node>> {
        let rows = match after {
            None => {
                sqlx::query(&format!(
                    "SELECT {NODE_COLS} FROM nodes WHERE parent_id = $1 ORDER BY name LIMIT $2"
                ))
                .bind(folder.to_string())
                .bind(limit)
                .fetch_all(&self.db)
                .await?
            }
            Some(name) => {
                sqlx::query(&format!(
                    "SELECT {NODE_COLS} FROM nodes WHERE parent_id = $1 AND name > $2 \
                     ORDER BY name LIMIT $3"
                ))
                .bind(folder.to_string())
                .bind(name)
                .bind(limit)
                .fetch_all(&self.db)
                .await?
            }
        };
        rows.iter().map(node_from_row).collect()
    }

    /// The path of a node from its space root.
    pub async fn path_of(&self, node: &Node) -> StoreResult<SpacePath> {
        let mut conn = self.db.acquire().await?;
        let mut names = Vec::new();
        let mut cur = node.clone();
        while let Some(parent) = cur.parent {
            names.push(cur.name.clone());
            cur = node_by_id(&mut conn, parent).await?;
        }
        names.reverse();
        Ok(SpacePath::parse(&names.join("/"))?)
    }

    /// Create a folder; its parent must exist.
    pub async fn create_folder(&self, space: Uuid, path: &SpacePath) -> StoreResult<Node> {
        let mut tx = self.db.begin_with("BEGIN IMMEDIATE").await?;
        let (parent, name) = parent_folder(&mut tx, space, path).await?;
        if child(&mut tx, parent.id, &name).await?.is_some() {
            return Err(StoreError::AlreadyExists);
        }
        let id = NodeId::new();
        db::insert_folder(&mut tx, id, space, Some(parent.id), &name, now_ns()).await?;
        propagate(&mut tx, parent.id, 0).await?;
        let node = node_by_id(&mut tx, id).await?;
        tx.commit().await?;
        self.durable().await?;
        Ok(node)
    }

    /// Point the file at `path` to new content in one transaction: check `pre` and the quota,
    /// keep the old blob as a version, record checksums, size and mtime, propagate etags and
    /// sizes, release the reservation. A replaced file keeps its id.
    pub async fn commit_file(
        &self,
        space: Uuid,
        path: &SpacePath,
        content: NewContent,
        pre: Precondition,
    ) -> StoreResult<Committed> {
        let mut tx = self.db.begin_with("BEGIN IMMEDIATE").await?;
        let (parent, name) = parent_folder(&mut tx, space, path).await?;
        let existing = child(&mut tx, parent.id, &name).await?;
        match (&pre, &existing) {
            (_, Some(n)) if n.is_folder() => return Err(StoreError::IsFolder),
            (Precondition::Absent, Some(_)) => return Err(StoreError::PreconditionFailed),
            (Precondition::Version(_), None) => return Err(StoreError::Conflict),
            (Precondition::Version(v), Some(n)) if n.version != *v => {
                return Err(StoreError::Conflict);
            }
            (Precondition::Etag(_), None) => return Err(StoreError::PreconditionFailed),
            (Precondition::Etag(e), Some(n)) if n.etag != *e => {
                return Err(StoreError::PreconditionFailed);
            }
            _ => {}
        }
        let old_size = existing.as_ref().map_or(0, |n| n.size as i64);
        let delta = content.size as i64 - old_size;
        check_quota(&mut tx, space, delta, content.reservation.as_deref()).await?;
        let mtime = content.mtime.unwrap_or_else(Mtime::now).0;
        let sums = &content.checksums;
        let (node, created) = match &existing {
            Some(old) => {
                if let Some(blob) = &old.blob {
                    sqlx::query(
                        "INSERT INTO versions (id, node_id, blob, size, mtime, etag, sha1, md5, \
                         adler32, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
                    )
                    .bind(Uuid::new_v4().to_string())
                    .bind(old.id.to_string())
                    .bind(blob)
                    .bind(old.size as i64)
                    .bind(old.mtime.0)
                    .bind(&old.etag)
                    .bind(&old.checksums.sha1)
                    .bind(&old.checksums.md5)
                    .bind(&old.checksums.adler32)
                    .bind(now_ns())
                    .execute(&mut *tx)
                    .await?;
                }
                let done = sqlx::query(
                    "UPDATE nodes SET blob = $1, size = $2, sha1 = $3, md5 = $4, adler32 = $5, \
                     mtime = $6, etag = $7, content_type = COALESCE($8, content_type), \
                     version = version + 1 WHERE id = $9 AND version = $10 \
                     RETURNING *",
                )
                .bind(&content.blob)
                .bind(content.size as i64)
                .bind(&sums.sha1)
                .bind(&sums.md5)
                .bind(&sums.adler32)
                .bind(mtime)
                .bind(new_etag())
                .bind(&content.content_type)
                .bind(old.id.to_string())
                .bind(old.version)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::Conflict)?;
                (node_from_row(&done)?, false)
            }
            None => {
                let id = NodeId::new();
                let row = sqlx::query(
                    "INSERT INTO nodes (id, space_id, parent_id, name, kind, size, mtime, etag, \
                     content_type, sha1, md5, adler32, blob, version) \
                     VALUES ($1,$2,$3,$4,'file',$5,$6,$7,$8,$9,$10,$11,$12,1) RETURNING *",
                )
                .bind(id.to_string())
                .bind(space.to_string())
                .bind(parent.id.to_string())
                .bind(&name)
                .bind(content.size as i64)
                .bind(mtime)
                .bind(new_etag())
                .bind(&content.content_type)
                .bind(&sums.sha1)
                .bind(&sums.md5)
                .bind(&sums.adler32)
                .bind(&content.blob)
                .fetch_one(&mut *tx)
                .await?;
                (node_from_row(&row)?, true)
            }
        };
        propagate(&mut tx, parent.id, delta).await?;
        if let Some(r) = &content.reservation {
            sqlx::query("DELETE FROM reservations WHERE id = $1")
                .bind(r)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.durable().await?;
        Ok(Committed { node, created })
    }

    /// Set a node's mtime (a new etag follows, and the ancestors' etags change).
    pub async fn set_mtime(&self, id: NodeId, mtime: Mtime) -> StoreResult<Node> {
        let mut tx = self.db.begin_with("BEGIN IMMEDIATE").await?;
        let node = node_by_id(&mut tx, id).await?;
        sqlx::query("UPDATE nodes SET mtime = $1, etag = $2, version = version + 1 WHERE id = $3")
            .bind(mtime.0)
            .bind(new_etag())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if let Some(parent) = node.parent {
            propagate(&mut tx, parent, 0).await?;
        }
        let node = node_by_id(&mut tx, id).await?;
        tx.commit().await?;
        self.durable().await?;
        Ok(node)
    }

    /// Remove the target of a move or copy when overwriting is allowed.
    async fn clear_destination(
        tx: &mut SqliteConnection,
        parent: &Node,
        name: &str,
        overwrite: bool,
    ) -> StoreResult<Option<Vec<String>>> {
        match child(tx, parent.id, name).await? {
            None => Ok(None),
            Some(_) if !overwrite => Err(StoreError::AlreadyExists),
            Some(old) => {
                let freed = remove_subtree(tx, old.id).await?;
                propagate(tx, parent.id, -(old.size as i64)).await?;
                Ok(Some(freed))
            }
        }
    }

    /// Move or rename within one space; the node keeps its id. Returns the moved node and
    /// whether an existing destination was replaced.
    pub async fn rename(
        &self,
        space: Uuid,
        from: &SpacePath,
        to: &SpacePath,
        overwrite: bool,
    ) -> StoreResult<(Node, bool)> {
        if from.is_root() || to.is_root() {
            return Err(StoreError::RootImmutable);
        }
        if to.starts_with(from) {
            return Err(StoreError::IntoItself);
        }
        let mut tx = self.db.begin_with("BEGIN IMMEDIATE").await?;
        let src = resolve_in(&mut tx, space, from).await?;
        let (dst_parent, name) = parent_folder(&mut tx, space, to).await?;
        let replaced = Self::clear_destination(&mut tx, &dst_parent, &name, overwrite).await?;
        sqlx::query(
            "UPDATE nodes SET parent_id = $1, name = $2, version = version + 1 WHERE id = $3",
        )
        .bind(dst_parent.id.to_string())
        .bind(&name)
        .bind(src.id.to_string())
        .execute(&mut *tx)
        .await?;
        let old_parent = src.parent.expect("non-root has a parent");
        propagate(&mut tx, old_parent, -(src.size as i64)).await?;
        propagate(&mut tx, dst_parent.id, src.size as i64).await?;
        let node = node_by_id(&mut tx, src.id).await?;
        tx.commit().await?;
        self.durable().await?;
        Ok((node, self.freed_destination(replaced).await))
    }

    /// Copy a file or a whole folder within one space; the copies get new ids and share the
    /// (write-once) blobs of the originals. `recursive = false` copies a folder without its
    /// children (WebDAV `Depth: 0`).
    pub async fn copy(
        &self,
        space: Uuid,
        from: &SpacePath,
        to: &SpacePath,
        overwrite: bool,
        recursive: bool,
    ) -> StoreResult<(Node, bool)> {
        if to.is_root() {
            return Err(StoreError::RootImmutable);
        }
        if to.starts_with(from) {
            return Err(StoreError::IntoItself);
        }
        let mut tx = self.db.begin_with("BEGIN IMMEDIATE").await?;
        let src = resolve_in(&mut tx, space, from).await?;
        let (dst_parent, name) = parent_folder(&mut tx, space, to).await?;
        let whole = recursive || !src.is_folder();
        let nodes = if whole {
            // Depth order puts every parent before its children.
            let rows = sqlx::query(
                "WITH RECURSIVE sub(id, depth) AS (SELECT CAST($1 AS TEXT), 0 \
                 UNION ALL SELECT n.id, s.depth + 1 FROM nodes n JOIN sub s ON n.parent_id = s.id) \
                 SELECT nodes.* FROM nodes JOIN sub ON nodes.id = sub.id ORDER BY sub.depth",
            )
            .bind(src.id.to_string())
            .fetch_all(&mut *tx)
            .await?;
            rows.iter()
                .map(node_from_row)
                .collect::<StoreResult<Vec<_>>>()?
        } else {
            vec![Node {
                size: 0,
                ..src.clone()
            }]
        };
        let growth = if whole { src.size as i64 } else { 0 };
        let replaced = Self::clear_destination(&mut tx, &dst_parent, &name, overwrite).await?;
        check_quota(&mut tx, space, growth, None).await?;
        let mut new_ids = std::collections::HashMap::new();
        for n in &nodes {
            let id = NodeId::new();
            let (parent, nm) = match n.parent.and_then(|p| new_ids.get(&p)) {
                Some(p) if n.id != src.id => (*p, n.name.as_str()),
                _ => (dst_parent.id, name.as_str()),
            };
            new_ids.insert(n.id, id);
            // A complete copy has the same subtree sizes as its original.
            sqlx::query(
                "INSERT INTO nodes (id, space_id, parent_id, name, kind, size, mtime, etag, \
                 content_type, sha1, md5, adler32, blob, version) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,1)",
            )
            .bind(id.to_string())
            .bind(space.to_string())
            .bind(parent.to_string())
            .bind(nm)
            .bind(if n.is_folder() { "folder" } else { "file" })
            .bind(n.size as i64)
            .bind(n.mtime.0)
            .bind(new_etag())
            .bind(&n.content_type)
            .bind(&n.checksums.sha1)
            .bind(&n.checksums.md5)
            .bind(&n.checksums.adler32)
            .bind(&n.blob)
            .execute(&mut *tx)
            .await?;
        }
        let new_root = new_ids[&src.id];
        propagate(&mut tx, dst_parent.id, growth).await?;
        let node = node_by_id(&mut tx, new_root).await?;
        tx.commit().await?;
        self.durable().await?;
        Ok((node, self.freed_destination(replaced).await))
    }

    /// Delete a file or a folder with everything below it.
    pub async fn delete(&self, space: Uuid, path: &SpacePath) -> StoreResult<Node> {
        if path.is_root() {
            return Err(StoreError::RootImmutable);
        }
        let mut tx = self.db.begin_with("BEGIN IMMEDIATE").await?;
        let node = resolve_in(&mut tx, space, path).await?;
        let freed = remove_subtree(&mut tx, node.id).await?;
        propagate(&mut tx, node.parent.expect("non-root"), -(node.size as i64)).await?;
        tx.commit().await?;
        self.durable().await?;
        self.free_blobs(freed).await;
        Ok(node)
    }

    /// After a committed move or copy: free what a replaced destination held; report whether
    /// there was one.
    async fn freed_destination(&self, replaced: Option<Vec<String>>) -> bool {
        match replaced {
            Some(freed) => {
                self.free_blobs(freed).await;
                true
            }
            None => false,
        }
    }

    /// Delete blobs a committed removal left unreferenced, so deleting frees the disk at once
    /// rather than at the next sweep. Blobs are write-once and a copy shares its original's
    /// blob, so a key is only deleted when no node, version or upload still names it; a
    /// failure here only leaves work for the sweep.
    async fn free_blobs(&self, keys: Vec<String>) {
        for key in keys {
            let used: Result<Option<i64>, _> = sqlx::query_scalar(
                "SELECT 1 FROM nodes WHERE blob = $1 UNION ALL SELECT 1 FROM versions \
                 WHERE blob = $1 UNION ALL SELECT 1 FROM uploads WHERE blob = $1 LIMIT 1",
            )
            .bind(&key)
            .fetch_optional(&self.db)
            .await;
            if let Ok(None) = used {
                if let Err(e) = self.blobs.delete(&key).await {
                    tracing::warn!(blob = %key, error = %e, "could not free blob");
                }
            }
        }
    }
}

/// Delete a node with its subtree (rows cascade) and return the blob keys it and its
/// versions referenced, for [`Store::free_blobs`] after the commit.
async fn remove_subtree(conn: &mut SqliteConnection, id: NodeId) -> StoreResult<Vec<String>> {
    let freed: Vec<String> = sqlx::query_scalar(
        "WITH RECURSIVE sub(id) AS (SELECT CAST($1 AS TEXT) \
         UNION ALL SELECT n.id FROM nodes n JOIN sub s ON n.parent_id = s.id) \
         SELECT blob FROM nodes WHERE id IN (SELECT id FROM sub) AND blob IS NOT NULL \
         UNION SELECT blob FROM versions WHERE node_id IN (SELECT id FROM sub)",
    )
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM nodes WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(freed)
}
