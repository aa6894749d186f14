//! `TusError`: every way a tus request can fail, and the one table that maps it to a status
//! (SPEC §3 for creation, §4 for the upload resource).

use http::StatusCode;

use super::headers::CHECKSUM_MISMATCH;
use crate::spaces::StoreError;

/// A failed tus request. Variants name the condition; [`TusError::status`] is the only place
/// that turns one into an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum TusError {
    /// `Tus-Resumable` missing or not `1.0.0`.
    #[error("unsupported or missing Tus-Resumable")]
    UnsupportedVersion,
    /// Neither `Upload-Length` nor `Upload-Defer-Length: 1` on a creation.
    #[error("Upload-Length or Upload-Defer-Length required")]
    MissingLength,
    /// `Upload-Length` (or `Upload-Defer-Length`) is not a non-negative integer (or `1`).
    #[error("invalid Upload-Length")]
    InvalidLength,
    /// `Upload-Length` above `Tus-Max-Size`.
    #[error("Upload-Length exceeds Tus-Max-Size")]
    TooLarge,
    /// `Upload-Metadata` is malformed; the text names the offending pair.
    #[error("malformed Upload-Metadata: {0}")]
    InvalidMetadata(String),
    /// `filename` missing or its last segment unacceptable.
    #[error("invalid or missing filename")]
    InvalidFilename,
    /// `mtime` is not a unix time.
    #[error("invalid mtime metadata")]
    InvalidMtime,
    /// metadata `checksum` is not `<ALG> <hex>` of a supported algorithm.
    #[error("invalid checksum metadata")]
    InvalidMetadataChecksum,
    /// `filename` has a `..` (or `.`, or NUL) segment: nothing may leave the space.
    #[error("filename escapes its folder")]
    PathEscape,
    /// The target is an existing folder.
    #[error("target is a folder")]
    TargetIsFolder,
    /// The parent folder of the target does not exist.
    #[error("parent folder does not exist")]
    ParentMissing,
    /// `If-Match` does not match the target's etag.
    #[error("If-Match does not match")]
    PreconditionFailed,
    /// The target is locked by a WebDAV lock.
    #[error("target is locked")]
    Locked,
    /// The user may not write here.
    #[error("no write permission")]
    Forbidden,
    /// The upload does not fit into the space's quota.
    #[error("quota exceeded")]
    QuotaExceeded,
    /// A transfer token that is malformed, tampered with or not HS256.
    #[error("invalid transfer token")]
    InvalidToken,
    /// The upload session does not exist (any more).
    #[error("no such upload")]
    UploadNotFound,
    /// A PATCH whose `Content-Type` is not `application/offset+octet-stream`.
    #[error("Content-Type must be application/offset+octet-stream")]
    WrongContentType,
    /// `Upload-Offset` missing or not a non-negative integer.
    #[error("invalid Upload-Offset")]
    InvalidOffset,
    /// `Upload-Offset` differs from the upload's offset (or a concurrent change won).
    #[error("Upload-Offset does not match the upload's offset")]
    OffsetMismatch,
    /// The body would carry the upload beyond its `Upload-Length`.
    #[error("bytes beyond Upload-Length")]
    ExceedsLength,
    /// Another request on the same upload is in progress.
    #[error("upload busy")]
    Busy,
    /// `Upload-Checksum` names an algorithm that is not accepted.
    #[error("unsupported checksum algorithm")]
    UnsupportedChecksum,
    /// `Upload-Checksum` is not `<algorithm> <digest>` with a digest of the right length.
    #[error("malformed Upload-Checksum")]
    InvalidChecksum,
    /// The body (or, at completion, the whole file) does not match the checksum.
    #[error("checksum mismatch")]
    ChecksumMismatch,
    /// `Upload-Concat` malformed, or a final upload naming unusable partial uploads.
    #[error("invalid Upload-Concat: {0}")]
    InvalidConcat(String),
    /// A PATCH against a final (concatenated) upload.
    #[error("a final upload cannot be patched")]
    PatchOnFinal,
    /// `Upload-Length` on a PATCH that contradicts the known length.
    #[error("Upload-Length cannot change")]
    LengthChange,
    /// A method the upload resource does not serve.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The target changed so that the upload can no longer be committed.
    #[error("target changed during the upload")]
    Conflict,
    /// The request body broke off before it ended.
    #[error("request body interrupted: {0}")]
    Interrupted(String),
    /// The server's disk (or its quota, or a read-only data root) cannot take the bytes;
    /// the text is the cause, for the log. Nothing of the request was half-written.
    #[error("insufficient storage: {0}")]
    StorageFull(String),
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(StoreError),
}

/// A storage failure: a full or read-only medium is the client's to know (507, like a full
/// quota), anything else is internal.
impl From<StoreError> for TusError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::StorageFull(cause) | StoreError::ReadOnly(cause) => {
                TusError::StorageFull(cause)
            }
            other => TusError::Storage(other),
        }
    }
}

/// Blob I/O, classified by the storage core.
impl From<std::io::Error> for TusError {
    fn from(e: std::io::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl TusError {
    /// The HTTP status of this failure.
    pub fn status(&self) -> StatusCode {
        match self {
            TusError::UnsupportedVersion
            | TusError::MissingLength
            | TusError::InvalidFilename
            | TusError::PathEscape
            | TusError::ParentMissing
            | TusError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            TusError::InvalidLength
            | TusError::InvalidMetadata(_)
            | TusError::InvalidMtime
            | TusError::InvalidMetadataChecksum
            | TusError::InvalidOffset
            | TusError::UnsupportedChecksum
            | TusError::InvalidChecksum
            | TusError::InvalidConcat(_)
            | TusError::LengthChange
            | TusError::Interrupted(_) => StatusCode::BAD_REQUEST,
            TusError::TooLarge | TusError::ExceedsLength => StatusCode::PAYLOAD_TOO_LARGE,
            TusError::TargetIsFolder | TusError::OffsetMismatch | TusError::Conflict => {
                StatusCode::CONFLICT
            }
            TusError::Locked | TusError::Busy => StatusCode::LOCKED,
            TusError::Forbidden | TusError::InvalidToken | TusError::PatchOnFinal => {
                StatusCode::FORBIDDEN
            }
            TusError::QuotaExceeded | TusError::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            TusError::UploadNotFound => StatusCode::NOT_FOUND,
            TusError::WrongContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            TusError::ChecksumMismatch => {
                StatusCode::from_u16(CHECKSUM_MISMATCH).expect("460 is a valid status")
            }
            TusError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            TusError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body of the answer: empty (oCIS drops `/data` error bodies, SPEC §4), except that a
    /// malformed `Upload-Metadata` names the offending pair (SPEC §3), and a 507 says which
    /// storage is short, so that a client can tell its user (issue 15).
    pub fn body(&self) -> String {
        match self {
            TusError::InvalidMetadata(_) | TusError::InvalidConcat(_) => self.to_string(),
            TusError::QuotaExceeded => "Insufficient storage: the space's quota is exceeded".into(),
            TusError::StorageFull(_) => {
                "Insufficient storage: the server cannot store data at the moment".into()
            }
            _ => String::new(),
        }
    }
}
