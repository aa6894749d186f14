//! Shares with users and groups, and public links (migration 0009): the one place that reads
//! and writes them. Link passwords arrive already hashed (argon2); tokens arrive generated.
//!
//! A share gives its grantee the OCS permission bits it carries on the shared node and
//! everything below it, but never more than its creator still holds there: a re-share or a
//! link narrows, and ends, with the access its sharer has today (their role in the space, else
//! what they received in turn). [`Store::received_permissions`] is what access checks ask;
//! [`Store::shares_received`] and [`Store::share_by_token`] answer with the bits a share
//! reaches now.

use std::collections::HashMap;

use futures::future::BoxFuture;
use sqlx::Row;
use uuid::Uuid;

use super::Store;
use super::db::{DbRow, now_ns, uuid};
use super::error::{StoreError, StoreResult};
use super::ids::{NodeId, UserId};
use super::model::Role;

/// The OCS permission bits of shares and links (defined here, below the protocols, because a
/// share's reach is computed here; `sharing::access` re-exports them).
pub mod share_bits {
    use super::Role;

    /// Read and list.
    pub const READ: u32 = 1;
    /// Change existing files.
    pub const UPDATE: u32 = 2;
    /// Create files and folders.
    pub const CREATE: u32 = 4;
    /// Delete.
    pub const DELETE: u32 = 8;
    /// Share further.
    pub const SHARE: u32 = 16;
    /// Everything.
    pub const ALL: u32 = 31;

    /// The bits a space role carries: managers may share, editors and viewers may not (as in
    /// oCIS project spaces; a personal space's owner is its manager).
    pub fn of_role(role: Role) -> u32 {
        match role {
            Role::Manager => ALL,
            Role::Editor => READ | UPDATE | CREATE | DELETE,
            Role::Viewer => READ,
        }
    }
}

/// How many re-shares deep a share's reach is followed back to a member of the space; a longer
/// chain (or a cycle) reaches nothing. Small, because each level may look at every share of
/// the item a recipient holds.
const RESHARE_DEPTH: u8 = 5;

/// What a share grants access to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareKind {
    /// One user (OCS share type 0).
    User,
    /// Every member of a group (OCS share type 1).
    Group,
    /// Anyone holding the token (OCS share type 3).
    Link,
}

impl ShareKind {
    fn as_str(self) -> &'static str {
        match self {
            ShareKind::User => "user",
            ShareKind::Group => "group",
            ShareKind::Link => "link",
        }
    }

    fn parse(s: &str) -> ShareKind {
        match s {
            "user" => ShareKind::User,
            "group" => ShareKind::Group,
            _ => ShareKind::Link,
        }
    }
}

/// A stored share or link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// Integer id (OCS).
    pub id: i64,
    /// Permission id (Graph).
    pub uid: Uuid,
    /// Kind.
    pub kind: ShareKind,
    /// The space of the shared node.
    pub space: Uuid,
    /// The shared node.
    pub node: NodeId,
    /// Who created it.
    pub created_by: UserId,
    /// The user or group id (`None` for links).
    pub grantee: Option<Uuid>,
    /// OCS permission bits.
    pub permissions: u32,
    /// The link token.
    pub token: Option<String>,
    /// The link's display name.
    pub name: Option<String>,
    /// The link password's argon2 hash.
    pub password_hash: Option<String>,
    /// Expiry (unix ns).
    pub expires_at: Option<i64>,
    /// Creation time (unix ns).
    pub created_at: i64,
}

impl Share {
    /// Whether the share has expired at `now` (unix ns).
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

/// What to create with [`Store::create_share`].
#[derive(Debug, Clone)]
pub struct NewShare {
    /// Kind.
    pub kind: ShareKind,
    /// The shared node.
    pub node: NodeId,
    /// Its space.
    pub space: Uuid,
    /// Who creates it.
    pub created_by: UserId,
    /// The user or group id (`None` for links).
    pub grantee: Option<Uuid>,
    /// OCS permission bits.
    pub permissions: u32,
    /// The link token.
    pub token: Option<String>,
    /// The link's display name.
    pub name: Option<String>,
    /// The link password's argon2 hash.
    pub password_hash: Option<String>,
    /// Expiry (unix ns).
    pub expires_at: Option<i64>,
}

/// A change to a share; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ShareUpdate {
    /// New permission bits.
    pub permissions: Option<u32>,
    /// New display name.
    pub name: Option<String>,
    /// New password hash (`Some(None)` removes the password).
    pub password_hash: Option<Option<String>>,
    /// New expiry (`Some(None)` removes it).
    pub expires_at: Option<Option<i64>>,
}

const COLS: &str = "id, uid, kind, space_id, node_id, created_by, grantee, permissions, token, \
     name, password_hash, expires_at, created_at";

fn share_from_row(row: &DbRow) -> StoreResult<Share> {
    let grantee: Option<String> = row.try_get("grantee")?;
    Ok(Share {
        id: row.try_get("id")?,
        uid: uuid(row.try_get("uid")?)?,
        kind: ShareKind::parse(row.try_get("kind")?),
        space: uuid(row.try_get("space_id")?)?,
        node: NodeId(uuid(row.try_get("node_id")?)?),
        created_by: UserId(uuid(row.try_get("created_by")?)?),
        grantee: grantee.as_deref().map(uuid).transpose()?,
        permissions: row.try_get::<i64, _>("permissions")?.clamp(0, 31) as u32,
        token: row.try_get("token")?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Store a new share; its integer id is one above the highest so far.
    pub async fn create_share(&self, new: NewShare) -> StoreResult<Share> {
        let mut tx = self.begin_write().await?;
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM shares")
            .fetch_one(&mut *tx)
            .await?;
        let id = max.unwrap_or(0) + 1;
        let uid = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO shares (id, uid, kind, space_id, node_id, created_by, grantee, \
             permissions, token, name, password_hash, expires_at, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
        )
        .bind(id)
        .bind(uid.to_string())
        .bind(new.kind.as_str())
        .bind(new.space.to_string())
        .bind(new.node.0.to_string())
        .bind(new.created_by.to_string())
        .bind(new.grantee.map(|g| g.to_string()))
        .bind(i64::from(new.permissions))
        .bind(new.token)
        .bind(new.name)
        .bind(new.password_hash)
        .bind(new.expires_at)
        .bind(now_ns())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.durable().await?;
        self.share(id).await
    }

    async fn shares_where(&self, cond: &str, arg: String) -> StoreResult<Vec<Share>> {
        // As oCIS lists and resolves only shares whose resource it can stat: a share or link on
        // a node in the trash (or below a trashed folder) is kept, and is back when the node is
        // restored, but is not found. `live` walks up from the shares' nodes and keeps those
        // whose chain of parents ends at their space root (a trashed top node has no parent
        // but is not a root).
        let sql = format!(
            "WITH RECURSIVE up(start, id, parent_id, space_id) AS ( \
               SELECT id, id, parent_id, space_id FROM nodes \
               WHERE id IN (SELECT node_id FROM shares WHERE {cond}) \
               UNION ALL \
               SELECT up.start, n.id, n.parent_id, n.space_id FROM up \
               JOIN nodes n ON n.id = up.parent_id), \
             live(id) AS (SELECT start FROM up WHERE parent_id IS NULL AND id = space_id) \
             SELECT {COLS} FROM shares WHERE ({cond}) AND node_id IN (SELECT id FROM live) \
             ORDER BY id"
        );
        let rows = sqlx::query(&sql).bind(arg).fetch_all(&self.db).await?;
        rows.iter().map(share_from_row).collect()
    }

    /// The share with this integer id.
    pub async fn share(&self, id: i64) -> StoreResult<Share> {
        let sql = format!("SELECT {COLS} FROM shares WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        share_from_row(&row)
    }

    /// The share with this Graph permission id.
    pub async fn share_by_uid(&self, uid: Uuid) -> StoreResult<Share> {
        self.shares_where("uid = $1", uid.to_string())
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// The link with this token, its bits narrowed to what its creator still holds on its
    /// node; `NotFound` when that is nothing.
    pub async fn share_by_token(&self, token: &str) -> StoreResult<Share> {
        let mut link = self
            .shares_where("token = $1", token.to_string())
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        link.permissions &= self.held(&link, 0, &mut HashMap::new()).await?;
        if link.permissions == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(link)
    }

    /// Every share and link on this node.
    pub async fn shares_on(&self, node: NodeId) -> StoreResult<Vec<Share>> {
        self.shares_where("node_id = $1", node.0.to_string()).await
    }

    /// Every share and link a user created.
    pub async fn shares_by(&self, user: UserId) -> StoreResult<Vec<Share>> {
        self.shares_where("created_by = $1", user.to_string()).await
    }

    /// The user and group shares a user receives (directly or through a group), each with
    /// the bits it reaches now; a share that reaches nothing (its sharer lost their access) is
    /// left out.
    pub async fn shares_received(&self, user: UserId) -> StoreResult<Vec<Share>> {
        self.received_within(user, 0).await
    }

    /// The user and group shares `user` receives, as stored (bits not narrowed).
    async fn received_as_stored(&self, user: UserId) -> StoreResult<Vec<Share>> {
        self.shares_where(
            "(kind = 'user' AND grantee = $1) OR (kind = 'group' AND grantee IN \
             (SELECT group_id FROM group_members WHERE user_id = $1))",
            user.to_string(),
        )
        .await
    }

    /// [`Store::shares_received`], `depth` re-shares away from the request.
    async fn received_within(&self, user: UserId, depth: u8) -> StoreResult<Vec<Share>> {
        let shares = self.received_as_stored(user).await?;
        let mut roles = HashMap::new();
        let mut out = Vec::with_capacity(shares.len());
        for mut s in shares {
            s.permissions &= self.held(&s, depth, &mut roles).await?;
            if s.permissions != 0 {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// What the creator of `share` holds on its node now: their role's bits in its space, else
    /// (as a recipient themselves) what they received there. `roles` remembers role lookups.
    async fn held(
        &self,
        share: &Share,
        depth: u8,
        roles: &mut HashMap<(UserId, Uuid), Option<Role>>,
    ) -> StoreResult<u32> {
        let key = (share.created_by, share.space);
        let role = match roles.get(&key) {
            Some(r) => *r,
            None => {
                let r = self.role(share.space, share.created_by).await?;
                roles.insert(key, r);
                r
            }
        };
        match role {
            Some(r) => Ok(share_bits::of_role(r)),
            None if depth < RESHARE_DEPTH => {
                self.permissions_within(share.created_by, share.node, depth + 1)
                    .await
            }
            None => Ok(0),
        }
    }

    /// The union of the permission bits the unexpired user and group shares on `node` or any
    /// of its ancestors give `user` now (0: none).
    pub async fn received_permissions(&self, user: UserId, node: NodeId) -> StoreResult<u32> {
        self.permissions_within(user, node, 0).await
    }

    /// [`Store::received_permissions`], `depth` re-shares away from the request. Only the
    /// shares on the node's chain of ancestors are narrowed (one role lookup each, usually).
    fn permissions_within(
        &self,
        user: UserId,
        node: NodeId,
        depth: u8,
    ) -> BoxFuture<'_, StoreResult<u32>> {
        Box::pin(async move {
            let now = self.clock.now_ns();
            let mut by_node: HashMap<NodeId, Vec<Share>> = HashMap::new();
            for s in self.received_as_stored(user).await? {
                if !s.expired(now) {
                    by_node.entry(s.node).or_default().push(s);
                }
            }
            if by_node.is_empty() {
                return Ok(0);
            }
            let mut roles = HashMap::new();
            let mut bits = 0;
            let mut cur = Some(node);
            while let Some(id) = cur {
                for s in by_node.get(&id).into_iter().flatten() {
                    bits |= s.permissions & self.held(s, depth, &mut roles).await?;
                }
                cur = match self.node(id).await {
                    Ok(n) => n.parent,
                    Err(StoreError::NotFound) => None,
                    Err(e) => return Err(e),
                };
            }
            Ok(bits)
        })
    }

    /// Apply `change` to share `id`.
    pub async fn update_share(&self, id: i64, change: ShareUpdate) -> StoreResult<Share> {
        let old = self.share(id).await?;
        let perms = change.permissions.unwrap_or(old.permissions);
        let name = change.name.or(old.name);
        let password = change.password_hash.unwrap_or(old.password_hash);
        let expires = change.expires_at.unwrap_or(old.expires_at);
        sqlx::query(
            "UPDATE shares SET permissions = $1, name = $2, password_hash = $3, expires_at = $4 \
             WHERE id = $5",
        )
        .bind(i64::from(perms))
        .bind(name)
        .bind(password)
        .bind(expires)
        .bind(id)
        .execute(&self.db)
        .await?;
        self.durable().await?;
        self.share(id).await
    }

    /// Delete share `id`; access through it ends with this call.
    pub async fn delete_share(&self, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM shares WHERE id = $1")
            .bind(id)
            .execute(&self.db)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.durable().await
    }
}
