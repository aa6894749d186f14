//! Quota: usage (the root folder's subtree size), limits, and the reservations open uploads
//! hold so that concurrent uploads cannot together overrun a space.

use sqlx::Row;

use uuid::Uuid;

use super::Store;
use super::db::{DbConn, now_ns};
use super::error::{StoreError, StoreResult};
use super::model::Quota;

/// Usage, limit and open reservations (other than `except`) of a space, in one statement.
pub(crate) async fn quota_in(
    conn: &mut DbConn,
    space: Uuid,
    except: Option<&str>,
) -> StoreResult<Quota> {
    let row = sqlx::query(
        "SELECT s.quota, n.size, (SELECT CAST(SUM(r.bytes) AS BIGINT) FROM reservations r \
             WHERE r.space_id = s.id AND r.expires_at > $2 AND r.id <> $3) \
         FROM spaces s JOIN nodes n ON n.id = s.id WHERE s.id = $1",
    )
    .bind(space.to_string())
    .bind(now_ns())
    .bind(except.unwrap_or(""))
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let total: Option<i64> = row.try_get(0)?;
    let used: i64 = row.try_get(1)?;
    let reserved: Option<i64> = row.try_get(2)?;
    Ok(Quota {
        used: used.max(0) as u64,
        total: total.map(|t| t.max(0) as u64),
        reserved: reserved.unwrap_or(0).max(0) as u64,
    })
}

pub(crate) async fn check_quota(
    conn: &mut DbConn,
    space: Uuid,
    growth: i64,
    except: Option<&str>,
) -> StoreResult<()> {
    if growth > 0 && !quota_in(conn, space, except).await?.fits(growth as u64) {
        return Err(StoreError::QuotaExceeded);
    }
    Ok(())
}

impl Store {
    /// Usage, limit and reservations of a space.
    pub async fn quota(&self, space: Uuid) -> StoreResult<Quota> {
        let mut conn = self.db.acquire().await?;
        quota_in(&mut conn, space, None).await
    }

    /// Reserve `bytes` of the space's quota under `id` until `expires_at` (unix ns), or fail
    /// with `QuotaExceeded` when they do not fit beside the usage and open reservations.
    pub async fn reserve(
        &self,
        space: Uuid,
        id: &str,
        bytes: u64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write_in(&[space]).await?;
        if !quota_in(&mut tx, space, Some(id)).await?.fits(bytes) {
            return Err(StoreError::QuotaExceeded);
        }
        sqlx::query(
            "INSERT INTO reservations (id, space_id, bytes, expires_at) VALUES ($1,$2,$3,$4) \
             ON CONFLICT (id) DO UPDATE SET bytes = excluded.bytes, expires_at = excluded.expires_at",
        )
        .bind(id)
        .bind(space.to_string())
        .bind(bytes as i64)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.durable().await?;
        Ok(())
    }

    /// Release a reservation (missing is fine).
    pub async fn release(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM reservations WHERE id = $1")
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
