//! [`TusState`]: what tus's routes run with, the application's core state ([`AppState`]) and
//! the upload service ([`TusService`], holding the per-upload locks and hashers of this
//! process). The service lives here, above the core, so that `state` knows nothing of tus; the
//! router builds one `TusState` per process and hands it to tus's routes, to dav's (a `POST` on
//! a folder creates an upload) and to the maintenance loop (stranded and expired uploads).
//! Handlers that need only the core extract it through axum's `FromRef`, and everything else
//! reaches the core through `Deref`.

use std::ops::Deref;

use axum::extract::FromRef;

use super::TusService;
use crate::auth::Auth;
use crate::state::AppState;

/// The core state and the tus service of one process. Cheap to clone.
#[derive(Clone)]
pub struct TusState {
    core: AppState,
    service: TusService,
}

impl TusState {
    /// The tus service over `core`'s store and configuration.
    pub fn new(core: AppState) -> TusState {
        let service = TusService::new(core.store().clone(), core.config());
        TusState { core, service }
    }

    /// The core state.
    pub fn core(&self) -> &AppState {
        &self.core
    }

    /// The tus upload service.
    pub fn tus(&self) -> &TusService {
        &self.service
    }
}

impl Deref for TusState {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.core
    }
}

impl FromRef<TusState> for AppState {
    fn from_ref(state: &TusState) -> AppState {
        state.core.clone()
    }
}

impl AsRef<Auth> for TusState {
    fn as_ref(&self) -> &Auth {
        self.core.as_ref()
    }
}

impl crate::http::PublicUrl for TusState {
    fn public_url(&self) -> Option<&url::Url> {
        self.core.public_url()
    }
}
