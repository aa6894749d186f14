//! The blob backend's configuration (`storage.blob_backend`, `storage.s3_*`): which store
//! holds file bytes and, for S3, the bucket and the credentials to reach it.

use std::path::PathBuf;

/// Which blob store holds file bytes (`storage.blob_backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlobBackend {
    /// A local directory ([`super::BlobConfig`]).
    #[default]
    Local,
    /// An S3 bucket ([`ObjectStoreConfig`]).
    S3,
}

/// The blob backend and, for S3, the bucket and the credentials to use it (`storage.s3_*`).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ObjectStoreConfig {
    /// Which backend.
    pub backend: BlobBackend,
    /// S3 endpoint URL.
    pub s3_endpoint: Option<url::Url>,
    /// Region the requests are signed for.
    pub s3_region: String,
    /// Bucket name.
    pub s3_bucket: String,
    /// Path-style addressing instead of virtual hosts.
    pub s3_path_style: bool,
    /// Access key id.
    pub s3_access_key: String,
    /// Secret access key, given inline.
    pub s3_secret_key: Option<String>,
    /// File holding the secret access key (trailing newline ignored).
    pub s3_secret_key_file: Option<PathBuf>,
}

impl ObjectStoreConfig {
    /// The S3 settings when the backend is S3 (reading the secret's file, if that is how it
    /// is given); `None` for local disk.
    pub fn s3_settings(&self) -> std::io::Result<Option<crate::spaces::s3::S3Settings>> {
        if self.backend != BlobBackend::S3 {
            return Ok(None);
        }
        let secret_key = match (&self.s3_secret_key, &self.s3_secret_key_file) {
            (Some(k), _) => k.clone(),
            (None, Some(file)) => std::fs::read_to_string(file)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", file.display())))?
                .trim_end_matches(['\n', '\r'])
                .to_string(),
            (None, None) => String::new(),
        };
        let endpoint = self.s3_endpoint.clone().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "storage.s3_endpoint unset",
            )
        })?;
        Ok(Some(crate::spaces::s3::S3Settings {
            endpoint,
            region: self.s3_region.clone(),
            bucket: self.s3_bucket.clone(),
            path_style: self.s3_path_style,
            access_key: self.s3_access_key.clone(),
            secret_key,
        }))
    }
}
