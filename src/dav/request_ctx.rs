//! `ReqCtx`: the per-request context dav-server hands to every filesystem call (the `C` of
//! `GuardedFileSystem<C>`), and `PutParams`, the ownCloud PUT headers parsed up front.

use std::sync::{Arc, Mutex};

use super::error::DavError;
use crate::spaces::{Algorithm, Mtime, Node, Role, SpacePath, User, decode_digest};

/// A checksum the client sent with a PUT, to verify before committing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedChecksum {
    /// The algorithm.
    pub alg: Algorithm,
    /// The digest bytes.
    pub digest: Vec<u8>,
}

/// What a PUT carries beyond its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutParams {
    /// `X-OC-Mtime`.
    pub mtime: Option<Mtime>,
    /// `OC-Checksum` or `Upload-Checksum`.
    pub checksum: Option<ExpectedChecksum>,
    /// The lock tokens the request submits, which the core's commit checks again.
    pub lock_tokens: Vec<String>,
    /// The commit's checks are the only ones (see `dispatch::commit_checks_only`): dav-server
    /// is told the target does not exist and holds no lock, so it looks neither up, and the
    /// decorator gives the status of what the commit did (201 created, 204 replaced).
    pub commit_checks_only: bool,
}

/// What the filesystem learnt while serving the request, read back by the response decorator.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The node a PUT committed or a MKCOL created.
    pub node: Option<Node>,
    /// Whether the PUT's commit replaced a file (else it created one).
    pub replaced: bool,
    /// The precise reason for a failure dav-server can only report as a fixed status.
    pub error: Option<DavError>,
}

/// Per-request context: who asks, in which space, with which role.
#[derive(Debug, Clone)]
pub struct ReqCtx {
    /// The authenticated user.
    pub user: User,
    /// The space uuid.
    pub space: uuid::Uuid,
    /// The user's role in the space.
    pub role: Role,
    /// The folder the URL prefix addresses (the root, or the folder of a `{rid}`).
    pub base: SpacePath,
    /// PUT parameters.
    pub put: PutParams,
    /// The destination of a MOVE: dav-server deletes an existing destination before it
    /// renames, but the storage core's rename replaces it itself (a replaced file becomes a
    /// version of the moved one, anything else goes to the trash in one piece), so removals
    /// at or below this path are left to the rename.
    pub move_onto: Option<SpacePath>,
    /// Filled by the filesystem.
    pub outcome: Arc<Mutex<Outcome>>,
}

impl ReqCtx {
    /// Record the node a write produced.
    pub fn set_node(&self, node: Node) {
        self.outcome.lock().unwrap_or_else(|e| e.into_inner()).node = Some(node);
    }

    /// Record the file a PUT committed, and whether it replaced one.
    pub fn set_committed(&self, node: Node, replaced: bool) {
        let mut o = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        o.node = Some(node);
        o.replaced = replaced;
    }

    /// Record why the request failed.
    pub fn set_error(&self, e: DavError) {
        self.outcome.lock().unwrap_or_else(|e| e.into_inner()).error = Some(e);
    }

    /// Take the recorded node and error.
    pub fn take_outcome(&self) -> Outcome {
        std::mem::take(&mut *self.outcome.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Parse `X-OC-Mtime` ([`Mtime::parse_unix`], the rule tus applies too).
pub fn parse_mtime(v: &str) -> Result<Mtime, DavError> {
    Mtime::parse_unix(v).ok_or_else(|| DavError::BadMtime(v.into()))
}

/// Parse `OC-Checksum: SHA1:<hex>` (several space-separated entries allowed; the first one
/// counts).
pub fn parse_oc_checksum(v: &str) -> Result<ExpectedChecksum, DavError> {
    let bad = || DavError::BadChecksumHeader(v.into());
    let first = v.split_whitespace().next().ok_or_else(bad)?;
    let (alg, digest) = first.split_once(':').ok_or_else(bad)?;
    let alg = Algorithm::parse(alg).ok_or_else(bad)?;
    let digest = decode_digest(alg, digest).ok_or_else(bad)?;
    Ok(ExpectedChecksum { alg, digest })
}

/// Parse `Upload-Checksum: <alg> <digest>` (digest base64 as in tus, or hex).
pub fn parse_upload_checksum(v: &str) -> Result<ExpectedChecksum, DavError> {
    let bad = || DavError::BadChecksumHeader(v.into());
    let (alg, digest) = v.trim().split_once(' ').ok_or_else(bad)?;
    let alg = Algorithm::parse(alg).ok_or_else(bad)?;
    let digest = decode_digest(alg, digest).ok_or_else(bad)?;
    Ok(ExpectedChecksum { alg, digest })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn checksum_headers_parse() {
        let sha1 = "8cb2237d0679ca88db6464eac60da96345513964";
        let oc = parse_oc_checksum(&format!("SHA1:{sha1} MD5:x")).unwrap();
        assert_eq!(oc.alg, Algorithm::Sha1);
        assert_eq!(hex::encode(&oc.digest), sha1);
        let up = parse_upload_checksum(&format!("sha1 {sha1}")).unwrap();
        assert_eq!(up, oc);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&oc.digest);
        assert_eq!(parse_upload_checksum(&format!("SHA1 {b64}")).unwrap(), oc);
        for bad in ["SHA1", "CRC9:00", "SHA1:abcd", "sha1"] {
            assert!(parse_oc_checksum(bad).is_err(), "{bad}");
        }
        assert!(parse_upload_checksum("md5 zz").is_err());
    }
}
