//! Secrets and the storage id: read from `*_file` paths, or generated on first start and
//! persisted under the data root so that tokens and ids survive restarts. On a server start
//! the metadata database has the last word on generated ones (`spaces::secrets`, issue 14):
//! the files under the data root then mirror the installation's values.
//!
//! Layout: `{data_root}/storage-id`, `{data_root}/secrets/token.key`,
//! `{data_root}/secrets/transfer.key` (mode 0600, directory 0700).

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand::RngCore;
use uuid::Uuid;

use super::codec::MIN_SECRET_LEN;
use super::layers::{Origin, Problem};
use super::validate::SecretSource;
use crate::spaces::SecretOrigin;

/// File of the persisted storage id.
pub(crate) fn storage_id_path(data_root: &Path) -> PathBuf {
    data_root.join("storage-id")
}

/// Directory of the persisted secrets.
pub(crate) fn secrets_dir(data_root: &Path) -> PathBuf {
    data_root.join("secrets")
}

/// What resolving one persisted value did, for the start-up log.
pub(crate) enum Provenance {
    /// Configured or read from an existing file.
    Existing,
    /// Generated now and written to this path.
    Generated(PathBuf),
}

/// Resolves a secret: inline, from its `*_file`, or persisted as `{data_root}/secrets/{name}.key`.
pub(crate) fn secret(
    source: &SecretSource,
    key: &str,
    data_root: &Path,
    name: &str,
) -> Result<(String, Provenance), Problem> {
    let problem = |value: &Path, origin: &Origin, why: String| Problem {
        key: format!("{key}_file"),
        value: format!("{:?}", value.display().to_string()),
        origin: origin.clone(),
        why,
    };
    match source {
        SecretSource::Value(v) => Ok((v.clone(), Provenance::Existing)),
        SecretSource::File(path, origin) => {
            let text = fs::read_to_string(path)
                .map_err(|e| problem(path, origin, format!("cannot read: {e}")))?;
            // `echo secret > file` leaves a newline that is not part of the secret.
            let secret = text.trim_end_matches(['\n', '\r']).to_string();
            if secret.len() < MIN_SECRET_LEN {
                return Err(problem(
                    path,
                    origin,
                    format!("secret too short: use at least {MIN_SECRET_LEN} characters"),
                ));
            }
            Ok((secret, Provenance::Existing))
        }
        SecretSource::Unset => {
            let path = secrets_dir(data_root).join(format!("{name}.key"));
            persisted(&path, 0o600, || {
                let mut bytes = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut bytes);
                hex::encode(bytes)
            })
            .map_err(|e| Problem {
                key: key.into(),
                value: String::new(),
                origin: Origin::Default,
                why: format!(
                    "cannot persist a generated secret at {}: {e}",
                    path.display()
                ),
            })
        }
    }
}

/// Where a secret resolved by [`secret`] comes from, for agreeing on it with the other nodes.
pub(crate) fn origin(
    source: &SecretSource,
    key: &str,
    data_root: &Path,
    name: &str,
) -> SecretOrigin {
    match source {
        SecretSource::Value(_) => SecretOrigin::Configured(key.to_string()),
        SecretSource::File(path, origin) => {
            SecretOrigin::Configured(format!("{key}_file {} ({origin})", path.display()))
        }
        SecretSource::Unset => {
            SecretOrigin::Unset(Some(secrets_dir(data_root).join(format!("{name}.key"))))
        }
    }
}

/// Resolves the storage id: configured, or persisted as `{data_root}/storage-id`.
pub(crate) fn storage_id(
    configured: Option<Uuid>,
    data_root: &Path,
) -> Result<(Uuid, Provenance), Problem> {
    if let Some(id) = configured {
        return Ok((id, Provenance::Existing));
    }
    let path = storage_id_path(data_root);
    let problem = |why: String| Problem {
        key: "storage.storage_id".into(),
        value: String::new(),
        origin: Origin::File(path.clone()),
        why,
    };
    let (text, provenance) = persisted(&path, 0o644, || Uuid::new_v4().to_string())
        .map_err(|e| problem(format!("cannot persist a generated storage id: {e}")))?;
    let id = Uuid::parse_str(text.trim())
        .map_err(|_| problem("the persisted storage id is not a UUID".into()))?;
    Ok((id, provenance))
}

/// The contents of `path`, creating it with `generate()` if it does not exist.
///
/// Written to a temporary file and hard-linked into place, so a concurrent start never reads a
/// half-written value and never overwrites one another process already persisted.
pub(crate) fn persisted(
    path: &Path,
    mode: u32,
    generate: impl FnOnce() -> String,
) -> io::Result<(String, Provenance)> {
    match fs::read_to_string(path) {
        Ok(text) => return Ok((text.trim_end().to_string(), Provenance::Existing)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let dir = path.parent().expect("persisted paths have a parent");
    create_dir(dir)?;
    let value = generate();
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("value"),
        Uuid::new_v4().simple()
    ));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        writeln!(file, "{value}")?;
        file.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => Ok((value, Provenance::Generated(path.to_path_buf()))),
        // Another process won the race: use its value.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok((
            fs::read_to_string(path)?.trim_end().to_string(),
            Provenance::Existing,
        )),
        Err(e) => Err(e),
    }
}

fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    if dir.file_name().is_some_and(|n| n == "secrets") {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
