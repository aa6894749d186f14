//! What every admin subcommand starts from: the application state opened on the data root
//! (the database is safe to share with a running server), and users looked up by name.

use anyhow::{Context, bail};

use super::init_tracing;
use crate::config::Config;
use crate::spaces::{Store, StoreError, User};
use crate::state::AppState;

pub(super) async fn open(config: Config) -> anyhow::Result<AppState> {
    // Admin commands print results on stdout; only warnings belong on stderr.
    init_tracing(config.log_format, "warn");
    AppState::open(config)
        .await
        .context("cannot open the data root")
}

pub(super) async fn user_named(store: &Store, name: &str) -> anyhow::Result<User> {
    match store.user_by_name(name).await {
        Err(StoreError::NotFound) => bail!("no user named {name:?}"),
        other => Ok(other?),
    }
}
