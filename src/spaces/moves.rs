//! Moving, copying and deleting subtrees, and freeing the blobs a removal leaves unreferenced.
//! A copy is one core call with everything that belongs to it (dead properties, the mtime a
//! client asked for): one transaction, one durable wait.

use uuid::Uuid;

use super::Store;
use super::blob::BlobKey;
use super::db::{DbConn, child, new_etag, node_by_id, node_from_row, propagate};
use super::error::{StoreError, StoreResult};
use super::ids::NodeId;
use super::model::{Mtime, Node};
use super::path::SpacePath;
use super::quota::check_quota;
use super::tree::{parent_folder, resolve_in};

/// Whether a copy replaces an existing destination (WebDAV `Overwrite`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// An existing destination goes to the trash and the copy takes its place.
    Replace,
    /// An existing destination refuses the copy (`AlreadyExists`).
    Refuse,
}

/// How much of a folder a copy takes (WebDAV `Depth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyDepth {
    /// The node with everything below it.
    Whole,
    /// The node alone: an empty folder for a folder.
    NodeOnly,
}

/// What a [`Store::copy`] does besides copying nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySpec {
    /// `Overwrite`.
    pub overwrite: Overwrite,
    /// `Depth`.
    pub depth: CopyDepth,
    /// Whether the copied nodes keep their dead properties (PROPPATCH).
    pub dead_props: bool,
    /// The mtime the copy's root gets (`X-OC-Mtime`); `None` keeps the original's.
    pub mtime: Option<Mtime>,
}

impl Store {
    /// Remove the target of a move or copy when overwriting is allowed.
    async fn clear_destination(
        tx: &mut DbConn,
        parent: &Node,
        name: &str,
        overwrite: bool,
    ) -> StoreResult<Option<Vec<BlobKey>>> {
        match child(tx, parent.id, name).await? {
            None => Ok(None),
            Some(_) if !overwrite => Err(StoreError::AlreadyExists),
            // The replaced node goes to the trash (issue 11): nothing a MOVE or COPY
            // overwrites is lost.
            Some(old) => {
                super::trash::trash_in(tx, &old, None).await?;
                Ok(Some(Vec::new()))
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
        let mut tx = self.begin_write_in(&[space]).await?;
        let src = resolve_in(&mut tx, space, from).await?;
        let (dst_parent, name) = parent_folder(&mut tx, space, to).await?;
        let replaced =
            match super::versions::keep_replaced_file(&mut tx, &src, &dst_parent, &name, overwrite)
                .await?
            {
                Some(freed) => Some(freed),
                None => Self::clear_destination(&mut tx, &dst_parent, &name, overwrite).await?,
            };
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
        spec: &CopySpec,
    ) -> StoreResult<(Node, bool)> {
        let overwrite = spec.overwrite == Overwrite::Replace;
        let recursive = spec.depth == CopyDepth::Whole;
        if to.is_root() {
            return Err(StoreError::RootImmutable);
        }
        if to.starts_with(from) {
            return Err(StoreError::IntoItself);
        }
        let mut tx = self.begin_write_in(&[space]).await?;
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
        if spec.dead_props {
            if whole {
                super::props::copy_props_tree_in(&mut tx, src.id, new_root).await?;
            } else {
                super::props::copy_props_in(&mut tx, src.id, new_root).await?;
            }
        }
        if let Some(m) = spec.mtime {
            sqlx::query("UPDATE nodes SET mtime = $1 WHERE id = $2")
                .bind(m.0)
                .bind(new_root.to_string())
                .execute(&mut *tx)
                .await?;
        }
        propagate(&mut tx, dst_parent.id, growth).await?;
        let node = node_by_id(&mut tx, new_root).await?;
        tx.commit().await?;
        self.durable().await?;
        Ok((node, self.freed_destination(replaced).await))
    }

    /// Delete a file or a folder with everything below it: it moves to the space's trash
    /// (issue 11) in one transaction; [`Store::purge`] removes it for good. Works on a full
    /// disk (with the room the database keeps for it).
    pub async fn delete(&self, space: Uuid, path: &SpacePath) -> StoreResult<Node> {
        if path.is_root() {
            return Err(StoreError::RootImmutable);
        }
        let node = self.freeing(|| self.trash(space, path, None)).await?;
        self.restore_reserve().await;
        Ok(node)
    }

    /// DELETE of a tree that live locks may touch, as one core call: in one transaction,
    /// refuse (`Locked`) unless `user` holds by the submitted `tokens` every lock on `path`,
    /// the deep ones above it and every one below it (the rules dav-server applies member by
    /// member); refuse (`PreconditionFailed`) when `named`, the token an `If` header names, is
    /// no lock of `path`; then move the tree to the trash and remove its locks. Refused, it
    /// changes nothing.
    pub async fn delete_holding(
        &self,
        space: Uuid,
        path: &SpacePath,
        user: &str,
        tokens: &[String],
        named: Option<&str>,
    ) -> StoreResult<Node> {
        if path.is_root() {
            return Err(StoreError::RootImmutable);
        }
        let node = self
            .freeing(|| async {
                // Only this space's tree, trash and locks change: its writers alone wait.
                let mut tx = self.begin_write_in(&[space]).await?;
                let now = self.clock.now_ns();
                let along = super::locks::along_in(&mut tx, space, path, now).await?;
                if let Some(t) = named
                    && !super::lock_rules::applying(&along, path)
                        .iter()
                        .any(|l| l.token == t)
                {
                    return Err(StoreError::PreconditionFailed);
                }
                let below = super::locks::below_in(&mut tx, space, path, now).await?;
                let who = Some(user);
                if super::lock_rules::conflict_to_path(&along, path, who, false, tokens, false)
                    .or_else(|| {
                        super::lock_rules::conflict_below(&below, who, false, tokens, false)
                    })
                    .is_some()
                {
                    return Err(StoreError::Locked);
                }
                let node = super::tree::resolve_in(&mut tx, space, path).await?;
                super::trash::trash_in(&mut tx, &node, None).await?;
                super::locks::remove_below_in(&mut tx, space, path).await?;
                tx.commit().await?;
                self.durable().await?;
                Ok(node)
            })
            .await?;
        self.restore_reserve().await;
        Ok(node)
    }

    /// After a committed move or copy: free what a replaced destination held; report whether
    /// there was one.
    async fn freed_destination(&self, replaced: Option<Vec<BlobKey>>) -> bool {
        match replaced {
            Some(freed) => {
                self.free_blobs(freed).await;
                true
            }
            None => false,
        }
    }

    /// Whether a node, a version or an open upload session (other than `except_upload`) names
    /// the blob `key`; while one does, the blob must not be deleted. Blobs are write-once and a
    /// copy shares its original's blob, so this is the only safe test before freeing one. A
    /// finished session's blob belongs to its file (or to nothing once the file is deleted).
    pub async fn blob_in_use(
        &self,
        key: &BlobKey,
        except_upload: Option<super::ids::UploadId>,
    ) -> StoreResult<bool> {
        // Only whether a row exists matters; nothing is decoded, so the width of the literal
        // (INTEGER on PostgreSQL) does not either.
        let used = sqlx::query(
            "SELECT 1 FROM nodes WHERE blob = $1 UNION ALL SELECT 1 FROM versions \
             WHERE blob = $1 UNION ALL SELECT 1 FROM uploads WHERE blob = $1 AND id <> $2 \
             AND state <> 'done' LIMIT 1",
        )
        .bind(key)
        .bind(except_upload.map(|u| u.to_string()).unwrap_or_default())
        .fetch_optional(&self.db)
        .await?;
        Ok(used.is_some())
    }

    /// Delete blobs a committed removal left unreferenced, so deleting frees the disk at once
    /// rather than at the next sweep. A failure here only leaves work for the sweep.
    pub(super) async fn free_blobs(&self, keys: Vec<BlobKey>) {
        for key in keys {
            if let Ok(false) = self.blob_in_use(&key, None).await {
                if let Err(e) = self.free_content(&key).await {
                    tracing::warn!(blob = %key, error = %e, "could not free blob");
                }
            }
        }
    }
}
