//! Completion: the request that brings an upload to its length commits the staging blob as
//! the file in one store transaction (SPEC §4), together with the session's final offset and
//! the re-check of every precondition (etag, WebDAV locks, quota; DESIGN.md), and
//! the final upload of a concatenation is assembled from its parts by the blob store and
//! committed at once. An upload found at its full length without its file (a crash of an
//! older version, or of a creation before its commit) is committed before anyone is told it
//! is complete (README "Crash safety").

use super::error::TusError;
use super::service::{Completion, Creation, Creator, Progress, TusService, file_permissions};
use crate::auth::transfer::TransferError;
use crate::metrics::{UploadEvent, metrics};
use crate::spaces::{
    ConcatRole, Hasher, NewContent, Precondition, Settling, StoreError, Upload, UploadId,
};

impl TusService {
    /// Commit a complete upload. A partial upload of a concatenation has nothing to commit.
    /// A definitive refusal (checksum, precondition, target, quota) removes the session: it
    /// can never complete. `settling`: the completing request's bytes, still being made
    /// durable ([`Settling`]); the commit waits for them.
    pub(crate) async fn complete(
        &self,
        session: &mut Upload,
        hasher: Hasher,
        lock_tokens: &[String],
        settling: Option<Settling>,
    ) -> Result<Option<Completion>, TusError> {
        let store = &self.0.store;
        let settling = store.prepare_seal(session, settling).await?;
        let Some(target) = session.target.clone() else {
            return Ok(None);
        };
        let digests = match store.seal_upload(session, hasher).await {
            Ok(d) => d,
            Err(StoreError::Conflict) => return Err(TusError::OffsetMismatch),
            Err(e) => return Err(e.into()),
        };
        if let Some((alg, want)) = &session.checksum
            && digests.hex(*alg) != Some(want.as_str())
        {
            if let Some(bytes) = settling {
                // Removed below either way; only what is left of the sync is awaited.
                let _ = bytes.wait().await;
            }
            self.discard(session).await?;
            return Err(TusError::ChecksumMismatch);
        }
        let pre = match &session.if_match {
            Some(etag) => Precondition::Etag(etag.clone()),
            None => Precondition::None,
        };
        let content = NewContent {
            blob: session.blob.clone(),
            size: session.offset,
            checksums: digests.recorded,
            mtime: session.mtime,
            content_type: session.content_type.clone(),
            reservation: Some(session.id.to_string()),
        };
        let committed = match store
            .commit_upload(session, &target, content, pre, lock_tokens, settling)
            .await
        {
            Ok(c) => c,
            // The session moved meanwhile (another process): nothing was committed.
            Err(StoreError::Conflict) => return Err(TusError::OffsetMismatch),
            // A lock is temporary: the session stays at its last acknowledged offset, and the
            // client sends the completing bytes again once the lock is gone.
            Err(StoreError::Locked) => return Err(TusError::Locked),
            Err(e) => {
                let refusal = match e {
                    StoreError::PreconditionFailed => TusError::PreconditionFailed,
                    StoreError::QuotaExceeded => TusError::QuotaExceeded,
                    StoreError::IsFolder | StoreError::ParentMissing | StoreError::NotFolder => {
                        TusError::Conflict
                    }
                    StoreError::GrantRevoked { hidden } => super::grant::refusal(hidden),
                    other => return Err(other.into()),
                };
                self.discard(session).await?;
                return Err(refusal);
            }
        };
        session.done = true;
        session.version += 1;
        session.node = Some(committed.node.id);
        Ok(Some(self.completion(session, committed.node)))
    }

    /// [`TusService::complete`] for a session that reached its length before this request
    /// (stranded, [`Upload::is_stranded`]). Versions before `commit_upload` marked the session
    /// done after the commit: a crash in between left a session whose blob is already the
    /// file's. This finishes the bookkeeping instead of committing twice.
    pub(crate) async fn complete_stranded(
        &self,
        session: &mut Upload,
        hasher: Hasher,
        lock_tokens: &[String],
        settling: Option<Settling>,
    ) -> Result<Option<Completion>, TusError> {
        let store = &self.0.store;
        if let Some(target) = &session.target
            && store.blob_in_use(&session.blob, Some(session.id)).await?
        {
            if let Some(bytes) = settling {
                bytes.wait().await?;
            }
            let node = store.resolve(session.space, target).await?;
            store.mark_upload_done(session.id, node.id).await?;
            session.done = true;
            return Ok(Some(self.completion(session, node)));
        }
        self.complete(session, hasher, lock_tokens, settling).await
    }

    /// Commit a stranded upload ([`Upload::is_stranded`]) before anyone is told it is
    /// complete (HEAD, and the sweep at start-up and after). `wait`: wait for the upload's
    /// slot instead of answering `Busy`. Returns the session as it now stands; a session that
    /// can never become its file (checksum, precondition, quota, target) is removed, and
    /// reported as gone.
    pub(crate) async fn finish_stranded(&self, s: Upload, wait: bool) -> Result<Upload, TusError> {
        let held = self.hold(s.id, wait).await?;
        let mut s = self.live_session(s.id, s.space).await?;
        if !s.is_stranded() {
            return Ok(s);
        }
        let hasher = self.hash_blob(&s, s.offset).await?;
        let result = self.complete_stranded(&mut s, hasher, &[], None).await;
        held.release().await;
        self.drop_hash_state(s.id);
        match result {
            Ok(_) => {
                tracing::info!(upload = %s.id, "committed an upload stranded at its full length");
                Ok(s)
            }
            Err(
                e @ (TusError::ChecksumMismatch
                | TusError::PreconditionFailed
                | TusError::QuotaExceeded
                | TusError::Conflict
                | TusError::Forbidden),
            ) => {
                tracing::warn!(upload = %s.id, error = %e, "removed a stranded upload");
                Err(TusError::UploadNotFound)
            }
            // Another process committed it meanwhile.
            Err(TusError::OffsetMismatch) => self.live_session(s.id, s.space).await,
            Err(e) => Err(e),
        }
    }

    /// Commit every stranded upload that is not busy (at start-up and on every sweep).
    /// Returns how many were committed; a failure is logged and left for the next sweep.
    pub async fn commit_stranded(&self) -> Result<usize, TusError> {
        let mut committed = 0;
        for s in self.0.store.stranded_uploads(self.now_ns()).await? {
            let id = s.id;
            match self.finish_stranded(s, false).await {
                Ok(s) if s.done => committed += 1,
                Ok(_) | Err(TusError::Busy) | Err(TusError::UploadNotFound) => {}
                Err(e) => {
                    tracing::error!(upload = %id, error = %e, "stranded upload not committed")
                }
            }
        }
        Ok(committed)
    }

    /// What the client is told about a committed upload; every completion passes here once,
    /// so it is counted here.
    pub(super) fn completion(&self, session: &Upload, node: crate::spaces::Node) -> Completion {
        metrics().upload(UploadEvent::Completed);
        Completion {
            file_id: self
                .0
                .store
                .space_id(session.space)
                .resource(node.id)
                .to_string(),
            permissions: file_permissions(session.role),
            mtime_accepted: session.mtime.is_some(),
            node,
        }
    }

    /// The final upload of a concatenation (`Upload-Concat: final;<url> ...`): every named
    /// upload must be a finished partial upload of the same space (else 400). The parts are
    /// joined by the blob store (a kernel copy on local disk), hashed once, and committed.
    pub(crate) async fn create_final(
        &self,
        creator: &Creator,
        req: &Creation,
        tokens: &[String],
    ) -> Result<Progress, TusError> {
        let space = creator.space.id.space;
        let bad = |why: String| TusError::InvalidConcat(why);
        if req.length.is_some() {
            return Err(bad("a final upload must not carry Upload-Length".into()));
        }
        let mut parts = Vec::with_capacity(tokens.len());
        for (i, token) in tokens.iter().enumerate() {
            let part = match self.0.keys.verify(token) {
                Ok(c) if c.spc == space => self.0.store.upload(c.upl).await?,
                Ok(_) | Err(TransferError::Invalid) | Err(TransferError::Expired) => None,
            };
            match part {
                Some(p)
                    if p.concat == ConcatRole::Partial
                        && p.is_complete()
                        && p.expires_at > self.now_ns() =>
                {
                    parts.push(p)
                }
                _ => {
                    return Err(bad(format!(
                        "part {} is not a finished partial upload of this space",
                        i + 1
                    )));
                }
            }
        }
        let total: u64 = parts.iter().map(|p| p.offset).sum();
        if total > self.settings().max_size {
            return Err(TusError::TooLarge);
        }
        let info = req.info.clone().ok_or(TusError::InvalidFilename)?;
        let path = creator.folder.join(&info.path);
        let if_match = self
            .check_target(creator, &path, req.if_match.as_deref(), &req.lock_tokens)
            .await?;
        // The parts' reservations become the final upload's.
        for p in &parts {
            self.0.store.release(&p.id.to_string()).await?;
        }
        let now = self.now_ns();
        let expires_at = now + self.settings().expiry.as_nanos() as i64;
        let id = UploadId::new();
        self.reserve(space, id, total, expires_at).await?;
        let blob = self.0.store.concat_staging(&mut parts).await?;
        let mut session = Upload {
            id,
            space,
            blob,
            staging: Default::default(),
            expires_at,
            version: 1,
            done: false,
            created_at: now,
            created_by: Some(creator.user),
            role: Some(creator.role),
            target: Some(path),
            length: Some(total),
            offset: total,
            metadata: req.metadata.raw.clone(),
            content_type: info.content_type.clone(),
            mtime: info.mtime,
            checksum: info.checksum.clone(),
            reserved: total,
            if_match,
            concat: ConcatRole::Final(parts.iter().map(|p| p.id).collect()),
            node: None,
            grant: creator.grant,
        };
        self.0.store.insert_upload(&session).await?;
        metrics().upload(UploadEvent::Created);
        let hasher = self.hash_blob(&session, total).await?;
        let completion = self
            .complete(&mut session, hasher, &req.lock_tokens, None)
            .await?;
        for p in &parts {
            self.discard(p).await?;
        }
        Ok(Progress {
            session,
            completion,
        })
    }
}
