//! App tokens (migration 0004, table `app_tokens`): passwords for Basic auth that a user creates
//! for one client and can revoke, as oCIS's auth-app service offers. Stored as hex SHA-256 of a
//! 256-bit random value: a fast hash suffices for a secret that cannot be guessed, and it keeps
//! Basic auth with an app token free of argon2.

use sqlx::Row;
use uuid::Uuid;

use super::Store;
use super::db::{DbRow, uuid};
use super::error::StoreResult;
use super::ids::UserId;

/// One app token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppToken {
    /// Id (what listing shows and deleting may name).
    pub id: Uuid,
    /// Owner.
    pub user: UserId,
    /// Hex SHA-256 of the secret.
    pub token_hash: String,
    /// What the user called it.
    pub label: String,
    /// Creation (unix s).
    pub created_at: i64,
    /// Expiry (unix s).
    pub expires_at: i64,
}

const COLS: &str = "id, user_id, token_hash, label, created_at, expires_at";

fn from_row(row: &DbRow) -> StoreResult<AppToken> {
    Ok(AppToken {
        id: uuid(row.try_get("id")?)?,
        user: UserId(uuid(row.try_get("user_id")?)?),
        token_hash: row.try_get("token_hash")?,
        label: row.try_get("label")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

impl Store {
    /// Store a new app token.
    pub async fn insert_app_token(&self, t: &AppToken) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO app_tokens ({COLS}) VALUES ($1,$2,$3,$4,$5,$6)"
        ))
        .bind(t.id.to_string())
        .bind(t.user.to_string())
        .bind(&t.token_hash)
        .bind(&t.label)
        .bind(t.created_at)
        .bind(t.expires_at)
        .execute(&self.db)
        .await?;
        self.durable().await
    }

    /// The user's unexpired app tokens, newest first.
    pub async fn app_tokens(&self, user: UserId, now: i64) -> StoreResult<Vec<AppToken>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM app_tokens WHERE user_id = $1 AND expires_at > $2 \
             ORDER BY created_at DESC, id"
        ))
        .bind(user.to_string())
        .bind(now)
        .fetch_all(&self.db)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Whether `token_hash` is a live app token of `user`.
    pub async fn app_token_valid(
        &self,
        user: UserId,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM app_tokens WHERE user_id = $1 AND token_hash = $2 \
             AND expires_at > $3",
        )
        .bind(user.to_string())
        .bind(token_hash)
        .bind(now)
        .fetch_one(&self.db)
        .await?;
        Ok(n > 0)
    }

    /// Revoke the app token of `user` with this id or secret hash; whether one was removed.
    pub async fn delete_app_token(&self, user: UserId, id_or_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM app_tokens WHERE user_id = $1 AND (id = $2 OR token_hash = $2)",
        )
        .bind(user.to_string())
        .bind(id_or_hash)
        .execute(&self.db)
        .await?;
        if done.rows_affected() > 0 {
            self.durable().await?;
        }
        Ok(done.rows_affected() > 0)
    }

    /// Delete expired app tokens; how many went.
    pub async fn purge_app_tokens(&self, now: i64) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM app_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.db)
            .await?
            .rows_affected())
    }
}
