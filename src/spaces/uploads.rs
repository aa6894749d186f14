//! Resumable upload sessions (table `uploads`, migrations 0001, 0002, 0014): the one place that
//! reads and writes them. The offset only moves by compare-and-set on `version`, so a slow or
//! duplicate request can never move an upload backwards or fork it (DESIGN.md). Every change
//! is durable before the call returns, because clients are told about it right after.
//!
//! A finished (`done`) session no longer owns its blob: the file does. It does not keep the
//! blob from being freed when the file is deleted ([`Store::blob_in_use`]).

use sqlx::Row;
use uuid::Uuid;

use super::Store;
use super::blob::{BlobKey, StagingState};
use super::checksum::Algorithm;
use super::db::{DbRow, uuid};
use super::error::{StoreError, StoreResult};
use super::ids::{NodeId, UploadId, UserId};
use super::lock_rules::LockHolder;
use super::model::{Mtime, Role};
use super::path::SpacePath;
use super::staging::Settling;
use super::tree::{Committed, LockCheck, NewContent, Precondition, commit_in};

/// Whether an upload is part of a concatenation (tus concatenation extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConcatRole {
    /// A plain upload.
    None,
    /// Bytes only, never a file by itself (`Upload-Concat: partial`).
    Partial,
    /// Assembled from these partial uploads (`Upload-Concat: final`).
    Final(Vec<UploadId>),
}

/// One upload session: bytes arriving in a staging blob, committed as a file once complete.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Session id (also the quota reservation id).
    pub id: UploadId,
    /// Space uuid.
    pub space: Uuid,
    /// Staging blob key (the file's blob key once sealed).
    pub blob: BlobKey,
    /// The blob store's record of the staged bytes, moved with the offset.
    pub staging: StagingState,
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
    /// Total length; `None` while deferred.
    pub length: Option<u64>,
    /// Bytes received and durable.
    pub offset: u64,
    /// The client's upload metadata as sent (tus `Upload-Metadata`).
    pub metadata: String,
    /// Content type from the metadata.
    pub content_type: Option<String>,
    /// mtime from the metadata.
    pub mtime: Option<Mtime>,
    /// Whole-file checksum from the metadata.
    pub checksum: Option<(Algorithm, String)>,
    /// Quota bytes reserved.
    pub reserved: u64,
    /// Etag the target had at creation when the client made the upload conditional on it.
    pub if_match: Option<String>,
    /// Concatenation role.
    pub concat: ConcatRole,
    /// The committed node, once done.
    pub node: Option<NodeId>,
    /// The link, share or membership the upload was created through (migration 0014).
    pub grant: super::upload_grant::UploadGrant,
}

impl Upload {
    /// Whether every byte has arrived.
    pub fn is_complete(&self) -> bool {
        self.length == Some(self.offset)
    }

    /// Whether reaching `offset` completes this upload into a file. That offset is recorded
    /// only by the commit itself ([`Store::commit_upload`]), never before it.
    pub fn commits_at(&self, offset: u64) -> bool {
        self.target.is_some() && self.length == Some(offset)
    }

    /// Whether the upload is at its full length but its file was never committed: left by a
    /// crash in a version that recorded the final offset before the commit, or by a creation
    /// (empty or concatenated upload) killed before its commit.
    pub fn is_stranded(&self) -> bool {
        !self.done && self.is_complete() && self.target.is_some()
    }

    /// Whether the whole-file hasher must also compute SHA-256.
    pub fn wants_sha256(&self) -> bool {
        matches!(self.checksum, Some((Algorithm::Sha256, _)))
    }

    /// Expiry in unix seconds.
    pub fn expires_secs(&self) -> i64 {
        self.expires_at.div_euclid(1_000_000_000)
    }
}

const COLS: &str = "id, space_id, blob, expires_at, version, state, created_at, created_by, role, \
    grant_link, grant_node, grant_need, \
    target_path, upload_length, upload_offset, metadata, content_type, mtime, checksum, reserved, \
    if_match, concat, parts, node_id, staging";

/// The stored `checksum` column: `<OC algorithm name> <hex>` (see [`Store::insert_upload`]).
fn parse_checksum(s: &str) -> Option<(Algorithm, String)> {
    let (name, digest) = s.split_once(' ')?;
    Some((Algorithm::parse(name)?, digest.to_string()))
}

fn from_row(row: &DbRow) -> StoreResult<Upload> {
    let opt_uuid = |col: &str| -> StoreResult<Option<Uuid>> {
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
                .map(|s| uuid(s).map(UploadId))
                .collect::<Result<_, _>>()?,
        ),
        _ => ConcatRole::None,
    };
    let target: Option<String> = row.try_get("target_path")?;
    Ok(Upload {
        id: UploadId(uuid(row.try_get("id")?)?),
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
            .map(|l| l.max(0) as u64),
        offset: row.try_get::<i64, _>("upload_offset")?.max(0) as u64,
        metadata: row.try_get("metadata")?,
        content_type: row.try_get("content_type")?,
        mtime: row.try_get::<Option<i64>, _>("mtime")?.map(Mtime),
        checksum: row
            .try_get::<Option<String>, _>("checksum")?
            .as_deref()
            .and_then(parse_checksum),
        reserved: row.try_get::<i64, _>("reserved")?.max(0) as u64,
        if_match: row.try_get("if_match")?,
        concat,
        node: opt_uuid("node_id")?.map(NodeId),
        staging: StagingState::new(row.try_get::<String, _>("staging")?),
        grant: super::upload_grant::UploadGrant::from_columns(
            row.try_get("grant_link")?,
            row.try_get("grant_node")?,
            row.try_get("grant_need")?,
        ),
    })
}

impl Store {
    /// Store a new upload session.
    pub async fn insert_upload(&self, s: &Upload) -> StoreResult<()> {
        let (concat, parts) = match &s.concat {
            ConcatRole::None => (None, None),
            ConcatRole::Partial => (Some("partial"), None),
            ConcatRole::Final(p) => (
                Some("final"),
                Some(
                    p.iter()
                        .map(UploadId::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            ),
        };
        let (grant_link, grant_node, grant_need) = s.grant.columns();
        sqlx::query(&format!(
            "INSERT INTO uploads ({COLS}) VALUES \
             ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,\
             $23,$24,$25)"
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
        .bind(grant_link)
        .bind(grant_node)
        .bind(grant_need)
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
        .bind(s.staging.as_str())
        .execute(self.writer())
        .await?;
        self.durable().await
    }

    /// The upload session with this id.
    pub async fn upload(&self, id: UploadId) -> StoreResult<Option<Upload>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM uploads WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.db)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// How many sessions are open at `now` (unix ns): not done and not expired.
    pub async fn open_uploads(&self, now: i64) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM uploads WHERE state = 'open' AND expires_at > $1",
        )
        .bind(now)
        .fetch_one(&self.db)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Every upload session, oldest first.
    pub async fn uploads(&self) -> StoreResult<Vec<Upload>> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM uploads ORDER BY created_at"))
            .fetch_all(&self.db)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Upload sessions whose expiry is at or before `now` (unix ns).
    pub async fn expired_uploads(&self, now: i64) -> StoreResult<Vec<Upload>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM uploads WHERE expires_at <= $1"
        ))
        .bind(now)
        .fetch_all(&self.db)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Open sessions that are stranded ([`Upload::is_stranded`]) and not expired.
    pub async fn stranded_uploads(&self, now: i64) -> StoreResult<Vec<Upload>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM uploads WHERE state = 'open' AND target_path IS NOT NULL \
             AND upload_length = upload_offset AND expires_at > $1"
        ))
        .bind(now)
        .fetch_all(&self.db)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Compare-and-set the offset (and, for a deferred upload, the length) of an open upload.
    /// Returns whether `s.version` was still current; on success `s` is updated and its
    /// `version` bumped.
    pub async fn advance_upload(
        &self,
        s: &mut Upload,
        offset: u64,
        length: Option<u64>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE uploads SET upload_offset = $1, upload_length = $2, version = version + 1 \
             WHERE id = $3 AND version = $4 AND state = 'open'",
        )
        .bind(offset as i64)
        .bind(length.map(|l| l as i64))
        .bind(s.id.to_string())
        .bind(s.version)
        .execute(self.writer())
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.durable().await?;
        s.offset = offset;
        s.length = length;
        s.version += 1;
        Ok(true)
    }

    /// Record the quota reservation made for a length that was deferred until now.
    pub async fn set_upload_reserved(&self, id: UploadId, bytes: u64) -> StoreResult<()> {
        sqlx::query("UPDATE uploads SET reserved = $1 WHERE id = $2")
            .bind(bytes as i64)
            .bind(id.to_string())
            .execute(self.writer())
            .await?;
        self.durable().await
    }

    /// Commit a complete upload as the file at its target in one transaction: the file's
    /// content (as [`Store::commit_file`] with `content` and `pre`), and the session's final
    /// offset with its `done` state. So no reader ever sees an upload at its full length
    /// whose file is missing (issue 15): a crash before the commit leaves the session at its
    /// last acknowledged offset, and the client sends the rest again.
    ///
    /// The WebDAV locks on the target are checked again in the same transaction: one the
    /// completing request names in `lock_tokens`, or one the upload's creator took, is held;
    /// any other answers `Locked` and commits nothing (the session stays where it was).
    ///
    /// The grant the upload was created through is checked again in the same transaction
    /// (`upload_grant`): a deleted or expired link, a revoked share or a lost membership
    /// answers `GrantRevoked` and commits nothing.
    ///
    /// `settling`: the upload's last bytes, still being made durable ([`Settling`], as
    /// [`Store::prepare_seal`] handed them on). When the writer is free
    /// the transaction runs its statements meanwhile and commits once the bytes are durable;
    /// otherwise it waits for them first, and does not keep the writer while they sync.
    ///
    /// Fails with `Conflict` when the session moved since `s` was read (compare-and-set on
    /// its `version`); nothing is committed then.
    pub async fn commit_upload(
        &self,
        s: &Upload,
        target: &SpacePath,
        content: NewContent,
        pre: Precondition,
        lock_tokens: &[String],
        settling: Option<Settling>,
    ) -> StoreResult<Committed> {
        let (mut tx, settling) = match settling {
            None => (self.begin_write_in(&[s.space]).await?, None),
            Some(bytes) => match self.try_begin_write_in(&[s.space]).await? {
                Some(tx) => (tx, Some(bytes)),
                None => {
                    bytes.wait().await?;
                    (self.begin_write_in(&[s.space]).await?, None)
                }
            },
        };
        let holder = LockHolder::with_tokens(lock_tokens.to_vec());
        let locks = LockCheck {
            holder: &holder,
            owner: s.created_by,
            now: self.clock.now_ns(),
        };
        let committed = commit_in(&mut tx, s.space, target, content, pre, Some(locks)).await?;
        let done = sqlx::query(
            "UPDATE uploads SET upload_offset = $1, upload_length = $2, state = 'done', \
             node_id = $3, reserved = 0, version = version + 1 \
             WHERE id = $4 AND version = $5 AND state = 'open'",
        )
        .bind(s.offset as i64)
        .bind(s.length.map(|l| l as i64))
        .bind(committed.node.id.0.to_string())
        .bind(s.id.to_string())
        .bind(s.version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        // Last, so that the other checks stay as they were; a refusal rolls all of it back.
        use super::upload_grant::{GrantVerdict, grant_verdict_on};
        match grant_verdict_on(&mut *tx, s, self.clock.now_ns()).await? {
            GrantVerdict::Holds => {}
            GrantVerdict::ReadOnly => return Err(StoreError::GrantRevoked { hidden: false }),
            GrantVerdict::Gone => return Err(StoreError::GrantRevoked { hidden: true }),
        }
        if let Some(bytes) = settling {
            // A failed sync rolls the transaction back with the rest.
            bytes.wait().await?;
        }
        tx.commit().await?;
        self.durable().await?;
        Ok(committed)
    }

    /// Mark the upload finished: its blob now belongs to `node`.
    pub async fn mark_upload_done(&self, id: UploadId, node: NodeId) -> StoreResult<()> {
        sqlx::query(
            "UPDATE uploads SET state = 'done', node_id = $1, reserved = 0, \
             version = version + 1 WHERE id = $2",
        )
        .bind(node.0.to_string())
        .bind(id.to_string())
        .execute(self.writer())
        .await?;
        self.durable().await
    }

    /// Remove the upload session's row (its blob and reservation are the caller's). Works on
    /// a full disk, like deleting a file.
    pub async fn delete_upload(&self, id: UploadId) -> StoreResult<()> {
        self.freeing(|| async {
            sqlx::query("DELETE FROM uploads WHERE id = $1")
                .bind(id.to_string())
                .execute(self.writer())
                .await?;
            self.durable().await
        })
        .await
    }
}
