//! tus protocol constants: header names and fixed values, each with the section of the spec
//! that defines it (<https://tus.io/protocols/resumable-upload>, SPEC.md §3–§4). The ownCloud
//! and CORS headers the answers also carry live in [`crate::http::headers`].

use http::HeaderName;

/// `Tus-Resumable`: protocol version of a request or response (core protocol).
/// <https://tus.io/protocols/resumable-upload#tus-resumable>
pub const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
/// `Tus-Version`: versions the server supports (core protocol, OPTIONS and 412 answers).
/// <https://tus.io/protocols/resumable-upload#tus-version>
pub const TUS_VERSION: HeaderName = HeaderName::from_static("tus-version");
/// `Tus-Extension`: the extensions the server supports.
/// <https://tus.io/protocols/resumable-upload#tus-extension>
pub const TUS_EXTENSION: HeaderName = HeaderName::from_static("tus-extension");
/// `Tus-Max-Size`: the largest accepted `Upload-Length`.
/// <https://tus.io/protocols/resumable-upload#tus-max-size>
pub const TUS_MAX_SIZE: HeaderName = HeaderName::from_static("tus-max-size");
/// `Tus-Checksum-Algorithm`: algorithms accepted in `Upload-Checksum` (checksum extension).
/// <https://tus.io/protocols/resumable-upload#tus-checksum-algorithm>
pub const TUS_CHECKSUM_ALGORITHM: HeaderName = HeaderName::from_static("tus-checksum-algorithm");
/// `Upload-Offset`: the byte offset of a PATCH, or of the upload in a HEAD answer.
/// <https://tus.io/protocols/resumable-upload#upload-offset>
pub const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
/// `Upload-Length`: the size of the whole upload.
/// <https://tus.io/protocols/resumable-upload#upload-length>
pub const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
/// `Upload-Defer-Length: 1`: the length is not known yet (creation-defer-length).
/// <https://tus.io/protocols/resumable-upload#upload-defer-length>
pub const UPLOAD_DEFER_LENGTH: HeaderName = HeaderName::from_static("upload-defer-length");
/// `Upload-Metadata`: comma-separated `key base64value` pairs (creation).
/// <https://tus.io/protocols/resumable-upload#upload-metadata>
pub const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
/// `Upload-Expires`: when an unfinished upload expires. Unix seconds, as oCIS sends it
/// (SPEC §4), not the HTTP date of the tus text.
/// <https://tus.io/protocols/resumable-upload#upload-expires>
pub const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
/// `Upload-Checksum: <algorithm> <digest>` of a PATCH body (checksum extension).
/// <https://tus.io/protocols/resumable-upload#upload-checksum>
pub const UPLOAD_CHECKSUM: HeaderName = HeaderName::from_static("upload-checksum");
/// `Upload-Concat: partial` or `final;<url> <url>` (concatenation extension).
/// <https://tus.io/protocols/resumable-upload#upload-concat>
pub const UPLOAD_CONCAT: HeaderName = HeaderName::from_static("upload-concat");
/// `X-HTTP-Method-Override`: the method a `POST` stands for (core protocol).
/// <https://tus.io/protocols/resumable-upload#x-http-method-override>
pub use crate::http::headers::X_HTTP_METHOD_OVERRIDE;

/// The only protocol version spoken (core protocol).
pub const VERSION: &str = "1.0.0";
/// The body type of a PATCH (core protocol) and of creation-with-upload.
/// <https://tus.io/protocols/resumable-upload#patch>
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";
/// The `X-OC-MTime` answer value.
pub const MTIME_ACCEPTED: &str = "accepted";
/// The non-standard status of a checksum mismatch (checksum extension).
/// <https://tus.io/protocols/resumable-upload#checksum>
pub const CHECKSUM_MISMATCH: u16 = 460;
