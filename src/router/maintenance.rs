//! The maintenance loop of a serving process: [`sweep_once`] at start and every
//! `sweep_interval` (stranded and expired tus uploads, expired sign-in records, the trash and
//! version retention, unreferenced blobs). It runs with the [`TusState`], so that the sweep
//! takes the same per-upload locks as the requests in flight.

use crate::spaces::StoreError;
use crate::state::expire_recovery;
use crate::tus::TusState;

/// How old an unreferenced blob must be before the sweep deletes it. A blob being written has
/// a fresh mtime, and a finished one is committed right away; an hour is far beyond both.
const BLOB_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// What one [`sweep_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Uploads found at their full length without their file, now committed.
    pub committed: usize,
    /// Expired uploads removed.
    pub expired: usize,
    /// Unreferenced blobs deleted.
    pub blobs: usize,
}

/// One round of housekeeping: commit tus uploads stranded at their full length (so that none
/// is reported complete without its file), remove expired uploads (their partial bytes, their
/// quota reservations) and expired sign-in records (codes, sessions, refresh tokens, app tokens),
/// apply the trash and version retention, then delete blobs nothing references (crashed writes, overwritten
/// content whose versions were removed, deleted files). A failing step is logged and the next
/// one still runs.
pub async fn sweep_once(state: &TusState) -> Sweep {
    let mut done = Sweep::default();
    match state.tus().commit_stranded().await {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(committed = n, "stranded upload sweep");
            done.committed = n;
        }
        Err(e) => tracing::error!(error = %e, "stranded upload sweep failed"),
    }
    match state.tus().clean_expired().await {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(removed = n, "expired upload sweep");
            done.expired = n;
        }
        Err(e) => tracing::error!(error = %e, "expired upload sweep failed"),
    }
    let now = state.clock().unix_secs() as i64;
    let purged = async {
        Ok::<_, StoreError>(
            state.store().purge_oidc(now).await? + state.store().purge_app_tokens(now).await?,
        )
    };
    match purged.await {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "expired sign-in records sweep"),
        Err(e) => tracing::error!(error = %e, "expired sign-in records sweep failed"),
    }
    expire_recovery(state).await;
    match state.store().sweep_blobs(BLOB_GRACE).await {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(deleted = n, "blob sweep");
            done.blobs = n;
        }
        Err(e) => tracing::error!(error = %e, "blob sweep failed"),
    }
    done
}

/// Periodic housekeeping of a serving process: [`sweep_once`] at start and every
/// `sweep_interval`, on one node at a time (the holder of the sweeper lease).
pub async fn maintenance(state: TusState) {
    let sweeper = crate::spaces::Sweeper::new(state.config().sweep_interval);
    let mut tick = tokio::time::interval(state.config().sweep_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if sweeper.leads(state.store()).await {
            sweep_once(&state).await;
        }
    }
}
