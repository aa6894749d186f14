//! Groups and effective roles. A user's role in a space is the highest of the role granted to
//! them directly (`members`) and the roles granted to any group they belong to
//! (`group_grants`); a disabled space grants no access to anyone until it is restored.
//! Per-user settings (ownCloud Web's language) live here too: they are account data.

use sqlx::Row;
use uuid::Uuid;

use super::Store;
use super::accounts::SPACE_COLS;
use super::db::{now_ns, space_from_row, user_from_row, uuid};
use super::error::{StoreError, StoreResult};
use super::ids::UserId;
use super::model::{Grantee, Group, Role, Space, User};

const GROUP_COLS: &str = "id, name, display_name";

fn group_from_row(row: &super::db::DbRow) -> StoreResult<Group> {
    Ok(Group {
        id: uuid(row.try_get("id")?)?,
        name: row.try_get("name")?,
        display_name: row.try_get("display_name")?,
    })
}

fn role_of(row: &super::db::DbRow) -> StoreResult<Role> {
    let role: String = row.try_get("role")?;
    Ok(parse_role(&role))
}

/// A stored role name; one this version does not know reads as the least role.
fn parse_role(name: &str) -> Role {
    Role::parse(name).unwrap_or(Role::Viewer)
}

/// `%text%` for a case-insensitive `LIKE`, with the pattern characters of `text` escaped.
fn like_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Store {
    /// Create a group.
    pub async fn create_group(&self, name: &str, display_name: &str) -> StoreResult<Group> {
        let id = Uuid::new_v4();
        let display = if display_name.is_empty() {
            name
        } else {
            display_name
        };
        sqlx::query(
            "INSERT INTO groups (id, name, name_lower, display_name, created_at) \
             VALUES ($1,$2,$3,$4,$5)",
        )
        .bind(id.to_string())
        .bind(name)
        .bind(name.to_lowercase())
        .bind(display)
        .bind(now_ns())
        .execute(&self.db)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::NameTaken(name.to_string())
            }
            _ => e.into(),
        })?;
        self.durable().await?;
        self.group(id).await
    }

    /// Every group, by name; with `search`, only those whose name or display name contains it
    /// (case-insensitive).
    pub async fn groups(&self, search: Option<&str>) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query(&format!(
            "SELECT {GROUP_COLS} FROM groups WHERE $1 IS NULL \
             OR name_lower LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE $1 ESCAPE '\\' \
             ORDER BY name_lower"
        ))
        .bind(search.map(like_pattern))
        .fetch_all(&self.db)
        .await?;
        rows.iter().map(group_from_row).collect()
    }

    /// Users whose name, display name or e-mail contains `search` (case-insensitive), by name.
    pub async fn search_users(&self, search: &str) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(
            "SELECT id, name, display_name, email, password_hash, is_admin FROM users \
             WHERE name_lower LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE $1 ESCAPE '\\' \
             OR lower(coalesce(email, '')) LIKE $1 ESCAPE '\\' ORDER BY name_lower",
        )
        .bind(like_pattern(search))
        .fetch_all(&self.db)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The group with this id.
    pub async fn group(&self, id: Uuid) -> StoreResult<Group> {
        let row = sqlx::query(&format!("SELECT {GROUP_COLS} FROM groups WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        group_from_row(&row)
    }

    /// The group with this name (case-insensitive).
    pub async fn group_by_name(&self, name: &str) -> StoreResult<Group> {
        let row = sqlx::query(&format!(
            "SELECT {GROUP_COLS} FROM groups WHERE name_lower = $1"
        ))
        .bind(name.to_lowercase())
        .fetch_optional(&self.db)
        .await?
        .ok_or(StoreError::NotFound)?;
        group_from_row(&row)
    }

    /// Add (`true`) or remove (`false`) a user to or from a group.
    pub async fn set_group_member(
        &self,
        group: Uuid,
        user: UserId,
        member: bool,
    ) -> StoreResult<()> {
        self.group(group).await?;
        self.user(user).await?;
        let q = if member {
            "INSERT INTO group_members (group_id, user_id) VALUES ($1,$2) \
             ON CONFLICT (group_id, user_id) DO NOTHING"
        } else {
            "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2"
        };
        sqlx::query(q)
            .bind(group.to_string())
            .bind(user.to_string())
            .execute(&self.db)
            .await?;
        self.durable().await
    }

    /// The members of a group, by name.
    pub async fn group_members(&self, group: Uuid) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(
            "SELECT u.id, u.name, u.display_name, u.email, u.password_hash, u.is_admin \
             FROM users u JOIN group_members gm ON gm.user_id = u.id WHERE gm.group_id = $1 \
             ORDER BY u.name_lower",
        )
        .bind(group.to_string())
        .fetch_all(&self.db)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The groups a user belongs to, by name.
    pub async fn groups_of(&self, user: UserId) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query(
            "SELECT g.id, g.name, g.display_name FROM groups g \
             JOIN group_members gm ON gm.group_id = g.id WHERE gm.user_id = $1 \
             ORDER BY g.name_lower",
        )
        .bind(user.to_string())
        .fetch_all(&self.db)
        .await?;
        rows.iter().map(group_from_row).collect()
    }

    /// Grant (`Some`) or revoke (`None`) a group's role in a space.
    pub async fn set_group_grant(
        &self,
        space: Uuid,
        group: Uuid,
        role: Option<Role>,
    ) -> StoreResult<()> {
        self.space(space).await?;
        self.group(group).await?;
        match role {
            Some(role) => sqlx::query(
                "INSERT INTO group_grants (space_id, group_id, role) VALUES ($1,$2,$3) \
                 ON CONFLICT (space_id, group_id) DO UPDATE SET role = excluded.role",
            )
            .bind(space.to_string())
            .bind(group.to_string())
            .bind(role.as_str()),
            None => sqlx::query("DELETE FROM group_grants WHERE space_id = $1 AND group_id = $2")
                .bind(space.to_string())
                .bind(group.to_string()),
        }
        .execute(&self.db)
        .await?;
        self.durable().await
    }

    /// The spaces a user may see, with their effective role (directly or through a group).
    /// Disabled spaces are included; callers decide who sees them.
    pub async fn spaces_of(&self, user: UserId) -> StoreResult<Vec<(Space, Role)>> {
        let cols = SPACE_COLS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {cols}, m.role FROM spaces s JOIN members m ON m.space_id = s.id \
             WHERE m.user_id = $1 \
             UNION ALL SELECT {cols}, g.role FROM spaces s \
             JOIN group_grants g ON g.space_id = s.id \
             JOIN group_members gm ON gm.group_id = g.group_id WHERE gm.user_id = $1"
        ))
        .bind(user.to_string())
        .fetch_all(&self.db)
        .await?;
        let mut out: Vec<(Space, Role)> = Vec::new();
        for row in &rows {
            let space = space_from_row(self.storage_id, row)?;
            let role = role_of(row)?;
            match out.iter_mut().find(|(s, _)| s.id == space.id) {
                Some((_, r)) => *r = (*r).max(role),
                None => out.push((space, role)),
            }
        }
        out.sort_by(|(a, _), (b, _)| (a.kind.as_str(), &a.alias).cmp(&(b.kind.as_str(), &b.alias)));
        Ok(out)
    }

    /// The highest role granted to `user` in `space`, directly or through a group; with
    /// `enabled_only`, none in a disabled space. One query: WebDAV asks on every request.
    async fn effective_role(
        &self,
        space: Uuid,
        user: UserId,
        enabled_only: bool,
    ) -> StoreResult<Option<Role>> {
        effective_role_on(&self.db, space, user, enabled_only).await
    }

    /// A user's effective role in a space, whether or not it is disabled (`None`: no role).
    pub async fn granted_role(&self, space: Uuid, user: UserId) -> StoreResult<Option<Role>> {
        self.effective_role(space, user, false).await
    }

    /// A user's role for access to a space's content: the effective role, or `None` when the
    /// user has none or the space is disabled.
    pub async fn role(&self, space: Uuid, user: UserId) -> StoreResult<Option<Role>> {
        self.effective_role(space, user, true).await
    }

    /// A space with the user's role for access to its content (as [`Store::role`]), read in
    /// one statement: every WebDAV request needs both.
    pub async fn space_with_role(
        &self,
        space: Uuid,
        user: UserId,
    ) -> StoreResult<(Space, Option<Role>)> {
        let rows = sqlx::query(&format!(
            "SELECT {SPACE_COLS}, r.role FROM spaces LEFT JOIN ({GRANTED_ROLES}) r ON 1 = 1 \
             WHERE id = $1"
        ))
        .bind(space.to_string())
        .bind(user.to_string())
        .fetch_all(&self.db)
        .await?;
        let first = rows.first().ok_or(StoreError::NotFound)?;
        let space = space_from_row(self.storage_id, first)?;
        let best = best_role(&rows)?;
        let role = best.filter(|_| !space.disabled);
        Ok((space, role))
    }

    /// The users granted a role in a space directly, by name (group grants not expanded).
    pub async fn members(&self, space: Uuid) -> StoreResult<Vec<(User, Role)>> {
        let rows = sqlx::query(
            "SELECT u.id, u.name, u.display_name, u.email, u.password_hash, u.is_admin, m.role \
             FROM users u JOIN members m ON m.user_id = u.id WHERE m.space_id = $1 \
             ORDER BY u.name_lower",
        )
        .bind(space.to_string())
        .fetch_all(&self.db)
        .await?;
        rows.iter()
            .map(|r| Ok((user_from_row(r)?, role_of(r)?)))
            .collect()
    }

    /// Everyone granted a role in a space: users directly, then groups, each by name.
    pub async fn grantees(&self, space: Uuid) -> StoreResult<Vec<(Grantee, Role)>> {
        let mut out: Vec<(Grantee, Role)> = self
            .members(space)
            .await?
            .into_iter()
            .map(|(u, r)| (Grantee::User(u), r))
            .collect();
        let rows = sqlx::query(
            "SELECT g.id, g.name, g.display_name, gg.role FROM groups g \
             JOIN group_grants gg ON gg.group_id = g.id WHERE gg.space_id = $1 \
             ORDER BY g.name_lower",
        )
        .bind(space.to_string())
        .fetch_all(&self.db)
        .await?;
        for r in &rows {
            out.push((Grantee::Group(group_from_row(r)?), role_of(r)?));
        }
        Ok(out)
    }

    /// A user's setting `name`, if set.
    pub async fn user_setting(&self, user: UserId, name: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM user_settings WHERE user_id = $1 AND name = $2")
                .bind(user.to_string())
                .bind(name)
                .fetch_optional(&self.db)
                .await?,
        )
    }

    /// Set a user's setting `name`.
    pub async fn set_user_setting(&self, user: UserId, name: &str, value: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO user_settings (user_id, name, value) VALUES ($1,$2,$3) \
             ON CONFLICT (user_id, name) DO UPDATE SET value = excluded.value",
        )
        .bind(user.to_string())
        .bind(name)
        .bind(value)
        .execute(&self.db)
        .await?;
        self.durable().await
    }
}

/// [`Store::role`]'s query on any executor (the pool, or an open transaction: an upload's
/// commit re-checks its creator's role inside it, `upload_grant`).
pub(crate) async fn effective_role_on<'e, E>(
    ex: E,
    space: Uuid,
    user: UserId,
    enabled_only: bool,
) -> StoreResult<Option<Role>>
where
    E: sqlx::Executor<'e, Database = super::db::Db>,
{
    let rows = sqlx::query(&format!(
        "SELECT r.role FROM ({GRANTED_ROLES}) r JOIN spaces s ON s.id = $1 \
         WHERE $3 = 0 OR s.disabled_at IS NULL"
    ))
    .bind(space.to_string())
    .bind(user.to_string())
    .bind(i64::from(enabled_only))
    .fetch_all(ex)
    .await?;
    best_role(&rows)
}

/// The roles granted to user `$2` in space `$1`: directly, and through each of their groups.
const GRANTED_ROLES: &str = "SELECT m.role FROM members m WHERE m.space_id = $1 AND m.user_id = $2 \
     UNION ALL SELECT g.role FROM group_grants g JOIN group_members gm ON gm.group_id = g.group_id \
     WHERE g.space_id = $1 AND gm.user_id = $2";

/// The highest of the roles in the rows' `role` column (`None`: no row, or only NULLs).
fn best_role(rows: &[super::db::DbRow]) -> StoreResult<Option<Role>> {
    let mut best = None;
    for row in rows {
        let role: Option<String> = row.try_get("role")?;
        best = best.max(role.as_deref().map(parse_role));
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("Al"), "%al%");
        assert_eq!(like_pattern("50%_x\\"), "%50\\%\\_x\\\\%");
    }
}
