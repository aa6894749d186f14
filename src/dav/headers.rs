//! WebDAV protocol constants: the header names only WebDAV uses (the shared ones are
//! re-exported from [`crate::http::headers`]), XML namespaces, the `Allow` and `DAV` values.
//!
//! RFC 4918 (WebDAV): <https://www.rfc-editor.org/rfc/rfc4918>; the ownCloud extensions are
//! described in `SPEC.md` §5 and `research/ocis-spec.md` §6.

use http::HeaderName;

/// The headers WebDAV shares with other protocols are defined once, in [`crate::http::headers`].
pub use crate::http::headers::{
    DEPTH, DESTINATION, IF, LOCK_TOKEN, OC_CHECKSUM, OC_ETAG, OC_FILEID, OC_PERM, OVERWRITE,
    X_OC_MTIME,
};
/// `Prefer` (RFC 7240; `return=minimal` drops 404 propstats, RFC 8144 §2.1).
pub const PREFER: HeaderName = HeaderName::from_static("prefer");
/// `Preference-Applied` (RFC 7240 §3).
pub const PREFERENCE_APPLIED: HeaderName = HeaderName::from_static("preference-applied");
/// `DAV` compliance classes (RFC 4918 §10.1).
pub const DAV: HeaderName = HeaderName::from_static("dav");
/// `MS-Author-Via: DAV`, which Microsoft clients look for.
pub const MS_AUTHOR_VIA: HeaderName = HeaderName::from_static("ms-author-via");

/// tus checksum header, also accepted on a plain PUT (`<alg> <digest>`).
pub const UPLOAD_CHECKSUM: HeaderName = HeaderName::from_static("upload-checksum");

/// The `DAV:` namespace.
pub const NS_DAV: &str = "DAV:";
/// The ownCloud namespace of the `oc:` properties.
pub const NS_OC: &str = "http://owncloud.org/ns";
/// The SabreDAV namespace of error bodies.
pub const NS_SABRE: &str = "http://sabredav.org/ns";

/// Methods answered on every WebDAV URL (SPEC §5).
pub const ALLOW: &str =
    "OPTIONS, PROPFIND, PROPPATCH, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, LOCK, UNLOCK, POST";
/// Compliance classes: 1 and 2 (locking).
pub const DAV_CLASSES: &str = "1, 2";
/// `Content-Type` of every XML answer; the ownCloud desktop client insists on this spelling.
pub const XML_CONTENT_TYPE: &str = "application/xml; charset=utf-8";
