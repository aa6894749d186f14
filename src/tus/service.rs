//! `TusService`: the tus protocol over the storage core, with no HTTP framework types.
//!
//! State that matters lives in the storage core: upload sessions ([`Upload`]) in the metadata
//! database, bytes in the blob store.
//! The only process memory is per upload: an exclusive slot that serialises PATCH and DELETE
//! (a second request answers 423) and the whole-file hasher positioned at the durable offset,
//! rebuilt once by re-reading the staging blob when it is missing or stands at another offset
//! than the session's (after a restart, or when another node served the previous request:
//! bytes below the offset never change, so a hasher at the session's offset is still right).
//! Beside the slot, a request holds the upload in the store (`hold.rs`), which on PostgreSQL
//! excludes the requests of every other node too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use uuid::Uuid;

use super::error::TusError;
use super::grant;
use super::metadata::{Metadata, UploadInfo};
use super::parse::{Concat, Length};
use crate::auth::transfer::{TransferError, TransferKeys};
use crate::config::Config;
use crate::metrics::{UploadEvent, metrics};
use crate::spaces::{
    Algorithm, ConcatRole, GrantVerdict, Hasher, LockHolder, Node, Role, Space, SpacePath,
    StagingPlan, Store, StoreError, Upload, UploadGrant, UploadId, UserId,
};

/// What the service needs from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Session lifetime.
    pub expiry: Duration,
    /// Largest accepted upload (`Tus-Max-Size`).
    pub max_size: u64,
    /// Algorithms accepted in `Upload-Checksum`.
    pub algorithms: Vec<Algorithm>,
}

impl Settings {
    /// From the configuration (unknown algorithm names were refused by config validation).
    pub fn from_config(config: &Config) -> Self {
        Settings {
            expiry: config.upload_expiry,
            max_size: config.max_upload_size,
            algorithms: config
                .checksum_algorithms
                .iter()
                .filter_map(|a| Algorithm::parse(a))
                .collect(),
        }
    }
}

/// A validated creation request (the header checks of SPEC §3 done by the caller).
#[derive(Debug, Clone)]
pub struct Creation {
    /// `Upload-Length` or deferred; `None` for a final concatenation.
    pub length: Option<Length>,
    /// The metadata as sent.
    pub metadata: Metadata,
    /// The acted-on keys; `None` for a partial upload without filename.
    pub info: Option<UploadInfo>,
    /// `Upload-Concat`.
    pub concat: Option<Concat>,
    /// `If-Match`, unquoted.
    pub if_match: Option<String>,
    /// The WebDAV lock tokens the request submits (`If`, `Lock-Token`): a lock on the
    /// target that none of them names refuses the creation (423).
    pub lock_tokens: Vec<String>,
}

/// Who creates an upload, and where.
#[derive(Debug, Clone)]
pub struct Creator {
    /// The user.
    pub user: UserId,
    /// The space.
    pub space: Space,
    /// The folder the creation was POSTed to.
    pub folder: SpacePath,
    /// The user's role in the space.
    pub role: Role,
    /// What allows the user to upload there (re-checked on every later request).
    pub grant: UploadGrant,
}

/// A committed file, for the completion headers of SPEC §4.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The node after the commit.
    pub node: Node,
    /// `OC-FileId`.
    pub file_id: String,
    /// `OC-Perm`.
    pub permissions: &'static str,
    /// Whether a metadata `mtime` was applied (`X-OC-MTime: accepted`).
    pub mtime_accepted: bool,
}

/// The state of an upload after a request.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The session (offset, length, expiry).
    pub session: Upload,
    /// Set when this request committed the file.
    pub completion: Option<Completion>,
}

/// The in-process part of an upload: the whole-file hasher at `offset` (its workers may still
/// be hashing the last pieces of the PATCH that reached it: `receive.rs`).
#[derive(Default)]
pub(crate) struct HashState {
    pub(crate) offset: u64,
    pub(crate) hasher: Option<crate::spaces::checksum::PendingHasher>,
}

pub(crate) type Slot = Arc<tokio::sync::Mutex<HashState>>;

/// The tus protocol service. Cheap to clone.
#[derive(Clone)]
pub struct TusService(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) keys: TransferKeys,
    pub(crate) settings: Settings,
    /// `Tus-Extension`, computed once: every tus answer carries it.
    extension_header: http::HeaderValue,
    pub(crate) slots: Mutex<HashMap<UploadId, Slot>>,
}

/// `OC-Perm` letters of a file for a role (ocis-spec §6.3).
pub fn file_permissions(role: Option<Role>) -> &'static str {
    role.map_or("", |r| r.oc_permissions(false))
}

impl TusService {
    /// Now, on the store's clock (upload expiry reads it; tests move it).
    pub(crate) fn now_ns(&self) -> i64 {
        self.0.store.clock().now_ns()
    }

    /// A service over `store` configured by `config`.
    pub fn new(store: Store, config: &Config) -> Self {
        TusService(Arc::new(Inner {
            keys: TransferKeys::new(&config.transfer_secret, store.clock().clone()),
            store,
            settings: Settings::from_config(config),
            extension_header: http::HeaderValue::try_from(super::extensions(config).join(","))
                .expect("extension names are ASCII"),
            slots: Mutex::new(HashMap::new()),
        }))
    }

    /// The `Tus-Extension` value.
    pub fn extension_header(&self) -> &http::HeaderValue {
        &self.0.extension_header
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The upload a transfer token names: 403 for a bad token, 404 when the session is gone.
    pub fn verify_token(&self, token: &str) -> Result<(UploadId, Uuid), TusError> {
        match self.0.keys.verify(token) {
            Ok(c) => Ok((c.upl, c.spc)),
            Err(TransferError::Invalid) => Err(TusError::InvalidToken),
            Err(TransferError::Expired) => Err(TusError::UploadNotFound),
        }
    }

    /// A live (not expired) session of `space`.
    pub(crate) async fn live_session(&self, id: UploadId, space: Uuid) -> Result<Upload, TusError> {
        match self.0.store.upload(id).await? {
            Some(s) if s.space == space && s.expires_at > self.now_ns() => Ok(s),
            _ => Err(TusError::UploadNotFound),
        }
    }

    /// A transfer token naming session `s`, valid until it expires.
    pub fn token(&self, s: &Upload) -> String {
        self.0.keys.issue(s.id, s.space, s.expires_secs())
    }

    /// `HEAD`: the session as it stands. A stranded upload is committed first, so that an
    /// offset equal to the length always means the file is there.
    pub async fn head(&self, token: &str) -> Result<Upload, TusError> {
        let (id, space) = self.verify_token(token)?;
        let s = self.live_session(id, space).await?;
        self.honour_grant(&s).await?;
        if s.is_stranded() {
            return self.finish_stranded(s, true).await;
        }
        Ok(s)
    }

    /// Check the target of a creation (SPEC §3 rows after the header checks); returns the etag
    /// to re-check at completion when `If-Match` was given and the target exists.
    pub(crate) async fn check_target(
        &self,
        creator: &Creator,
        path: &SpacePath,
        if_match: Option<&str>,
        lock_tokens: &[String],
    ) -> Result<Option<String>, TusError> {
        let space = creator.space.id.space;
        let existing = match self.0.store.resolve(space, path).await {
            Ok(node) if node.is_folder() => return Err(TusError::TargetIsFolder),
            Ok(node) => Some(node),
            Err(StoreError::NotFound) => {
                let parent = path.parent().unwrap_or_default();
                match self.0.store.resolve(space, &parent).await {
                    Ok(p) if p.is_folder() => None,
                    Ok(_) | Err(StoreError::NotFound) => return Err(TusError::ParentMissing),
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        let expected = match (if_match, existing) {
            (Some(want), Some(node)) => {
                if want != "*" && want != node.etag {
                    return Err(TusError::PreconditionFailed);
                }
                Some(node.etag)
            }
            _ => None,
        };
        let holder = LockHolder::with_tokens(lock_tokens.to_vec());
        if self
            .0
            .store
            .lock_conflict(space, path, &holder)
            .await?
            .is_some()
        {
            return Err(TusError::Locked);
        }
        if !creator.role.can_write() {
            return Err(TusError::Forbidden);
        }
        Ok(expected)
    }

    /// Reserve quota for `id`, mapping a refusal to 507.
    pub(crate) async fn reserve(
        &self,
        space: Uuid,
        id: UploadId,
        bytes: u64,
        expires_at: i64,
    ) -> Result<(), TusError> {
        match self
            .0
            .store
            .reserve(space, &id.to_string(), bytes, expires_at)
            .await
        {
            Err(StoreError::QuotaExceeded) => Err(TusError::QuotaExceeded),
            other => Ok(other?),
        }
    }

    /// Create an upload session (tus creation). A zero-byte upload and a final concatenation
    /// are complete at once; the answer then carries the completion.
    pub async fn create(&self, creator: &Creator, req: Creation) -> Result<Progress, TusError> {
        let space = creator.space.id.space;
        if let Some(Concat::Final(tokens)) = &req.concat {
            return self.create_final(creator, &req, tokens).await;
        }
        let target = match &req.info {
            Some(info) if req.concat != Some(Concat::Partial) => {
                let path = creator.folder.join(&info.path);
                let etag = self
                    .check_target(creator, &path, req.if_match.as_deref(), &req.lock_tokens)
                    .await?;
                Some((path, etag))
            }
            _ => {
                if !creator.role.can_write() {
                    return Err(TusError::Forbidden);
                }
                None
            }
        };
        let now = self.now_ns();
        let expires_at = now + self.0.settings.expiry.as_nanos() as i64;
        let id = UploadId::new();
        let length = match req.length {
            Some(Length::Known(n)) => Some(n),
            Some(Length::Deferred) | None => None,
        };
        if let Some(n) = length {
            self.reserve(space, id, n, expires_at).await?;
        }
        let plan = StagingPlan {
            length,
            max_length: self.0.settings.max_size,
        };
        let (blob, staging) = match self.0.store.new_staging(plan).await {
            Ok(b) => b,
            Err(e) => {
                self.0.store.release(&id.to_string()).await?;
                return Err(e.into());
            }
        };
        let info = req.info.clone();
        let (target, if_match) = target.map_or((None, None), |(p, e)| (Some(p), e));
        let mut session = Upload {
            id,
            space,
            blob,
            staging,
            expires_at,
            version: 1,
            done: false,
            created_at: now,
            created_by: Some(creator.user),
            role: Some(creator.role),
            target,
            length,
            offset: 0,
            metadata: req.metadata.raw.clone(),
            content_type: info.as_ref().and_then(|i| i.content_type.clone()),
            mtime: info.as_ref().and_then(|i| i.mtime),
            checksum: info.as_ref().and_then(|i| i.checksum.clone()),
            reserved: length.unwrap_or(0),
            if_match,
            concat: match req.concat {
                Some(Concat::Partial) => ConcatRole::Partial,
                _ => ConcatRole::None,
            },
            node: None,
            grant: creator.grant,
        };
        self.0.store.insert_upload(&session).await?;
        metrics().upload(UploadEvent::Created);
        let completion = if session.is_complete() {
            let hasher = Hasher::new(session.wants_sha256());
            self.complete(&mut session, hasher, &req.lock_tokens, None)
                .await?
        } else {
            None
        };
        Ok(Progress {
            session,
            completion,
        })
    }

    /// `DELETE` (termination): remove the session, its bytes and its reservation.
    pub async fn terminate(&self, token: &str) -> Result<(), TusError> {
        let (id, space) = self.verify_token(token)?;
        let held = self.hold(id, false).await?;
        let session = self.live_session(id, space).await?;
        if session.done {
            return Err(TusError::UploadNotFound);
        }
        // The session goes either way; a grant that no longer holds changes the answer.
        let verdict = self.0.store.upload_grant(&session).await?;
        self.discard(&session).await?;
        held.release().await;
        match verdict {
            GrantVerdict::Holds => {}
            GrantVerdict::ReadOnly => return Err(grant::refusal(false)),
            GrantVerdict::Gone => return Err(grant::refusal(true)),
        }
        metrics().upload(UploadEvent::Terminated);
        Ok(())
    }

    /// Remove a session that will never become a file: row, reservation, unreferenced bytes.
    pub(crate) async fn discard(&self, s: &Upload) -> Result<(), TusError> {
        self.0.store.remove_upload(s).await?;
        self.drop_hash_state(s.id);
        Ok(())
    }

    /// Hash the first `len` staged bytes of a session (rebuilding a hasher, or hashing an
    /// assembled concatenation); blind where the store cannot read them before the seal.
    pub(crate) async fn hash_blob(&self, s: &Upload, len: u64) -> Result<Hasher, TusError> {
        Ok(self.0.store.hash_staging(s, len).await?)
    }

    /// Every session (for `spacedav uploads list`), oldest first.
    pub async fn list_uploads(&self) -> Result<Vec<Upload>, TusError> {
        Ok(self.0.store.uploads().await?)
    }

    /// Remove every expired session with its partial bytes and reservation (the sweeper and
    /// `spacedav uploads clean`). A session busy with a request is left for the next sweep.
    /// Returns how many were removed.
    pub async fn clean_expired(&self) -> Result<usize, TusError> {
        let mut removed = 0;
        for s in self.0.store.expired_uploads(self.now_ns()).await? {
            let held = match self.hold(s.id, false).await {
                Ok(held) => held,
                Err(TusError::Busy) => continue,
                Err(e) => return Err(e),
            };
            self.discard(&s).await?;
            held.release().await;
            removed += 1;
            if !s.done {
                metrics().upload(UploadEvent::Expired);
            }
        }
        Ok(removed)
    }
}
