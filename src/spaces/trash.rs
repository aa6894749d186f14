//! The trash bin of each space (issue 11). Deleting detaches the top node of the deleted
//! subtree from its parent and records where it was in `trash`: one row update and one insert,
//! whatever the subtree's size, and every node keeps its id, versions, dead properties and
//! favorites. Restoring re-attaches it; purging removes the rows, after which the blobs nothing
//! references any more are freed.
//!
//! Quota: as in oCIS decomposedfs, the bytes of a deleted node leave the space's usage when it
//! is trashed (its size is propagated away like a delete) and come back when it is restored.

use sqlx::Row;
use uuid::Uuid;

use super::Store;
use super::db::{
    self, DbConn, child, node_by_id, node_from_row, now_ns, propagate, remove_subtree,
};
use super::error::{StoreError, StoreResult};
use super::ids::{NodeId, UserId};
use super::lock_rules::{LockHolder, conflict_below};
use super::locks::{below_in, refuse_locked_in};
use super::model::Node;
use super::path::SpacePath;
use super::quota::check_quota;
use super::tree::parent_folder;

/// One deleted node in a space's trash (the top of a deleted subtree, or a node below one).
#[derive(Debug, Clone)]
pub struct TrashItem {
    /// The node, with its id and (for a folder) its subtree size.
    pub node: Node,
    /// Where it was in the space when it was deleted.
    pub location: SpacePath,
    /// When its subtree was deleted, unix ns.
    pub deleted_at: i64,
    /// The trash key of the top of its deleted subtree.
    pub key: NodeId,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The node, back in the tree.
    pub node: Node,
    /// Whether an existing node at the destination was moved to the trash to make room.
    pub replaced: bool,
}

/// Where and for whom [`Store::restore`] puts a trashed node back.
#[derive(Debug, Clone, Copy)]
pub struct RestoreTo<'a> {
    /// The destination path in the item's space.
    pub dest: &'a SpacePath,
    /// Whether an existing node there may be replaced (moved to the trash).
    pub overwrite: bool,
    /// Who restores (recorded if something replaced goes to the trash).
    pub by: Option<UserId>,
    /// The lock tokens the request submits.
    pub holder: &'a LockHolder,
}

/// Detach `node` (not a root) from the tree into its space's trash and take its bytes off the
/// space's usage; the caller's transaction commits it.
pub(super) async fn trash_in(
    conn: &mut DbConn,
    node: &Node,
    by: Option<UserId>,
) -> StoreResult<()> {
    let parent = node.parent.ok_or(StoreError::RootImmutable)?;
    let location = path_in(conn, node).await?;
    sqlx::query("UPDATE nodes SET parent_id = NULL, version = version + 1 WHERE id = $1")
        .bind(node.id.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO trash (node_id, space_id, location, deleted_at, deleted_by) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(node.id.to_string())
    .bind(node.space.to_string())
    .bind(location.to_string().trim_start_matches('/'))
    .bind(now_ns())
    .bind(by.map(|u| u.to_string()))
    .execute(&mut *conn)
    .await?;
    propagate(conn, parent, -(node.size as i64)).await
}

/// The path of a live node from its space root; `NotFound` for a node in the trash (its chain
/// of parents ends at a detached node, not at the space root).
pub(super) async fn path_in(conn: &mut DbConn, node: &Node) -> StoreResult<SpacePath> {
    let mut names = Vec::new();
    let mut cur = node.clone();
    while let Some(parent) = cur.parent {
        names.push(cur.name.clone());
        cur = node_by_id(conn, parent).await?;
    }
    if cur.id.0 != cur.space {
        return Err(StoreError::NotFound);
    }
    names.reverse();
    Ok(SpacePath::parse(&names.join("/"))?)
}

/// The trash row of `key` in `space`: (location, deleted_at).
async fn entry(conn: &mut DbConn, space: Uuid, key: NodeId) -> StoreResult<(SpacePath, i64)> {
    let row =
        sqlx::query("SELECT location, deleted_at FROM trash WHERE node_id = $1 AND space_id = $2")
            .bind(key.to_string())
            .bind(space.to_string())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
    let location: String = row.try_get("location")?;
    Ok((SpacePath::parse(&location)?, row.try_get("deleted_at")?))
}

/// The trashed node at `rel` below the trash item `key` of `space`.
async fn item_in(
    conn: &mut DbConn,
    space: Uuid,
    key: NodeId,
    rel: &SpacePath,
) -> StoreResult<TrashItem> {
    let (location, deleted_at) = entry(conn, space, key).await?;
    let mut node = node_by_id(conn, key).await?;
    for name in rel.components() {
        node = child(conn, node.id, name)
            .await?
            .ok_or(StoreError::NotFound)?;
    }
    Ok(TrashItem {
        location: location.join(rel),
        node,
        deleted_at,
        key,
    })
}

impl Store {
    /// The deleted subtrees of a space, newest first.
    pub async fn trash_items(&self, space: Uuid) -> StoreResult<Vec<TrashItem>> {
        let rows = sqlx::query(&format!(
            "SELECT {cols}, t.location, t.deleted_at FROM trash t JOIN nodes n ON n.id = t.node_id \
             WHERE t.space_id = $1 ORDER BY t.deleted_at DESC, t.node_id",
            cols = db::NODE_COLS
                .split(", ")
                .map(|c| format!("n.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(space.to_string())
        .fetch_all(&self.db)
        .await?;
        rows.iter()
            .map(|row| {
                let node = node_from_row(row)?;
                let location: String = row.try_get("location")?;
                Ok(TrashItem {
                    key: node.id,
                    location: SpacePath::parse(&location)?,
                    deleted_at: row.try_get("deleted_at")?,
                    node,
                })
            })
            .collect()
    }

    /// The trashed node at `rel` below the trash item `key` of `space` (`rel` root: the item).
    pub async fn trash_item(
        &self,
        space: Uuid,
        key: NodeId,
        rel: &SpacePath,
    ) -> StoreResult<TrashItem> {
        let mut conn = self.db.acquire().await?;
        item_in(&mut conn, space, key, rel).await
    }

    /// Move the node at `path` (not the root) to its space's trash: one transaction, whatever
    /// the size of its subtree.
    pub async fn trash(
        &self,
        space: Uuid,
        path: &SpacePath,
        by: Option<UserId>,
    ) -> StoreResult<Node> {
        if path.is_root() {
            return Err(StoreError::RootImmutable);
        }
        let mut tx = self.begin_write_in(&[space]).await?;
        let node = super::tree::resolve_in(&mut tx, space, path).await?;
        trash_in(&mut tx, &node, by).await?;
        tx.commit().await?;
        self.durable().await?;
        Ok(node)
    }

    /// Put the trashed node at `rel` below item `key` back at `to.dest` in the same space. The
    /// destination's parent must exist (`ParentMissing`, as oCIS answers 409); an existing
    /// node there is moved to the trash when `to.overwrite`, else `AlreadyExists`. WebDAV locks
    /// on the destination, deep ones above it and (when it replaces a folder) ones below it
    /// need their tokens in `to.holder` (`Locked`; oCIS checks the target's lock too). The
    /// restored bytes count against the quota again.
    pub async fn restore(
        &self,
        space: Uuid,
        key: NodeId,
        rel: &SpacePath,
        to: RestoreTo<'_>,
    ) -> StoreResult<Restored> {
        let RestoreTo {
            dest,
            overwrite,
            by,
            holder,
        } = to;
        let mut tx = self.begin_write_in(&[space]).await?;
        let item = item_in(&mut tx, space, key, rel).await?;
        let (parent, name) = parent_folder(&mut tx, space, dest).await?;
        let existing = child(&mut tx, parent.id, &name).await?;
        if existing.is_some() && !overwrite {
            return Err(StoreError::AlreadyExists);
        }
        let now = self.clock.now_ns();
        refuse_locked_in(&mut tx, space, dest, holder, None, now).await?;
        if existing.is_some() {
            let below = below_in(&mut tx, space, dest, now).await?;
            if conflict_below(&below, None, true, &holder.tokens, false).is_some() {
                return Err(StoreError::Locked);
            }
        }
        let replaced = match existing {
            None => false,
            Some(old) => {
                trash_in(&mut tx, &old, by).await?;
                true
            }
        };
        let size = item.node.size as i64;
        check_quota(&mut tx, space, size, None).await?;
        sqlx::query(
            "UPDATE nodes SET parent_id = $1, name = $2, version = version + 1 WHERE id = $3",
        )
        .bind(parent.id.to_string())
        .bind(&name)
        .bind(item.node.id.to_string())
        .execute(&mut *tx)
        .await?;
        match item.node.parent {
            // A node below the top of a deleted subtree: the trashed folder shrinks.
            Some(old_parent) if !rel.is_root() => propagate(&mut tx, old_parent, -size).await?,
            _ => {
                sqlx::query("DELETE FROM trash WHERE node_id = $1")
                    .bind(key.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        propagate(&mut tx, parent.id, size).await?;
        let node = node_by_id(&mut tx, item.node.id).await?;
        tx.commit().await?;
        self.durable().await?;
        Ok(Restored { node, replaced })
    }

    /// Remove the trashed node at `rel` below item `key` for good (with its subtree and
    /// versions), then free the blobs nothing references any more. Works on a full disk
    /// (purging is how a full disk gets room back).
    pub async fn purge(&self, space: Uuid, key: NodeId, rel: &SpacePath) -> StoreResult<()> {
        let freed = self.freeing(|| self.purge_rows(space, key, rel)).await?;
        self.free_blobs(freed).await;
        self.restore_reserve().await;
        Ok(())
    }

    async fn purge_rows(
        &self,
        space: Uuid,
        key: NodeId,
        rel: &SpacePath,
    ) -> StoreResult<Vec<super::blob::BlobKey>> {
        let mut tx = self.begin_write_in(&[space]).await?;
        let item = item_in(&mut tx, space, key, rel).await?;
        let freed = remove_subtree(&mut tx, item.node.id).await?;
        if let (false, Some(parent)) = (rel.is_root(), item.node.parent) {
            propagate(&mut tx, parent, -(item.node.size as i64)).await?;
        }
        tx.commit().await?;
        self.durable().await?;
        Ok(freed)
    }

    /// Empty the trash of a space (all of it in one transaction).
    pub async fn empty_trash(&self, space: Uuid) -> StoreResult<usize> {
        self.purge_where("space_id = $1", space.to_string()).await
    }

    /// Purge every trash item deleted before `cutoff` (unix ns), in every space: the
    /// `trash.retention` sweep.
    pub async fn expire_trash(&self, cutoff: i64) -> StoreResult<usize> {
        self.purge_where("deleted_at < $1", cutoff).await
    }

    async fn purge_where<T>(&self, cond: &str, arg: T) -> StoreResult<usize>
    where
        T: for<'q> sqlx::Encode<'q, super::db::Db> + sqlx::Type<super::db::Db> + Send + Clone,
    {
        let (n, freed) = self
            .freeing(|| self.purge_rows_where(cond, arg.clone()))
            .await?;
        self.free_blobs(freed).await;
        self.restore_reserve().await;
        Ok(n)
    }

    async fn purge_rows_where<T>(
        &self,
        cond: &str,
        arg: T,
    ) -> StoreResult<(usize, Vec<super::blob::BlobKey>)>
    where
        T: for<'q> sqlx::Encode<'q, super::db::Db> + sqlx::Type<super::db::Db> + Send,
    {
        let mut tx = self.begin_write().await?;
        let keys: Vec<String> =
            sqlx::query_scalar(&format!("SELECT node_id FROM trash WHERE {cond}"))
                .bind(arg)
                .fetch_all(&mut *tx)
                .await?;
        let mut freed = Vec::new();
        for key in &keys {
            freed.extend(remove_subtree(&mut tx, NodeId(db::uuid(key)?)).await?);
        }
        tx.commit().await?;
        self.durable().await?;
        Ok((keys.len(), freed))
    }

    /// The path of a node from its space root; `NotFound` for a node in the trash.
    pub async fn live_path(&self, node: &Node) -> StoreResult<SpacePath> {
        let mut conn = self.db.acquire().await?;
        path_in(&mut conn, node).await
    }
}
