//! `AppState`: everything a request handler may reach, shared by all requests of a process,
//! and the maintenance loop (sweeps of expired uploads, sign-in records, trash, versions and
//! unreferenced blobs).
//!
//! It composes the components (the store with its clock, [`Auth`], the tus service) and lends
//! them out: authentication through `AsRef<Auth>`, so that `auth` needs none of the rest. It
//! holds no state that matters across restarts (DESIGN.md): that lives in the store.

use std::sync::Arc;

use crate::auth::oidc::Oidc;
use crate::auth::{Auth, hash_password};
use crate::clock::Clock;
use crate::config::Config;
use crate::spaces::{NewUser, Store, StoreError};
use crate::tus::TusService;

/// Shared, cheaply cloneable application state.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Arc<Config>,
    store: Store,
    auth: Auth,
    tus: TusService,
    link_throttle: crate::sharing::Throttle,
}

/// Why the state could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The data root could not be created.
    #[error("data root {0}: {1}")]
    DataRoot(String, std::io::Error),
    /// The store failed to open.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `web.assets_path` names no Web build.
    #[error(transparent)]
    WebAssets(#[from] crate::web::AssetsError),
    /// The OpenID Connect signing keys could not be read or created.
    #[error("OpenID Connect signing keys: {0}")]
    Keys(std::io::Error),
    /// This node may not serve its storage id (issue 14).
    #[error(transparent)]
    StorageId(#[from] crate::spaces::StorageIdError),
}

impl crate::http::PublicUrl for AppState {
    fn public_url(&self) -> Option<&url::Url> {
        self.config().public_url.as_ref()
    }
}

impl AppState {
    /// Open the store described by `config` (creating the data root, database and blob
    /// directory as needed). On first start with no users, create `admin` with
    /// `config.admin_password` or a random password, printed once on stdout.
    pub async fn open(config: Config) -> Result<AppState, StartupError> {
        Self::open_with_clock(config, Clock::system()).await
    }

    /// [`AppState::open`] with `clock` as the time source of everything that expires (tests
    /// pass an adjustable one).
    pub async fn open_with_clock(config: Config, clock: Clock) -> Result<AppState, StartupError> {
        if let Some(dir) = &config.web_assets_path {
            crate::web::check_assets(dir)?;
        }
        std::fs::create_dir_all(&config.data_root)
            .map_err(|e| StartupError::DataRoot(config.data_root.display().to_string(), e))?;
        let store = Store::open_local(&config.metadata_url, config.blob_dir(), config.storage_id)
            .await?
            .with_clock(clock);
        let store = store
            .agree_on_storage_id(config.storage_id, &config.storage_id_origin)
            .await?;
        let config = Config {
            storage_id: store.storage_id(),
            ..config
        };
        if store.users().await?.is_empty() {
            let (password, generated) = match &config.admin_password {
                Some(p) => (p.clone(), false),
                None => (
                    uuid::Uuid::new_v4().simple().to_string()[..20].to_string(),
                    true,
                ),
            };
            let created = store
                .create_user(NewUser {
                    name: "admin".into(),
                    display_name: "Administrator".into(),
                    email: None,
                    password_hash: hash_password(&password),
                    is_admin: true,
                })
                .await;
            match created {
                Ok(_) if generated => {
                    println!("spacedav: created user `admin` with password {password}")
                }
                Ok(_) => {}
                // Another node starting on the same empty database created it first.
                Err(StoreError::NameTaken(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let tus = TusService::new(store.clone(), &config);
        let (oidc, note) = Oidc::open(&config).map_err(StartupError::Keys)?;
        if let Some(note) = note {
            tracing::info!("{note}");
        }
        let config = Arc::new(config);
        let auth = Auth::new(config.clone(), store.clone(), oidc);
        Ok(AppState(Arc::new(Inner {
            tus,
            config,
            store,
            auth,
            link_throttle: Default::default(),
        })))
    }

    /// The configuration this process runs with.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The storage core.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The time source of everything that expires (the store's).
    pub fn clock(&self) -> &Clock {
        self.0.store.clock()
    }

    /// The tus upload service (owned by `tus`; holds the per-upload locks and hashers).
    pub fn tus(&self) -> &TusService {
        &self.0.tus
    }

    /// The authentication component (handlers reach it through `AsRef<Auth>`).
    pub fn auth(&self) -> &Auth {
        &self.0.auth
    }

    /// Wrong public-link passwords per token (owned by `sharing::public`).
    pub fn link_throttle(&self) -> &crate::sharing::Throttle {
        &self.0.link_throttle
    }

    /// The built-in OpenID Connect provider, or the external issuer's verifier (owned by
    /// `auth::oidc`).
    pub fn oidc(&self) -> &Oidc {
        self.0.auth.oidc()
    }
}

impl AsRef<Auth> for AppState {
    fn as_ref(&self) -> &Auth {
        &self.0.auth
    }
}

/// How old an unreferenced blob must be before the sweep deletes it. A blob being written has
/// a fresh mtime, and a finished one is committed right away; an hour is far beyond both.
const BLOB_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// The retention of issue 11: purge trash items older than `trash.retention`, drop versions
/// beyond `versions.max_count` or older than `versions.max_age` (their blobs are freed).
pub async fn expire_recovery(state: &AppState) {
    let r = state.config().retention;
    let now = state.clock().now_ns();
    let cutoff = |age: std::time::Duration| {
        now.saturating_sub(i64::try_from(age.as_nanos()).unwrap_or(i64::MAX))
    };
    match state.store().expire_trash(cutoff(r.trash)).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "trash retention sweep"),
        Err(e) => tracing::error!(error = %e, "trash retention sweep failed"),
    }
    let max_age = cutoff(r.versions_max_age);
    match state
        .store()
        .expire_versions(r.versions_max_count, max_age)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(dropped = n, "version retention sweep"),
        Err(e) => tracing::error!(error = %e, "version retention sweep failed"),
    }
}

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
pub async fn sweep_once(state: &AppState) -> Sweep {
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
pub async fn maintenance(state: AppState) {
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
