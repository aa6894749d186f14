//! What the nodes of one installation share beyond the tree: the storage id, stored by the
//! first node that starts so that every node serves the same space ids, and leases, a named
//! role (the housekeeping sweeper) that one node holds at a time (issue 14).
//!
//! Both are rows in the metadata database, written by compare-and-set, so they work the same
//! on SQLite (one node) and PostgreSQL (several).

use std::time::Duration;

use uuid::Uuid;

use super::Store;
use super::backend::Hold;
use super::db::uuid;
use super::error::StoreResult;

/// The `cluster_settings` row of the storage id.
const STORAGE_ID: &str = "storage_id";

/// The lease of the node that runs the housekeeping sweeps.
pub const SWEEPER: &str = "sweeper";

/// The key of an upload's hold: its id's last 64 bits (random in a v4 id), so that it never
/// meets a space's write lock (the first 64 bits of a space id) but by chance.
fn upload_hold_key(upload: Uuid) -> i64 {
    let b = upload.as_bytes();
    i64::from_be_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]])
}

impl Store {
    /// The exclusive hold of upload `id` across every node on this database, for one PATCH,
    /// termination or sweep of it: `None` at once when another request (on any node) has it,
    /// unless `wait`. The caller also holds the upload's in-process lock (`TusService`).
    pub async fn hold_upload(&self, id: Uuid, wait: bool) -> StoreResult<Option<Hold>> {
        self.backend.hold(upload_hold_key(id), wait).await
    }

    /// The installation's storage id as the database records it: `ours` when the database
    /// records none yet (it is stored then), else the one stored by the first node.
    pub async fn claim_storage_id(&self, ours: Uuid) -> StoreResult<Uuid> {
        sqlx::query(
            "INSERT INTO cluster_settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(STORAGE_ID)
        .bind(ours.to_string())
        .execute(&self.db)
        .await?;
        let stored: String =
            sqlx::query_scalar("SELECT value FROM cluster_settings WHERE name = $1")
                .bind(STORAGE_ID)
                .fetch_one(&self.db)
                .await?;
        uuid(&stored)
    }

    /// This store serving `storage` as its storage id (the one the database records).
    pub fn with_storage_id(self, storage: Uuid) -> Store {
        Store {
            storage_id: storage,
            ..self
        }
    }

    /// Take or renew the lease `name` for `holder` until `ttl` from now (on the store's
    /// clock); true when `holder` holds it now. A lease passes to another holder only once
    /// it has expired, so while its holder keeps renewing it no one else gets it.
    pub async fn hold_lease(&self, name: &str, holder: Uuid, ttl: Duration) -> StoreResult<bool> {
        let now = self.clock.now_ns();
        let until = now.saturating_add(i64::try_from(ttl.as_nanos()).unwrap_or(i64::MAX));
        let holder = holder.to_string();
        sqlx::query(
            "INSERT INTO cluster_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(&holder)
        .bind(until)
        .execute(&self.db)
        .await?;
        let taken = sqlx::query(
            "UPDATE cluster_leases SET holder = $1, expires_at = $2 \
             WHERE name = $3 AND (holder = $1 OR expires_at <= $4)",
        )
        .bind(&holder)
        .bind(until)
        .bind(name)
        .bind(now)
        .execute(&self.db)
        .await?;
        Ok(taken.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_storage_id_stored_is_the_one_every_later_claim_gets() {
        let (store, _alice, _dir) = crate::spaces::locks::tests::fixture().await;
        let first = Uuid::new_v4();
        assert_eq!(store.claim_storage_id(first).await.unwrap(), first);
        assert_eq!(store.claim_storage_id(Uuid::new_v4()).await.unwrap(), first);
    }

    #[tokio::test]
    async fn a_lease_passes_to_another_holder_only_after_it_expired() {
        let (store, _alice, _dir) = crate::spaces::locks::tests::fixture().await;
        let store = store.with_clock(crate::clock::Clock::adjustable());
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let ttl = Duration::from_secs(60);
        assert!(store.hold_lease(SWEEPER, a, ttl).await.unwrap());
        assert!(!store.hold_lease(SWEEPER, b, ttl).await.unwrap());
        assert!(store.hold_lease(SWEEPER, a, ttl).await.unwrap(), "renewal");
        store.clock().advance(Duration::from_secs(59));
        assert!(!store.hold_lease(SWEEPER, b, ttl).await.unwrap());
        store.clock().advance(Duration::from_secs(2));
        assert!(store.hold_lease(SWEEPER, b, ttl).await.unwrap());
        assert!(!store.hold_lease(SWEEPER, a, ttl).await.unwrap());
    }
}

#[cfg(test)]
mod hold_tests {
    use super::*;

    /// Issue 14: an upload held by one request is refused to a second at once; released,
    /// it is free again. On PostgreSQL the second comes from another store, as from another
    /// node; on SQLite the hold is the caller's in-process lock alone.
    #[tokio::test]
    async fn an_upload_held_by_one_node_is_refused_to_another_until_released() {
        if std::env::var("SPACEDAV_TEST_POSTGRES").is_err() {
            return;
        }
        let (store, _alice, _dir) = crate::spaces::locks::tests::fixture().await;
        let upload = Uuid::new_v4();
        let held = store.hold_upload(upload, false).await.unwrap();
        let held = held.expect("a free upload is granted");
        let other = store.hold_upload(upload, false).await.unwrap();
        assert!(other.is_none(), "held elsewhere: refused at once");
        held.release().await;
        let again = store.hold_upload(upload, false).await.unwrap();
        assert!(again.is_some());
    }
}
