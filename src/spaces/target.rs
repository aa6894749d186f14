//! What a content commit reads before it writes, in one statement: the parent folder, the
//! file it replaces (if any) and the space's quota. Each statement is a round trip to the
//! database (on SQLite a hand-off to its connection's thread and back), and a small upload
//! is dominated by such round trips, so [`super::tree::commit_in`] reads all three at once
//! instead of resolving the parent, looking the child up and reading the quota one by one.
//! [`Store::write_target`] is the same read for a protocol's checks before it reads a body.

use sqlx::Row;
use uuid::Uuid;

use super::Store;
use super::db::{DbConn, NODE_COLS, child, node_from_row, now_ns};
use super::error::{StoreError, StoreResult};
use super::lock_rules::LockRecord;
use super::model::{Node, Quota};
use super::path::SpacePath;
use super::quota::quota_in;
use super::tree::{JOIN_DEPTH, parent_folder};

/// The state a commit of the file at a path starts from.
pub(super) struct Target {
    /// The folder the file is (to be) in.
    pub parent: Node,
    /// The file's name in it.
    pub name: String,
    /// What is at the path now, if anything.
    pub existing: Option<Node>,
    /// The space's usage, limit and open reservations (other than the commit's own).
    pub quota: Quota,
    /// How many live WebDAV locks lie on the path or its ancestors (at `lock_now`); only
    /// when there are any is a lock check worth its own statement.
    pub locks_along: i64,
}

/// Read the [`Target`] of a commit to `path` in `space`, excluding the reservation `except`
/// from the quota (the commit's own, released by the same transaction); reservations expire
/// at `now`, locks at `lock_now` (the store's clock).
pub(super) async fn target_in(
    conn: &mut DbConn,
    space: Uuid,
    path: &SpacePath,
    (now, lock_now): (i64, i64),
    except: Option<&str>,
) -> StoreResult<Target> {
    let (folder, name) = match (path.parent(), path.name()) {
        (Some(p), Some(n)) => (p, n.to_string()),
        _ => return Err(StoreError::RootImmutable),
    };
    let names = folder.components();
    if names.len() > JOIN_DEPTH {
        // Deeper than one join chain resolves: the statement-per-step way.
        let (parent, name) = parent_folder(conn, space, path).await?;
        let existing = child(conn, parent.id, &name).await?;
        let quota = quota_in(conn, space, except).await?;
        return Ok(Target {
            parent,
            name,
            existing,
            quota,
            // Unknown: the caller checks.
            locks_along: 1,
        });
    }
    // `$1` space, `$2` now, `$3` excepted reservation, `$4` the name, `$5` the locks' now,
    // `$6..` the folder's components, then the lock keys along the path. Slot 0 is the
    // folder, slot 1 the file; every row carries the quota and the lock count.
    let mut chain = format!("SELECT n{}.id FROM nodes n0", names.len());
    for i in 1..=names.len() {
        chain.push_str(&format!(
            " JOIN nodes n{i} ON n{i}.parent_id = n{p}.id AND n{i}.name = ${}",
            i + 5,
            p = i - 1
        ));
    }
    chain.push_str(" WHERE n0.id = $1");
    let quota = "(SELECT s.quota FROM spaces s WHERE s.id = $1) AS q_total, \
         (SELECT r.size FROM nodes r WHERE r.id = $1) AS q_used, \
         (SELECT CAST(SUM(v.bytes) AS BIGINT) FROM reservations v \
          WHERE v.space_id = $1 AND v.expires_at > $2 AND v.id <> $3) AS q_reserved";
    let keys = LockRecord::keys_along(path);
    let first_key = names.len() + 6;
    let key_list: Vec<String> = (first_key..first_key + keys.len())
        .map(|i| format!("${i}"))
        .collect();
    let quota = format!(
        "{quota}, (SELECT COUNT(*) FROM dav_locks l WHERE l.space_id = $1 \
         AND (l.expires_at IS NULL OR l.expires_at > $5) AND l.path IN ({})) AS locks_along",
        key_list.join(", ")
    );
    let sql = format!(
        "WITH p AS ({chain}) \
         SELECT CAST(0 AS BIGINT) AS slot, {NODE_COLS}, {quota} FROM nodes WHERE id IN (SELECT id FROM p) \
         UNION ALL \
         SELECT CAST(1 AS BIGINT) AS slot, {NODE_COLS}, {quota} FROM nodes \
         WHERE parent_id IN (SELECT id FROM p) AND name = $4"
    );
    let mut query = sqlx::query(&sql)
        .bind(space.to_string())
        .bind(now)
        .bind(except.unwrap_or(""))
        .bind(&name)
        .bind(lock_now);
    for n in names {
        query = query.bind(n);
    }
    for k in &keys {
        query = query.bind(k.as_str());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut parent = None;
    let mut existing = None;
    let mut quota = None;
    let mut locks_along = 0;
    for row in &rows {
        locks_along = row.try_get("locks_along")?;
        let slot: i64 = row.try_get("slot")?;
        let node = node_from_row(row)?;
        if slot == 0 {
            parent = Some(node);
        } else {
            existing = Some(node);
        }
        let total: Option<i64> = row.try_get("q_total")?;
        let used: Option<i64> = row.try_get("q_used")?;
        let reserved: Option<i64> = row.try_get("q_reserved")?;
        quota = Some(Quota {
            used: used.unwrap_or(0).max(0) as u64,
            total: total.map(|t| t.max(0) as u64),
            reserved: reserved.unwrap_or(0).max(0) as u64,
        });
    }
    match (parent, quota) {
        (Some(parent), Some(quota)) if parent.is_folder() => Ok(Target {
            parent,
            name,
            existing,
            quota,
            locks_along,
        }),
        _ => Err(StoreError::ParentMissing),
    }
}

impl Store {
    /// What is at `path` (a file, a folder, or nothing under an existing folder) and the
    /// space's quota, in one statement: a write's checks before its body arrives (the commit
    /// checks again). `ParentMissing` when no folder is there to hold `path`.
    pub async fn write_target(
        &self,
        space: Uuid,
        path: &SpacePath,
    ) -> StoreResult<(Option<Node>, Quota)> {
        let mut conn = self.db.acquire().await?;
        let now = now_ns();
        let t = target_in(&mut conn, space, path, (now, self.clock.now_ns()), None).await?;
        Ok((t.existing, t.quota))
    }
}
