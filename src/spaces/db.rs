//! The metadata database's types (`Db`, `DbConn`, `DbPool`), row mapping for nodes, users and
//! spaces, and the helpers every write transaction of the core shares: look a node or a
//! child up, insert a folder, delete a subtree, propagate etags and sizes to the space root, the clock
//! (`now_ns`) and fresh etags.
//!
//! Queries use `$n` placeholders and standard SQL so the same text runs on PostgreSQL.

use sqlx::Row;
use uuid::Uuid;

use super::checksum::Checksums;
use super::error::{StoreError, StoreResult};
use super::ids::{NodeId, SpaceId, UserId};
use super::model::{Mtime, Node, NodeKind, Space, SpaceKind, User};

/// The SQL driver every metadata query runs on. Everything else names the aliases below, so
/// the driver is chosen in this one place.
pub(crate) type Db = sqlx::Any;
/// A result row of [`Db`].
pub(crate) type DbRow = <Db as sqlx::Database>::Row;
/// One connection (or open transaction, through `&mut *tx`) of [`Db`].
pub(crate) type DbConn = <Db as sqlx::Database>::Connection;
/// The connection pool of [`Db`].
pub(crate) type DbPool = sqlx::Pool<Db>;

/// Columns of `nodes` in the order [`node_from_row`] reads them.
pub(crate) const NODE_COLS: &str = "id, space_id, parent_id, name, kind, size, mtime, etag, \
     content_type, sha1, md5, adler32, blob, version";

pub(crate) fn uuid(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::from(sqlx::Error::Decode(Box::new(e))))
}

pub(crate) fn node_from_row(row: &DbRow) -> StoreResult<Node> {
    let parent: Option<String> = row.try_get("parent_id")?;
    let kind: String = row.try_get("kind")?;
    Ok(Node {
        id: NodeId(uuid(row.try_get("id")?)?),
        space: uuid(row.try_get("space_id")?)?,
        parent: parent.as_deref().map(uuid).transpose()?.map(NodeId),
        name: row.try_get("name")?,
        kind: if kind == "folder" {
            NodeKind::Folder
        } else {
            NodeKind::File
        },
        size: row.try_get::<i64, _>("size")?.max(0) as u64,
        mtime: Mtime(row.try_get("mtime")?),
        etag: row.try_get("etag")?,
        content_type: row.try_get("content_type")?,
        checksums: checksums_from_row(row)?,
        blob: row.try_get("blob")?,
        version: row.try_get("version")?,
    })
}

/// The `sha1`, `md5` and `adler32` columns of a `nodes` or `versions` row.
pub(crate) fn checksums_from_row(row: &DbRow) -> StoreResult<Checksums> {
    Ok(Checksums {
        sha1: row.try_get("sha1")?,
        md5: row.try_get("md5")?,
        adler32: row.try_get("adler32")?,
    })
}

pub(crate) fn user_from_row(row: &DbRow) -> StoreResult<User> {
    Ok(User {
        id: UserId(uuid(row.try_get("id")?)?),
        name: row.try_get("name")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        is_admin: row.try_get::<i64, _>("is_admin")? != 0,
    })
}

pub(crate) fn space_from_row(storage: Uuid, row: &DbRow) -> StoreResult<Space> {
    let quota: Option<i64> = row.try_get("quota")?;
    Ok(Space {
        id: SpaceId {
            storage,
            space: uuid(row.try_get("id")?)?,
        },
        kind: SpaceKind::from_db(row.try_get("kind")?),
        name: row.try_get("name")?,
        alias: row.try_get("alias")?,
        owner: UserId(uuid(row.try_get("owner_id")?)?),
        quota: quota.map(|q| q.max(0) as u64),
        description: row.try_get("description")?,
        disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
    })
}

/// Current time as unix nanoseconds.
pub(crate) fn now_ns() -> i64 {
    Mtime::now().0
}

/// A fresh entity tag (16 hex digits).
pub(crate) fn new_etag() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The node with this id.
pub(crate) async fn node_by_id(conn: &mut DbConn, id: NodeId) -> StoreResult<Node> {
    let row = sqlx::query(&format!("SELECT {NODE_COLS} FROM nodes WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    node_from_row(&row)
}

/// The child `name` of folder `parent`, if any.
pub(crate) async fn child(
    conn: &mut DbConn,
    parent: NodeId,
    name: &str,
) -> StoreResult<Option<Node>> {
    let row = sqlx::query(&format!(
        "SELECT {NODE_COLS} FROM nodes WHERE parent_id = $1 AND name = $2"
    ))
    .bind(parent.to_string())
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(node_from_row).transpose()
}

/// Insert a new folder row (no propagation).
pub(crate) async fn insert_folder(
    conn: &mut DbConn,
    id: NodeId,
    space: Uuid,
    parent: Option<NodeId>,
    name: &str,
    mtime: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO nodes (id, space_id, parent_id, name, kind, size, mtime, etag, version) \
         VALUES ($1, $2, $3, $4, 'folder', 0, $5, $6, 1)",
    )
    .bind(id.to_string())
    .bind(space.to_string())
    .bind(parent.map(|p| p.to_string()))
    .bind(name)
    .bind(mtime)
    .bind(new_etag())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Give `folder` and every ancestor up to the space root a new etag and mtime, and add
/// `delta` to their subtree sizes. This is what lets sync clients see a change deep in the
/// tree by comparing the root's etag.
pub(crate) async fn propagate(conn: &mut DbConn, folder: NodeId, delta: i64) -> StoreResult<()> {
    let etag = new_etag();
    sqlx::query(
        "WITH RECURSIVE anc(id) AS ( \
             SELECT CAST($1 AS TEXT) \
             UNION ALL SELECT n.parent_id FROM nodes n JOIN anc a ON n.id = a.id \
             WHERE n.parent_id IS NOT NULL) \
         UPDATE nodes SET size = size + $2, etag = $3 || substr(id, 1, 8), mtime = $4, \
             version = version + 1 \
         WHERE id IN (SELECT id FROM anc)",
    )
    .bind(folder.to_string())
    .bind(delta)
    .bind(etag)
    .bind(now_ns())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Delete a node with its subtree (rows cascade) and return the blob keys it and its
/// versions referenced, for [`super::Store::free_blobs`] after the commit.
pub(super) async fn remove_subtree(
    conn: &mut DbConn,
    id: NodeId,
) -> StoreResult<Vec<super::blob::BlobKey>> {
    let freed: Vec<super::blob::BlobKey> = sqlx::query_scalar(
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
