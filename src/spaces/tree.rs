//! Reading and writing the tree of a space: resolve paths, list folders, create folders,
//! commit new content ([`commit_in`], the body every content write shares: WebDAV through
//! [`super::ingest`], tus through [`super::uploads`]), set an mtime, and list the versions an
//! overwrite keeps. Moves, copies and deletes are in `moves.rs`, quota in `quota.rs`. Every
//! mutation is one `BEGIN IMMEDIATE` transaction that also propagates etags and subtree sizes
//! to the space root.

use sqlx::Row;
use uuid::Uuid;

use super::Store;
use super::blob::BlobKey;
use super::checksum::Checksums;
use super::db::{
    self, DbConn, NODE_COLS, child, new_etag, node_by_id, node_from_row, now_ns, propagate,
};
use super::error::{StoreError, StoreResult};
use super::ids::NodeId;
use super::ids::UserId;
use super::lock_rules::LockHolder;
use super::locks::refuse_locked_in;
use super::model::{Mtime, Node, Version};
use super::path::SpacePath;
use super::target::{Target, target_in};

/// New content for [`Store::commit_file`]: a finished blob and what is known about it.
#[derive(Debug, Clone)]
pub struct NewContent {
    /// Key of a finished blob.
    pub blob: BlobKey,
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
    /// An `If-Match` at a tus creation (SPEC §3): a target that exists must have this etag
    /// (unquoted; `*` matches any); a missing target is created.
    IfMatch(String),
}

/// The WebDAV locks a commit re-checks in its transaction, after the target's own checks
/// (SPEC §3's order: folder, parent, `If-Match`, lock, then quota).
#[derive(Debug, Clone, Copy)]
pub(super) struct LockCheck<'a> {
    /// Who writes.
    pub holder: &'a LockHolder,
    /// The user whose every lock counts as held (a tus upload's creator).
    pub owner: Option<UserId>,
    /// The time locks expire against.
    pub now: i64,
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
pub(super) const JOIN_DEPTH: usize = 32;

/// Resolve a path with one statement per 32 components: a chain of self-joins from the space
/// root, one per component (a file has no children, so a file in the middle of the path cannot
/// match). Statements, not rows, are what cost here: each is a round trip to SQLite's thread.
pub(super) async fn resolve_in(
    conn: &mut DbConn,
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
pub(super) async fn parent_folder(
    conn: &mut DbConn,
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
                .bind(i64::from(limit))
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
                .bind(i64::from(limit))
                .fetch_all(&self.db)
                .await?
            }
        };
        rows.iter().map(node_from_row).collect()
    }

    /// The path of a node from its space root; [`StoreError::NotFound`] for a node in the
    /// trash (its chain of parents ends at a detached node, not at the root), which has no path
    /// a share, a link or an id may reach it by.
    pub async fn path_of(&self, node: &Node) -> StoreResult<SpacePath> {
        let mut conn = self.db.acquire().await?;
        let mut names = Vec::new();
        let mut cur = node.clone();
        while let Some(parent) = cur.parent {
            names.push(cur.name.clone());
            cur = node_by_id(&mut conn, parent).await?;
        }
        if cur.id.0 != cur.space {
            return Err(StoreError::NotFound);
        }
        names.reverse();
        Ok(SpacePath::parse(&names.join("/"))?)
    }

    /// Create a folder; its parent must exist.
    pub async fn create_folder(&self, space: Uuid, path: &SpacePath) -> StoreResult<Node> {
        let mut tx = self.begin_write_in(&[space]).await?;
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
        let mut tx = self.begin_write_in(&[space]).await?;
        let committed = commit_in(&mut tx, space, path, content, pre, None).await?;
        tx.commit().await?;
        self.durable().await?;
        Ok(committed)
    }

    /// Set a node's mtime (a new etag follows, and the ancestors' etags change).
    pub async fn set_mtime(&self, id: NodeId, mtime: Mtime) -> StoreResult<Node> {
        let mut tx = self.begin_write().await?;
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

    /// The earlier contents of a file, newest first (empty for a folder or a file never
    /// overwritten).
    pub async fn versions(&self, node: NodeId) -> StoreResult<Vec<Version>> {
        let rows = sqlx::query(
            "SELECT id, blob, size, mtime, etag, sha1, md5, adler32, created_at FROM versions \
             WHERE node_id = $1 ORDER BY created_at DESC",
        )
        .bind(node.to_string())
        .fetch_all(&self.db)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Version {
                    id: db::uuid(row.try_get("id")?)?,
                    blob: row.try_get("blob")?,
                    size: row.try_get::<i64, _>("size")?.max(0) as u64,
                    mtime: Mtime(row.try_get("mtime")?),
                    etag: row.try_get("etag")?,
                    checksums: db::checksums_from_row(row)?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}

/// The body of [`Store::commit_file`] inside the caller's write transaction `tx` (which a tus
/// completion extends with its upload session, so that the file and the session's final
/// offset become visible together).
pub(super) async fn commit_in(
    tx: &mut DbConn,
    space: Uuid,
    path: &SpacePath,
    content: NewContent,
    pre: Precondition,
    locks: Option<LockCheck<'_>>,
) -> StoreResult<Committed> {
    let (committed, grown) = commit_node_in(tx, space, path, content, pre, locks, 0).await?;
    propagate(&mut *tx, grown.folder, grown.delta).await?;
    Ok(committed)
}

/// How a commit changed its folder's subtree: what [`propagate`] must carry up from `folder`.
pub(super) struct Growth {
    pub folder: NodeId,
    pub delta: i64,
}

/// [`commit_in`] without the propagation to the ancestors, which the caller owes (once per
/// folder for many commits: `commit_batch.rs`). `unpropagated` is what earlier commits of the
/// same transaction added to the space and did not propagate yet: the quota counts it.
pub(super) async fn commit_node_in(
    tx: &mut DbConn,
    space: Uuid,
    path: &SpacePath,
    content: NewContent,
    pre: Precondition,
    locks: Option<LockCheck<'_>>,
    unpropagated: i64,
) -> StoreResult<(Committed, Growth)> {
    // Without a lock check, no lock makes a difference: the clock's reading is moot.
    let lock_now = locks.map_or(0, |l| l.now);
    let Target {
        parent,
        name,
        existing,
        quota,
        locks_along,
    } = target_in(
        &mut *tx,
        space,
        path,
        (now_ns(), lock_now),
        content.reservation.as_deref(),
    )
    .await?;
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
        (Precondition::IfMatch(e), Some(n)) if n.etag != *e && e != "*" => {
            return Err(StoreError::PreconditionFailed);
        }
        _ => {}
    }
    if let Some(l) = locks
        && locks_along > 0
    {
        refuse_locked_in(&mut *tx, space, path, l.holder, l.owner, l.now).await?;
    }
    let old_size = existing.as_ref().map_or(0, |n| n.size as i64);
    let delta = content.size as i64 - old_size;
    if delta > 0 && !quota.fits((delta + unpropagated).max(0) as u64) {
        return Err(StoreError::QuotaExceeded);
    }
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
    if let Some(r) = &content.reservation {
        sqlx::query("DELETE FROM reservations WHERE id = $1")
            .bind(r)
            .execute(&mut *tx)
            .await?;
    }
    let grown = Growth {
        folder: parent.id,
        delta,
    };
    Ok((Committed { node, created }, grown))
}
