//! Upload sessions in the metadata database (table `uploads`, migration 0002): the one place
//! that reads and writes them. The offset only moves by compare-and-set on `version`, so a slow
//! or duplicate request can never move an upload backwards or fork it (DESIGN.md).

use sqlx::Row;

use crate::spaces::{DbPool, DbRow};
use uuid::Uuid;

use crate::spaces::{Algorithm, Mtime, NodeId, Role, SpacePath, Store, StoreError, UserId};

/// Whether an upload is part of a concatenation (tus concatenation extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConcatRole {
    /// A plain upload.
    None,
    /// `Upload-Concat: partial`: bytes only, never a file by itself.
    Partial,
    /// `Upload-Concat: final`: assembled from these partial uploads.
    Final(Vec<Uuid>),
}

/// One upload session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Session id (also the quota reservation id).
    pub id: Uuid,
    /// Space uuid.
    pub space: Uuid,
    /// Staging blob key.
    pub blob: String,
    /// Expiry, unix ns.
    pub expires_at: i64,
    /// Compare-and-set counter.
    pub version: i64,
    /// Whether the file was committed.
    pub done: bool,
    /// Creation time, unix ns.
    pub created_at: i64,
    /// Creator.
    pub created_by: Option<UserId>,
    /// The creator's role in the space at creation.
    pub role: Option<Role>,
    /// Target path in the space; `None` for a partial upload.
    pub target: Option<SpacePath>,
    /// `Upload-Length`; `None` while deferred.
    pub length: Option<u64>,
    /// Bytes received and durable.
    pub offset: u64,
    /// `Upload-Metadata` as sent.
    pub metadata: String,
    /// Content type from the metadata.
    pub content_type: Option<String>,
    /// mtime from the metadata.
    pub mtime: Option<Mtime>,
    /// Whole-file checksum from the metadata.
    pub checksum: Option<(Algorithm, String)>,
    /// Quota bytes reserved.
    pub reserved: u64,
    /// Etag the target had at creation when `If-Match` was given.
    pub if_match: Option<String>,
    /// Concatenation role.
    pub concat: ConcatRole,
    /// The committed node, once done.
    pub node: Option<NodeId>,
}

impl Session {
    /// Whether every byte has arrived.
    pub fn is_complete(&self) -> bool {
        self.length == Some(self.offset)
    }

    /// Whether the whole-file hasher must also compute SHA-256.
    pub fn wants_sha256(&self) -> bool {
        matches!(self.checksum, Some((Algorithm::Sha256, _)))
    }

    /// Expiry in unix seconds (`Upload-Expires`).
    pub fn expires_secs(&self) -> i64 {
        self.expires_at.div_euclid(1_000_000_000)
    }
}

const COLS: &str = "id, space_id, blob, expires_at, version, state, created_at, created_by, role, \
    target_path, upload_length, upload_offset, metadata, content_type, mtime, checksum, reserved, \
    if_match, concat, parts, node_id";

fn uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))
}

fn from_row(row: &DbRow) -> Result<Session, StoreError> {
    let opt_uuid = |col: &str| -> Result<Option<Uuid>, StoreError> {
        row.try_get::<Option<String>, _>(col)?
            .as_deref()
            .map(uuid)
            .transpose()
    };
    let concat = match row.try_get::<Option<String>, _>("concat")?.as_deref() {
        Some("partial") => ConcatRole::Partial,
        Some("final") => ConcatRole::Final(
            row.try_get::<Option<String>, _>("parts")?
                .unwrap_or_default()
                .split_ascii_whitespace()
                .map(uuid)
                .collect::<Result<_, _>>()?,
        ),
        _ => ConcatRole::None,
    };
    let target: Option<String> = row.try_get("target_path")?;
    Ok(Session {
        id: uuid(row.try_get("id")?)?,
        space: uuid(row.try_get("space_id")?)?,
        blob: row.try_get("blob")?,
        expires_at: row.try_get("expires_at")?,
        version: row.try_get("version")?,
        done: row.try_get::<String, _>("state")? == "done",
        created_at: row.try_get("created_at")?,
        created_by: opt_uuid("created_by")?.map(UserId),
        role: row
            .try_get::<Option<String>, _>("role")?
            .as_deref()
            .and_then(Role::parse),
        target: target
            .as_deref()
            .map(SpacePath::parse)
            .transpose()
            .map_err(StoreError::InvalidPath)?,
        length: row
            .try_get::<Option<i64>, _>("upload_length")?
            .map(|l| l as u64),
        offset: row.try_get::<i64, _>("upload_offset")? as u64,
        metadata: row.try_get("metadata")?,
        content_type: row.try_get("content_type")?,
        mtime: row.try_get::<Option<i64>, _>("mtime")?.map(Mtime),
        checksum: row
            .try_get::<Option<String>, _>("checksum")?
            .as_deref()
            .and_then(super::metadata::parse_checksum),
        reserved: row.try_get::<i64, _>("reserved")? as u64,
        if_match: row.try_get("if_match")?,
        concat,
        node: opt_uuid("node_id")?.map(NodeId),
    })
}

/// The session table. Every change is durable before the call returns (the store's group
/// commit), because clients are told about it right after.
#[derive(Clone)]
pub struct Sessions {
    store: Store,
}

impl Sessions {
    /// Sessions in the metadata database of `store`.
    pub fn new(store: Store) -> Self {
        Sessions { store }
    }

    fn db(&self) -> &DbPool {
        self.store.db()
    }

    /// Store a new session.
    pub async fn insert(&self, s: &Session) -> Result<(), StoreError> {
        let (concat, parts) = match &s.concat {
            ConcatRole::None => (None, None),
            ConcatRole::Partial => (Some("partial"), None),
            ConcatRole::Final(p) => (
                Some("final"),
                Some(p.iter().map(Uuid::to_string).collect::<Vec<_>>().join(" ")),
            ),
        };
        sqlx::query(&format!(
            "INSERT INTO uploads ({COLS}) VALUES \
             ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)"
        ))
        .bind(s.id.to_string())
        .bind(s.space.to_string())
        .bind(&s.blob)
        .bind(s.expires_at)
        .bind(s.version)
        .bind(if s.done { "done" } else { "open" })
        .bind(s.created_at)
        .bind(s.created_by.map(|u| u.0.to_string()))
        .bind(s.role.map(|r| r.as_str()))
        .bind(s.target.as_ref().map(ToString::to_string))
        .bind(s.length.map(|l| l as i64))
        .bind(s.offset as i64)
        .bind(&s.metadata)
        .bind(&s.content_type)
        .bind(s.mtime.map(|m| m.0))
        .bind(
            s.checksum
                .as_ref()
                .map(|(a, h)| format!("{} {h}", a.oc_name())),
        )
        .bind(s.reserved as i64)
        .bind(&s.if_match)
        .bind(concat)
        .bind(parts)
        .bind(s.node.map(|n| n.0.to_string()))
        .execute(self.db())
        .await?;
        self.store.durable().await
    }

    /// The session with this id.
    pub async fn get(&self, id: Uuid) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM uploads WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.db())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every session, oldest first.
    pub async fn all(&self) -> Result<Vec<Session>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM uploads ORDER BY created_at"))
            .fetch_all(self.db())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Sessions whose expiry is at or before `now` (unix ns).
    pub async fn expired(&self, now: i64) -> Result<Vec<Session>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM uploads WHERE expires_at <= $1"
        ))
        .bind(now)
        .fetch_all(self.db())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Compare-and-set the offset (and, for a deferred upload, the length). Returns whether
    /// `version` was still current; the session's `version` is bumped on success.
    pub async fn advance(
        &self,
        s: &mut Session,
        offset: u64,
        length: Option<u64>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE uploads SET upload_offset = $1, upload_length = $2, version = version + 1 \
             WHERE id = $3 AND version = $4 AND state = 'open'",
        )
        .bind(offset as i64)
        .bind(length.map(|l| l as i64))
        .bind(s.id.to_string())
        .bind(s.version)
        .execute(self.db())
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.store.durable().await?;
        s.offset = offset;
        s.length = length;
        s.version += 1;
        Ok(true)
    }

    /// Record the reservation made for a length that was deferred until now.
    pub async fn set_reserved(&self, id: Uuid, bytes: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE uploads SET reserved = $1 WHERE id = $2")
            .bind(bytes as i64)
            .bind(id.to_string())
            .execute(self.db())
            .await?;
        self.store.durable().await
    }

    /// Mark the session finished: its blob now belongs to `node`.
    pub async fn mark_done(&self, id: Uuid, node: NodeId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE uploads SET state = 'done', node_id = $1, reserved = 0, \
             version = version + 1 WHERE id = $2",
        )
        .bind(node.0.to_string())
        .bind(id.to_string())
        .execute(self.db())
        .await?;
        self.store.durable().await
    }

    /// Remove the row.
    pub async fn delete(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(id.to_string())
            .execute(self.db())
            .await?;
        self.store.durable().await
    }

    /// Whether a node or a version points at `blob` (then it must never be deleted here).
    pub async fn blob_in_use(&self, blob: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM nodes WHERE blob = $1) + \
             (SELECT COUNT(*) FROM versions WHERE blob = $1)",
        )
        .bind(blob)
        .fetch_one(self.db())
        .await?;
        Ok(n > 0)
    }
}
