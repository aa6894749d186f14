//! Users, spaces and memberships. A user comes with a personal space (same uuid) whose root
//! folder has the space's uuid too; project spaces are created by admins.

use uuid::Uuid;

use super::Store;
use super::db::{self, DbConn, now_ns, space_from_row, user_from_row};
use super::error::{StoreError, StoreResult};
use super::ids::UserId;
use super::model::{NewSpace, NewUser, Role, Space, SpaceKind, User};

const USER_COLS: &str = "id, name, display_name, email, password_hash, is_admin";
pub(super) const SPACE_COLS: &str =
    "id, kind, name, alias, owner_id, quota, description, disabled_at";

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Turn a display name into the slug of `project/<slug>`.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "space".into() } else { s }
}

async fn insert_space(
    conn: &mut DbConn,
    id: Uuid,
    kind: SpaceKind,
    name: &str,
    alias: &str,
    owner: UserId,
    quota: Option<u64>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO spaces (id, kind, name, alias, owner_id, quota, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7)",
    )
    .bind(id.to_string())
    .bind(kind.as_str())
    .bind(name)
    .bind(alias)
    .bind(owner.to_string())
    .bind(quota.map(|q| q as i64))
    .bind(now_ns())
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::NameTaken(alias.to_string())
        } else {
            e.into()
        }
    })?;
    db::insert_folder(conn, super::NodeId(id), id, None, "", now_ns()).await?;
    set_member_in(conn, id, owner, Some(Role::Manager)).await
}

async fn set_member_in(
    conn: &mut DbConn,
    space: Uuid,
    user: UserId,
    role: Option<Role>,
) -> StoreResult<()> {
    match role {
        Some(role) => sqlx::query(
            "INSERT INTO members (space_id, user_id, role) VALUES ($1,$2,$3) \
             ON CONFLICT (space_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(space.to_string())
        .bind(user.to_string())
        .bind(role.as_str()),
        None => sqlx::query("DELETE FROM members WHERE space_id = $1 AND user_id = $2")
            .bind(space.to_string())
            .bind(user.to_string()),
    }
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Create a user and their personal space.
    pub async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        let id = UserId(Uuid::new_v4());
        let display = if new.display_name.is_empty() {
            new.name.clone()
        } else {
            new.display_name.clone()
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (id, name, name_lower, display_name, email, password_hash, \
             is_admin, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        )
        .bind(id.to_string())
        .bind(&new.name)
        .bind(new.name.to_lowercase())
        .bind(&display)
        .bind(&new.email)
        .bind(&new.password_hash)
        .bind(new.is_admin as i64)
        .bind(now_ns())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::NameTaken(new.name.clone())
            } else {
                e.into()
            }
        })?;
        let alias = format!("personal/{}", new.name.to_lowercase());
        insert_space(
            &mut tx,
            id.0,
            SpaceKind::Personal,
            &display,
            &alias,
            id,
            None,
        )
        .await?;
        tx.commit().await?;
        self.durable().await?;
        self.user(id).await
    }

    /// All users, by name.
    pub async fn users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users ORDER BY name_lower"
        ))
        .fetch_all(&self.db)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The user with this id.
    pub async fn user(&self, id: UserId) -> StoreResult<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    }

    /// The user with this login name (case-insensitive).
    pub async fn user_by_name(&self, name: &str) -> StoreResult<User> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users WHERE name_lower = $1"
        ))
        .bind(name.to_lowercase())
        .fetch_optional(&self.db)
        .await?
        .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    }

    /// Replace a user's password hash.
    pub async fn set_password(&self, id: UserId, password_hash: &str) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.to_string())
            .execute(&self.db)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Remove a user, their personal space with its content, and their memberships.
    pub async fn remove_user(&self, id: UserId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // The root row cascades to the whole tree; the space row to members and reservations.
        sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM spaces WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        self.durable().await?;
        Ok(())
    }

    /// Create a project space; its creator becomes a manager.
    pub async fn create_project_space(&self, new: NewSpace) -> StoreResult<Space> {
        let id = Uuid::new_v4();
        let alias = format!(
            "project/{}",
            slug(new.alias.as_deref().unwrap_or(&new.name))
        );
        let mut tx = self.begin_write().await?;
        insert_space(
            &mut tx,
            id,
            SpaceKind::Project,
            &new.name,
            &alias,
            new.owner,
            new.quota,
        )
        .await?;
        tx.commit().await?;
        self.durable().await?;
        self.space(id).await
    }

    /// Every space.
    pub async fn spaces(&self) -> StoreResult<Vec<Space>> {
        let rows = sqlx::query(&format!("SELECT {SPACE_COLS} FROM spaces ORDER BY alias"))
            .fetch_all(&self.db)
            .await?;
        rows.iter()
            .map(|r| space_from_row(self.storage_id, r))
            .collect()
    }

    /// The space with this uuid.
    pub async fn space(&self, id: Uuid) -> StoreResult<Space> {
        let row = sqlx::query(&format!("SELECT {SPACE_COLS} FROM spaces WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        space_from_row(self.storage_id, &row)
    }

    /// Add, change (`Some`) or remove (`None`) a member.
    pub async fn set_member(
        &self,
        space: Uuid,
        user: UserId,
        role: Option<Role>,
    ) -> StoreResult<()> {
        self.space(space).await?;
        let mut conn = self.db.acquire().await?;
        set_member_in(&mut conn, space, user, role).await
    }

    /// Set a space's quota (`None` = unlimited).
    pub async fn set_quota(&self, space: Uuid, quota: Option<u64>) -> StoreResult<()> {
        let done = sqlx::query("UPDATE spaces SET quota = $1 WHERE id = $2")
            .bind(quota.map(|q| q as i64))
            .bind(space.to_string())
            .execute(&self.db)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
