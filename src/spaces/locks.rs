//! Lock records of the WebDAV layer (RFC 4918 §6) in the metadata database (`dav_locks`);
//! the record type, [`LockRecord`], is defined with the rules over it.
//!
//! A lock names a path, not a node: RFC 4918 lets a client lock an unmapped URL. The core
//! stores, finds, refreshes and removes records and purges expired ones; an expired record is
//! ignored by every query. Which lock applies to which request, and what conflicts with what,
//! is [`super::lock_rules`]; a write checks them inside its own transaction
//! ([`refuse_locked_in`]), and [`Store::add_lock`] takes the conflict rule of the new lock so
//! that the check and the insert are one write transaction.

use sqlx::Row;
use uuid::Uuid;

use super::Store;
use super::db::{DbConn, DbRow};
use super::error::{StoreError, StoreResult};
use super::ids::UserId;
use super::lock_rules::{LockHolder, LockRecord, write_conflict};
use super::path::SpacePath;

/// Not expired at `$2`.
const LIVE: &str = "(expires_at IS NULL OR expires_at > $2)";
const COLS: &str = "token, path, principal, owner_xml, timeout_s, expires_at, shared, deep";

fn record(r: &DbRow) -> StoreResult<LockRecord> {
    Ok(LockRecord {
        token: r.try_get(0)?,
        path: r.try_get(1)?,
        principal: r.try_get(2)?,
        owner_xml: r.try_get(3)?,
        timeout_s: r.try_get(4)?,
        expires_at: r.try_get(5)?,
        shared: r.try_get::<i64, _>(6)? != 0,
        deep: r.try_get::<i64, _>(7)? != 0,
    })
}

/// The key of `p` and the prefix every key strictly below it starts with.
fn subtree(p: &SpacePath) -> (String, String) {
    let k = LockRecord::key(p);
    let prefix = if p.is_root() {
        k.clone()
    } else {
        format!("{k}/")
    };
    (k, prefix)
}

pub(super) async fn along_in(
    conn: &mut DbConn,
    space: Uuid,
    p: &SpacePath,
    now: i64,
) -> StoreResult<Vec<LockRecord>> {
    let keys = LockRecord::keys_along(p);
    let list: Vec<String> = (0..keys.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT {COLS} FROM dav_locks WHERE space_id = $1 AND {LIVE} AND path IN ({})",
        list.join(", ")
    );
    let mut q = sqlx::query(&sql).bind(space.to_string()).bind(now);
    for k in &keys {
        q = q.bind(k.as_str());
    }
    q.fetch_all(&mut *conn).await?.iter().map(record).collect()
}

pub(super) async fn below_in(
    conn: &mut DbConn,
    space: Uuid,
    p: &SpacePath,
    now: i64,
) -> StoreResult<Vec<LockRecord>> {
    let (k, prefix) = subtree(p);
    let sql = format!(
        "SELECT {COLS} FROM dav_locks WHERE space_id = $1 AND {LIVE} \
         AND (path = $3 OR substr(path, 1, CAST($4 AS INTEGER)) = $5)"
    );
    sqlx::query(&sql)
        .bind(space.to_string())
        .bind(now)
        .bind(k.as_str())
        .bind(prefix.chars().count() as i64)
        .bind(prefix.as_str())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(record)
        .collect()
}

/// Refuse (`Locked`) a write of `path` that a live lock keeps from `holder`, who also holds,
/// when `owner` is given, every lock that user took (see [`LockHolder`]).
pub(super) async fn refuse_locked_in(
    conn: &mut DbConn,
    space: Uuid,
    path: &SpacePath,
    holder: &LockHolder,
    owner: Option<UserId>,
    now: i64,
) -> StoreResult<()> {
    let locks = along_in(conn, space, path, now).await?;
    let mut holder = holder.clone();
    if write_conflict(&locks, path, &holder).is_none() {
        return Ok(());
    }
    // Rare (a lock is in the way): only now is the owner's name worth a statement.
    if let Some(id) = owner {
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        holder.owner = name;
        if write_conflict(&locks, path, &holder).is_none() {
            return Ok(());
        }
    }
    Err(StoreError::Locked)
}

/// Remove every lock on `path` or below it inside the caller's connection or transaction;
/// returns how many went.
pub(super) async fn remove_below_in(
    conn: &mut DbConn,
    space: Uuid,
    path: &SpacePath,
) -> StoreResult<u64> {
    let (k, prefix) = subtree(path);
    let done = sqlx::query(
        "DELETE FROM dav_locks WHERE space_id = $1 \
         AND (path = $2 OR substr(path, 1, CAST($3 AS INTEGER)) = $4)",
    )
    .bind(space.to_string())
    .bind(k.as_str())
    .bind(prefix.chars().count() as i64)
    .bind(prefix.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

impl Store {
    /// The live lock that keeps `holder` from writing `path`, if any. A database failure is
    /// an error, never "locked".
    pub async fn lock_conflict(
        &self,
        space: Uuid,
        path: &SpacePath,
        holder: &LockHolder,
    ) -> StoreResult<Option<LockRecord>> {
        let locks = self.locks_along(space, path).await?;
        Ok(write_conflict(&locks, path, holder).cloned())
    }

    /// Live locks on `path` or any of its ancestors, deep or not.
    pub async fn locks_along(&self, space: Uuid, path: &SpacePath) -> StoreResult<Vec<LockRecord>> {
        let mut conn = self.db.acquire().await?;
        along_in(&mut conn, space, path, self.clock.now_ns()).await
    }

    /// Live locks on `path` or anywhere below it.
    pub async fn locks_below(&self, space: Uuid, path: &SpacePath) -> StoreResult<Vec<LockRecord>> {
        let mut conn = self.db.acquire().await?;
        below_in(&mut conn, space, path, self.clock.now_ns()).await
    }

    /// Every live lock of a space.
    pub async fn locks_of_space(&self, space: Uuid) -> StoreResult<Vec<LockRecord>> {
        let sql = format!("SELECT {COLS} FROM dav_locks WHERE space_id = $1 AND {LIVE}");
        sqlx::query(&sql)
            .bind(space.to_string())
            .bind(self.clock.now_ns())
            .fetch_all(&self.db)
            .await?
            .iter()
            .map(record)
            .collect()
    }

    /// Store `lock` (on the path its key names) unless `conflict` finds a live lock in the
    /// way: it is given the live locks along the path and, for a deep lock, those below it,
    /// and returns the one that refuses the new lock (`Ok(Err(..))`). Expired locks are
    /// purged first. Check and insert are one write transaction, so two concurrent
    /// conflicting locks cannot both be stored.
    pub async fn add_lock<F>(
        &self,
        space: Uuid,
        lock: LockRecord,
        conflict: F,
    ) -> StoreResult<Result<LockRecord, LockRecord>>
    where
        F: FnOnce(&[LockRecord], &[LockRecord]) -> Option<LockRecord> + Send,
    {
        let path = SpacePath::parse(&lock.path)?;
        let now = self.clock.now_ns();
        let mut tx = self.begin_write_in(&[space]).await?;
        // This space's only: the transaction holds this space's write lock alone.
        sqlx::query(
            "DELETE FROM dav_locks WHERE space_id = $1 AND expires_at IS NOT NULL \
             AND expires_at <= $2",
        )
        .bind(space.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let along = along_in(&mut tx, space, &path, now).await?;
        let below = if lock.deep {
            below_in(&mut tx, space, &path, now).await?
        } else {
            Vec::new()
        };
        if let Some(c) = conflict(&along, &below) {
            return Ok(Err(c));
        }
        sqlx::query(
            "INSERT INTO dav_locks (token, space_id, path, principal, owner_xml, timeout_s, \
             expires_at, shared, deep) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(lock.token.as_str())
        .bind(space.to_string())
        .bind(lock.path.as_str())
        .bind(lock.principal.as_deref())
        .bind(lock.owner_xml.as_deref())
        .bind(lock.timeout_s)
        .bind(lock.expires_at)
        .bind(lock.shared as i64)
        .bind(lock.deep as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.durable().await?;
        Ok(Ok(lock))
    }

    /// Give every lock stored without a timeout (by a version that granted endless locks)
    /// `max` from now; how many there were.
    pub async fn end_endless_locks(&self, max: std::time::Duration) -> StoreResult<u64> {
        let expires = self
            .clock
            .now_ns()
            .saturating_add(i64::try_from(max.as_nanos()).unwrap_or(i64::MAX));
        let done = sqlx::query(
            "UPDATE dav_locks SET timeout_s = $1, expires_at = $2 WHERE expires_at IS NULL",
        )
        .bind(i64::try_from(max.as_secs()).unwrap_or(i64::MAX))
        .bind(expires)
        .execute(self.writer())
        .await?;
        self.durable_if_changed(done.rows_affected()).await?;
        Ok(done.rows_affected())
    }

    /// Write the timeout and expiry of `lock` to the stored lock with its token.
    pub async fn refresh_lock(&self, lock: &LockRecord) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE dav_locks SET timeout_s = $1, expires_at = $2 WHERE token = $3")
                .bind(lock.timeout_s)
                .bind(lock.expires_at)
                .bind(lock.token.as_str())
                .execute(self.writer())
                .await?;
        self.durable_if_changed(done.rows_affected()).await
    }

    /// Remove the lock with this token; whether there was one.
    pub async fn remove_lock(&self, token: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM dav_locks WHERE token = $1")
            .bind(token)
            .execute(self.writer())
            .await?;
        self.durable_if_changed(done.rows_affected()).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Remove every lock on `path` or below it (the path is gone).
    pub async fn remove_locks_below(&self, space: Uuid, path: &SpacePath) -> StoreResult<()> {
        // dav-server calls this for every deleted member, and most have no lock: a read (which
        // runs beside the writers) spares them a place in the writers' queue.
        let mut conn = self.db.acquire().await?;
        if below_in(&mut conn, space, path, i64::MIN).await?.is_empty() {
            return Ok(());
        }
        drop(conn);
        let mut conn = self.writer().acquire().await?;
        let rows = remove_below_in(&mut conn, space, path).await?;
        self.durable_if_changed(rows).await
    }

    /// [`Store::durable`] after a statement outside a transaction, unless it changed no row
    /// (then there is nothing to sync: dav-server removes the locks of every deleted member,
    /// and most have none).
    pub(super) async fn durable_if_changed(&self, rows: u64) -> StoreResult<()> {
        if rows == 0 {
            return Ok(());
        }
        self.durable().await
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::spaces::db::now_ns;
    use crate::spaces::{NewUser, User};

    /// A store in a temporary directory with one user (whose personal space has the user's
    /// uuid). Its metadata is in SQLite there, or in a fresh database on the PostgreSQL server
    /// named by `SPACEDAV_TEST_POSTGRES` (as in tests/common).
    pub(in crate::spaces) async fn fixture() -> (Store, User, tempfile::TempDir) {
        use sqlx::Connection;
        let dir = tempfile::tempdir().unwrap();
        let url = match std::env::var("SPACEDAV_TEST_POSTGRES") {
            Ok(server) => {
                let server = server.trim_end_matches('/');
                let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
                    .await
                    .unwrap();
                let name = format!("spacedav_{}", Uuid::new_v4().simple());
                sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE template0"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                format!("{server}/{name}")
            }
            Err(_) => format!("sqlite://{}", dir.path().join("meta.db").display()),
        };
        let store = Store::open_local(&url, dir.path().join("blobs"), Uuid::new_v4())
            .await
            .unwrap();
        let user = store
            .create_user(NewUser {
                name: "alice".into(),
                display_name: String::new(),
                email: None,
                password_hash: "x".into(),
                is_admin: false,
            })
            .await
            .unwrap();
        (store, user, dir)
    }

    fn lock(token: &str, path: &str, deep: bool, expires_at: Option<i64>) -> LockRecord {
        LockRecord {
            token: token.into(),
            path: path.into(),
            principal: Some("alice".into()),
            owner_xml: Some("<href xmlns=\"DAV:\">me</href>".into()),
            timeout_s: expires_at.map(|_| 1),
            expires_at,
            shared: false,
            deep,
        }
    }

    fn tokens(locks: &[LockRecord]) -> Vec<&str> {
        let mut t: Vec<&str> = locks.iter().map(|l| l.token.as_str()).collect();
        t.sort();
        t
    }

    fn p(s: &str) -> SpacePath {
        SpacePath::parse(s).unwrap()
    }

    #[test]
    fn keys_along_run_from_the_root() {
        let cases: &[(&str, &[&str])] = &[
            ("", &["/"]),
            ("a", &["/", "/a"]),
            ("a/b c/d", &["/", "/a", "/a/b c", "/a/b c/d"]),
        ];
        for (path, want) in cases {
            assert_eq!(LockRecord::keys_along(&p(path)), *want, "{path:?}");
        }
    }

    #[tokio::test]
    async fn records_are_found_by_path_ignored_when_expired_and_removed_by_subtree() {
        let (store, user, _dir) = fixture().await;
        let space = user.id.0;
        let none = |_: &[LockRecord], _: &[LockRecord]| None;
        for l in [
            lock("a", "/a", true, None),
            lock("ab", "/ab", false, Some(now_ns() + 60_000_000_000)),
            lock("old", "/a/b/c", false, Some(now_ns() - 1)),
        ] {
            let stored = store.add_lock(space, l.clone(), none).await.unwrap();
            assert_eq!(stored, Ok(l));
        }
        assert_eq!(
            tokens(&store.locks_along(space, &p("a/b/c")).await.unwrap()),
            ["a"]
        );
        assert_eq!(
            tokens(&store.locks_below(space, &p("a")).await.unwrap()),
            ["a"]
        );
        assert_eq!(
            tokens(&store.locks_below(space, &p("")).await.unwrap()),
            ["a", "ab"]
        );
        assert_eq!(
            tokens(&store.locks_of_space(space).await.unwrap()),
            ["a", "ab"]
        );

        // The conflict rule sees what lies along and (for a deep lock) below the path.
        let seen = std::sync::Mutex::new(Vec::new());
        let refused = store
            .add_lock(space, lock("root", "/", true, None), |along, below| {
                seen.lock()
                    .unwrap()
                    .push((tokens(along).len(), tokens(below).len()));
                below.iter().find(|l| l.token == "ab").cloned()
            })
            .await
            .unwrap();
        assert_eq!(refused.map_err(|c| c.token), Err("ab".to_string()));
        assert_eq!(*seen.lock().unwrap(), [(0, 2)]);
        assert_eq!(
            tokens(&store.locks_along(space, &p("")).await.unwrap()),
            Vec::<&str>::new()
        );

        let mut ab = lock("ab", "/ab", false, Some(now_ns() - 1));
        ab.timeout_s = Some(5);
        store.refresh_lock(&ab).await.unwrap();
        assert_eq!(tokens(&store.locks_of_space(space).await.unwrap()), ["a"]);

        store.remove_locks_below(space, &p("a")).await.unwrap();
        assert!(store.locks_of_space(space).await.unwrap().is_empty());
        store
            .add_lock(space, lock("x", "/x", false, None), none)
            .await
            .unwrap()
            .unwrap();
        assert!(store.remove_lock("x").await.unwrap());
        assert!(!store.remove_lock("x").await.unwrap());
    }
}
