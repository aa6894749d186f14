//! Every request to an upload's `/data/` URL (HEAD, PATCH, DELETE) honours the grant the
//! upload was created through (`spaces::upload_grant`): once the link is deleted, expired or
//! no longer allows uploads, or the uploader's share or membership is gone, the request is
//! refused (404, or 403 while the uploader still sees the target read-only) and the session
//! is removed with its staged bytes and quota reservation. The commit that completes an
//! upload checks the grant again inside its transaction (`Store::commit_upload`).

use super::error::TusError;
use super::service::TusService;
use crate::spaces::{GrantVerdict, Upload};

/// The refusal for a grant that no longer holds.
pub(crate) fn refusal(hidden: bool) -> TusError {
    if hidden {
        TusError::UploadNotFound
    } else {
        TusError::Forbidden
    }
}

impl TusService {
    /// Refuse a request to `s` when its grant no longer holds, removing the session (one
    /// indexed lookup; nothing else when it holds).
    pub(crate) async fn honour_grant(&self, s: &Upload) -> Result<(), TusError> {
        let Some(hidden) = self.revoked(s).await? else {
            return Ok(());
        };
        // A finished session's blob belongs to its file: only the answer changes. An open one
        // is removed unless another request holds it (that request's commit refuses it).
        if !s.done
            && let Ok(held) = self.hold(s.id, false).await
        {
            let result = self.remove_revoked(s).await;
            held.release().await;
            result?;
        }
        Err(refusal(hidden))
    }

    /// [`TusService::honour_grant`] for a request that holds the upload already.
    pub(crate) async fn honour_grant_held(&self, s: &Upload) -> Result<(), TusError> {
        let Some(hidden) = self.revoked(s).await? else {
            return Ok(());
        };
        if !s.done {
            self.remove_revoked(s).await?;
        }
        Err(refusal(hidden))
    }

    /// Whether the grant of `s` is gone: `Some(hidden)` names the refusal.
    async fn revoked(&self, s: &Upload) -> Result<Option<bool>, TusError> {
        Ok(match self.0.store.upload_grant(s).await? {
            GrantVerdict::Holds => None,
            GrantVerdict::ReadOnly => Some(false),
            GrantVerdict::Gone => Some(true),
        })
    }

    async fn remove_revoked(&self, s: &Upload) -> Result<(), TusError> {
        self.discard(s).await?;
        tracing::info!(upload = %s.id, "removed an upload whose link or share is gone");
        Ok(())
    }
}
