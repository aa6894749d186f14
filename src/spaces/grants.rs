//! The built-in OpenID Connect provider's state (migration 0004): provider sessions,
//! authorization codes, grants and their refresh tokens. The one place that reads and writes
//! them. Secrets arrive already hashed (hex SHA-256); nothing here can recover a token.
//!
//! Single use is enforced by the database, not by a process: a code or refresh token is marked
//! used inside the write transaction that reads it, so two processes racing on the same value
//! see one success and one reuse, and a reuse revokes the grant (OAuth 2.1 §4.1.3, §4.3.1).

use sqlx::Row;
use uuid::Uuid;

use super::Store;
use super::db::{DbConn, DbRow, uuid};
use super::error::StoreResult;
use super::ids::UserId;

/// An authorization code as issued (everything the token endpoint must check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    /// Hex SHA-256 of the code.
    pub code_hash: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The `redirect_uri` of the authorization request.
    pub redirect_uri: String,
    /// The signed-in user.
    pub user: UserId,
    /// Granted scope (space-separated).
    pub scope: String,
    /// `nonce` of the authorization request, echoed in the id token.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// When the user signed in (unix s).
    pub auth_time: i64,
    /// Expiry (unix s).
    pub expires_at: i64,
}

/// A grant: one client's sign-in of one user, holding the refresh tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    /// Grant id.
    pub id: Uuid,
    /// The user.
    pub user: UserId,
    /// The client.
    pub client_id: String,
    /// Granted scope.
    pub scope: String,
    /// `nonce` of the original request.
    pub nonce: Option<String>,
    /// When the user signed in (unix s).
    pub auth_time: i64,
}

/// What presenting an authorization code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// First use: the code is now spent and grant `GrantRecord::id` was created from it.
    Fresh(Box<(CodeRecord, GrantRecord)>),
    /// Spent before: the grant made from it is revoked now.
    Reused,
    /// No such code.
    Unknown,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// Valid: it is spent now and the new token stored in the same grant.
    Rotated(GrantRecord),
    /// Spent before: the whole grant is revoked now.
    Reused,
    /// Unknown, expired, or its grant was revoked.
    Refused,
}

const GRANT_COLS: &str = "id, user_id, client_id, scope, nonce, auth_time";

fn grant_from_row(row: &DbRow) -> StoreResult<GrantRecord> {
    Ok(GrantRecord {
        id: uuid(row.try_get("id")?)?,
        user: UserId(uuid(row.try_get("user_id")?)?),
        client_id: row.try_get("client_id")?,
        scope: row.try_get("scope")?,
        nonce: row.try_get("nonce")?,
        auth_time: row.try_get("auth_time")?,
    })
}

async fn revoke(conn: &mut DbConn, grant: &str, now: i64) -> StoreResult<()> {
    sqlx::query("UPDATE oidc_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(grant)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    /// Record a provider session (a browser signed in) until `expires_at`.
    pub async fn insert_oidc_session(
        &self,
        id_hash: &str,
        user: UserId,
        auth_time: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oidc_sessions (id_hash, user_id, auth_time, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id_hash)
        .bind(user.to_string())
        .bind(auth_time)
        .bind(expires_at)
        .execute(&self.db)
        .await?;
        self.durable().await
    }

    /// The user and sign-in time of a live provider session.
    pub async fn oidc_session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> StoreResult<Option<(UserId, i64)>> {
        let row = sqlx::query(
            "SELECT user_id, auth_time FROM oidc_sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.db)
        .await?;
        row.map(|r| {
            Ok((
                UserId(uuid(r.try_get("user_id")?)?),
                r.try_get::<i64, _>("auth_time")?,
            ))
        })
        .transpose()
    }

    /// End a provider session (sign-out).
    pub async fn delete_oidc_session(&self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM oidc_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.db)
            .await?;
        self.durable().await
    }

    /// Store a freshly issued authorization code.
    pub async fn insert_code(&self, c: &CodeRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oidc_codes (code_hash, client_id, redirect_uri, user_id, scope, nonce, \
             code_challenge, auth_time, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        )
        .bind(&c.code_hash)
        .bind(&c.client_id)
        .bind(&c.redirect_uri)
        .bind(c.user.to_string())
        .bind(&c.scope)
        .bind(&c.nonce)
        .bind(&c.code_challenge)
        .bind(c.auth_time)
        .bind(c.expires_at)
        .execute(&self.db)
        .await?;
        self.durable().await
    }

    /// Spend an authorization code: on first use create its grant (the caller still checks
    /// client, redirect URI, PKCE and expiry, and revokes the grant if any check fails); on a
    /// second use revoke the grant made from it.
    pub async fn redeem_code(&self, code_hash: &str, now: i64) -> StoreResult<CodeRedemption> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT client_id, redirect_uri, user_id, scope, nonce, code_challenge, auth_time, \
             expires_at, used_at, grant_id FROM oidc_codes WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(CodeRedemption::Unknown);
        };
        if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
            if let Some(grant) = row.try_get::<Option<String>, _>("grant_id")? {
                revoke(&mut tx, &grant, now).await?;
            }
            tx.commit().await?;
            self.durable().await?;
            return Ok(CodeRedemption::Reused);
        }
        let code = CodeRecord {
            code_hash: code_hash.to_string(),
            client_id: row.try_get("client_id")?,
            redirect_uri: row.try_get("redirect_uri")?,
            user: UserId(uuid(row.try_get("user_id")?)?),
            scope: row.try_get("scope")?,
            nonce: row.try_get("nonce")?,
            code_challenge: row.try_get("code_challenge")?,
            auth_time: row.try_get("auth_time")?,
            expires_at: row.try_get("expires_at")?,
        };
        let grant = GrantRecord {
            id: Uuid::new_v4(),
            user: code.user,
            client_id: code.client_id.clone(),
            scope: code.scope.clone(),
            nonce: code.nonce.clone(),
            auth_time: code.auth_time,
        };
        sqlx::query("UPDATE oidc_codes SET used_at = $1, grant_id = $2 WHERE code_hash = $3")
            .bind(now)
            .bind(grant.id.to_string())
            .bind(code_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO oidc_grants (id, user_id, client_id, scope, nonce, auth_time, \
             created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
        )
        .bind(grant.id.to_string())
        .bind(grant.user.to_string())
        .bind(&grant.client_id)
        .bind(&grant.scope)
        .bind(&grant.nonce)
        .bind(grant.auth_time)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.durable().await?;
        Ok(CodeRedemption::Fresh(Box::new((code, grant))))
    }

    /// Revoke a grant: none of its refresh tokens is accepted any more.
    pub async fn revoke_grant(&self, grant: Uuid, now: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        revoke(&mut tx, &grant.to_string(), now).await?;
        tx.commit().await?;
        self.durable().await
    }

    /// Add a refresh token to a grant.
    pub async fn insert_refresh_token(
        &self,
        token_hash: &str,
        grant: Uuid,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oidc_refresh_tokens (token_hash, grant_id, expires_at) VALUES ($1,$2,$3)",
        )
        .bind(token_hash)
        .bind(grant.to_string())
        .bind(expires_at)
        .execute(&self.db)
        .await?;
        self.durable().await
    }

    /// Spend refresh token `old_hash` and store `new_hash` (valid until `new_expires_at`) in
    /// its grant, in one transaction. A token used before revokes its grant.
    pub async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        new_expires_at: i64,
    ) -> StoreResult<Rotation> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT t.expires_at AS t_expires, t.used_at AS t_used, g.revoked_at AS g_revoked, \
             g.id, g.user_id, g.client_id, g.scope, g.nonce, g.auth_time \
             FROM oidc_refresh_tokens t JOIN oidc_grants g ON g.id = t.grant_id \
             WHERE t.token_hash = $1",
        )
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Rotation::Refused);
        };
        let grant = grant_from_row(&row)?;
        if row.try_get::<Option<i64>, _>("t_used")?.is_some() {
            revoke(&mut tx, &grant.id.to_string(), now).await?;
            tx.commit().await?;
            self.durable().await?;
            return Ok(Rotation::Reused);
        }
        if row.try_get::<Option<i64>, _>("g_revoked")?.is_some()
            || row.try_get::<i64, _>("t_expires")? <= now
        {
            return Ok(Rotation::Refused);
        }
        sqlx::query("UPDATE oidc_refresh_tokens SET used_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(old_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO oidc_refresh_tokens (token_hash, grant_id, expires_at) VALUES ($1,$2,$3)",
        )
        .bind(new_hash)
        .bind(grant.id.to_string())
        .bind(new_expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.durable().await?;
        Ok(Rotation::Rotated(grant))
    }

    /// The grant with this id, unless revoked.
    pub async fn live_grant(&self, id: Uuid) -> StoreResult<Option<GrantRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {GRANT_COLS} FROM oidc_grants WHERE id = $1 AND revoked_at IS NULL"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.db)
        .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    /// Delete expired sessions, codes and refresh tokens, and grants with no live refresh
    /// token left. Returns how many rows went.
    pub async fn purge_oidc(&self, now: i64) -> StoreResult<u64> {
        // A grant is created a moment before its first refresh token; an hour's grace keeps
        // the sweep from taking one in between.
        let grace = now - 3600;
        let mut n = 0;
        for (sql, at) in [
            ("DELETE FROM oidc_sessions WHERE expires_at <= $1", now),
            ("DELETE FROM oidc_codes WHERE expires_at <= $1", now),
            (
                "DELETE FROM oidc_refresh_tokens WHERE expires_at <= $1",
                now,
            ),
            (
                "DELETE FROM oidc_grants WHERE created_at <= $1 AND NOT EXISTS \
                 (SELECT 1 FROM oidc_refresh_tokens t WHERE t.grant_id = oidc_grants.id)",
                grace,
            ),
        ] {
            n += sqlx::query(sql)
                .bind(at)
                .execute(&self.db)
                .await?
                .rows_affected();
        }
        Ok(n)
    }
}
