//! `AppState`: the core every request handler may reach, shared by all requests of a process,
//! and the trash and version retention.
//!
//! It composes the components below the protocols (the store with its clock, [`Auth`], the
//! public-link throttle) and lends them out: authentication through `AsRef<Auth>`, so that
//! `auth` needs none of the rest. Protocol services live above it and hold it (`tus::TusState`);
//! it imports no protocol module. It holds no state that matters across restarts (DESIGN.md):
//! that lives in the store.

use std::sync::Arc;

use crate::auth::oidc::Oidc;
use crate::auth::{Auth, Throttle, hash_password};
use crate::clock::Clock;
use crate::config::Config;
use crate::spaces::{NewUser, Store, StoreError};

/// Shared, cheaply cloneable application state.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Arc<Config>,
    store: Store,
    auth: Auth,
    link_throttle: Throttle,
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
        std::fs::create_dir_all(&config.data_root)
            .map_err(|e| StartupError::DataRoot(config.data_root.display().to_string(), e))?;
        let (url, id) = (&config.metadata_url, config.storage_id);
        let store = match config
            .object_store
            .s3_settings()
            .map_err(StoreError::from)?
        {
            Some(s3) => Store::open_s3(url, &s3, config.max_upload_size, id).await?,
            None => Store::open_local(url, config.blob_dir(), id).await?,
        }
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
        let (oidc, note) = Oidc::open(&config).map_err(StartupError::Keys)?;
        if let Some(note) = note {
            tracing::info!("{note}");
        }
        let config = Arc::new(config);
        let auth = Auth::new(config.clone(), store.clone(), oidc);
        Ok(AppState(Arc::new(Inner {
            config,
            store,
            auth,
            link_throttle: crate::auth::throttle::link_passwords(),
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

    /// The authentication component (handlers reach it through `AsRef<Auth>`).
    pub fn auth(&self) -> &Auth {
        &self.0.auth
    }

    /// Wrong public-link passwords per token (checked by `sharing::public`).
    pub fn link_throttle(&self) -> &Throttle {
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
