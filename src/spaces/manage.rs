//! Changing a space as a whole, as Graph's drive management does: name and description,
//! disabling (content becomes unreachable, the space stays), restoring, and purging a disabled
//! space with everything in it.

use uuid::Uuid;

use super::Store;
use super::error::{StoreError, StoreResult};

impl Store {
    /// Set a space's display name and/or description (`Some("")` clears the description).
    pub async fn update_space(
        &self,
        space: Uuid,
        name: Option<&str>,
        description: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE spaces SET name = coalesce($1, name), \
             description = CASE WHEN $2 IS NULL THEN description \
                                WHEN $2 = '' THEN NULL ELSE $2 END WHERE id = $3",
        )
        .bind(name)
        .bind(description)
        .bind(space.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        self.durable().await
    }

    /// Disable (`true`) or restore (`false`) a space.
    pub async fn set_space_disabled(&self, space: Uuid, disabled: bool) -> StoreResult<()> {
        let done = if disabled {
            sqlx::query("UPDATE spaces SET disabled_at = coalesce(disabled_at, $1) WHERE id = $2")
                .bind(super::db::now_ns())
                .bind(space.to_string())
                .execute(&self.db)
                .await?
        } else {
            sqlx::query("UPDATE spaces SET disabled_at = NULL WHERE id = $1")
                .bind(space.to_string())
                .execute(&self.db)
                .await?
        };
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.durable().await
    }

    /// Delete a disabled space with its whole tree, members and grants
    /// (`PreconditionFailed` while it is enabled; the blobs go to the next sweep).
    pub async fn purge_space(&self, space: Uuid) -> StoreResult<()> {
        if !self.space(space).await?.disabled {
            return Err(StoreError::PreconditionFailed);
        }
        let mut tx = self.begin_write().await?;
        // The root row cascades to the whole tree; the space row to members, grants,
        // reservations, uploads and locks.
        sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(space.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM spaces WHERE id = $1")
            .bind(space.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.durable().await
    }
}
