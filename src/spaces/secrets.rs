//! The secrets every node of one installation shares (issue 14): the token and transfer
//! secrets and the built-in provider's signing keys, rows of `cluster_secrets` stored by the
//! first node that starts, so that a token signed on one node verifies on every other.
//!
//! A secret configured explicitly must match the stored one; one merely generated (or read
//! from the node's data root, as an existing installation has it) is stored when the
//! database records none, and otherwise replaced by the database's value, which the node then
//! saves in its data root too (its CLI reads it there). No value ever appears in an error.

use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::Store;
use super::error::{StoreError, StoreResult};

/// Where a node's token or transfer secret came from (`Config::token_secret_origin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretOrigin {
    /// Set explicitly: this describes where (`auth.token_secret_file /run/secret`).
    Configured(String),
    /// Not configured: generated or read from this file under the data root (none in tests).
    Unset(Option<PathBuf>),
}

/// Why a node may not use its secrets.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The configured secret is not the one the database records.
    #[error(
        "the {name} secret configured in {origin} differs from the one the metadata database \
         records (stored by the first node of this installation): every node signs and \
         verifies with the same secret. Configure the same value on every node, or remove the \
         setting to take the database's"
    )]
    Mismatch {
        /// `token` or `transfer`.
        name: String,
        /// Where the configured value came from.
        origin: String,
    },
    /// The database's value could not be saved under the data root.
    #[error("secret file {0}: {1}")]
    File(String, io::Error),
    /// The database could not be asked.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// The secret `name` as the database records it: `ours` when it records none yet (stored
    /// now), else the value the first node stored.
    pub async fn claim_secret(&self, name: &str, ours: &str) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO cluster_secrets (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(ours)
        .execute(&self.db)
        .await?;
        let stored = sqlx::query_scalar("SELECT value FROM cluster_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.db)
            .await?;
        Ok(stored)
    }

    /// Deletes the stored secret `name` (a retired signing key); whether there was one.
    pub async fn remove_secret(&self, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM cluster_secrets WHERE name = $1")
            .bind(name)
            .execute(&self.db)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every stored secret whose name starts with `prefix`, as `(name, value)`.
    pub async fn secrets_named(&self, prefix: &str) -> StoreResult<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, value FROM cluster_secrets WHERE name LIKE $1 ORDER BY name",
        )
        .bind(format!("{prefix}%"))
        .fetch_all(&self.db)
        .await?;
        Ok(rows)
    }

    /// The secret `name` this node uses: the database's, which `ours` becomes when the
    /// database records none. A configured secret that differs is refused; an unconfigured
    /// one is replaced (and its file under the data root rewritten).
    pub async fn agree_on_secret(
        &self,
        name: &str,
        ours: &str,
        origin: &SecretOrigin,
    ) -> Result<String, SecretError> {
        let stored = self.claim_secret(name, ours).await?;
        if stored == ours {
            return Ok(stored);
        }
        match origin {
            SecretOrigin::Configured(origin) => Err(SecretError::Mismatch {
                name: name.to_string(),
                origin: origin.clone(),
            }),
            SecretOrigin::Unset(file) => {
                if let Some(path) = file {
                    save(path, &stored)
                        .map_err(|e| SecretError::File(path.display().to_string(), e))?;
                }
                Ok(stored)
            }
        }
    }
}

/// Replaces the secret file `path` with `value` (mode 0600), atomically.
pub fn save(path: &Path, value: &str) -> io::Result<()> {
    let dir = path.parent().expect("secret files have a parent");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        writeln!(file, "{value}")?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_configured_secret_that_differs_from_the_stored_one_is_refused() {
        let (store, _alice, dir) = crate::spaces::locks::tests::fixture().await;
        let first = "first-node-secret-0123456789abcdef";
        let configured = SecretOrigin::Configured("env SPACEDAV_AUTH_TOKEN_SECRET".into());
        assert_eq!(
            store
                .agree_on_secret("token", first, &configured)
                .await
                .unwrap(),
            first
        );
        let other = "other-node-secret-0123456789abcdef";
        let err = store
            .agree_on_secret("token", other, &configured)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("env SPACEDAV_AUTH_TOKEN_SECRET"), "{err}");
        assert!(err.contains("metadata database"), "{err}");
        assert!(
            !err.contains(first) && !err.contains(other),
            "no value in {err}"
        );

        let file = dir.path().join("secrets/token.key");
        let unset = SecretOrigin::Unset(Some(file.clone()));
        assert_eq!(
            store.agree_on_secret("token", other, &unset).await.unwrap(),
            first
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap().trim_end(), first);
    }
}
