//! WebDAV and ownCloud protocol constants: header names, XML namespaces, permission letters.
//!
//! RFC 4918 (WebDAV): <https://www.rfc-editor.org/rfc/rfc4918>; the ownCloud extensions are
//! described in `SPEC.md` §5 and `research/ocis-spec.md` §6.

use http::HeaderName;

/// `Depth` (RFC 4918 §10.2).
pub const DEPTH: HeaderName = HeaderName::from_static("depth");
/// `Destination` of COPY/MOVE (RFC 4918 §10.3).
pub const DESTINATION: HeaderName = HeaderName::from_static("destination");
/// `If` with lock tokens and etags (RFC 4918 §10.4).
pub const IF: HeaderName = HeaderName::from_static("if");
/// `Lock-Token` of UNLOCK (RFC 4918 §10.5).
pub const LOCK_TOKEN: HeaderName = HeaderName::from_static("lock-token");
/// `Overwrite` of COPY/MOVE (RFC 4918 §10.6).
pub const OVERWRITE: HeaderName = HeaderName::from_static("overwrite");
/// `Prefer` (RFC 7240; `return=minimal` drops 404 propstats, RFC 8144 §2.1).
pub const PREFER: HeaderName = HeaderName::from_static("prefer");
/// `Preference-Applied` (RFC 7240 §3).
pub const PREFERENCE_APPLIED: HeaderName = HeaderName::from_static("preference-applied");
/// `DAV` compliance classes (RFC 4918 §10.1).
pub const DAV: HeaderName = HeaderName::from_static("dav");
/// `MS-Author-Via: DAV`, which Microsoft clients look for.
pub const MS_AUTHOR_VIA: HeaderName = HeaderName::from_static("ms-author-via");

/// ownCloud: the quoted etag again (clients read it when `ETag` is stripped by proxies).
pub const OC_ETAG: HeaderName = HeaderName::from_static("oc-etag");
/// ownCloud: the resource id `{rid}` of the file.
pub const OC_FILEID: HeaderName = HeaderName::from_static("oc-fileid");
/// ownCloud: `OC-Checksum: SHA1:<hex>` on PUT (to verify) and GET/HEAD (to report).
pub const OC_CHECKSUM: HeaderName = HeaderName::from_static("oc-checksum");
/// ownCloud: the permission letters of the resource.
pub const OC_PERM: HeaderName = HeaderName::from_static("oc-perm");
/// ownCloud: the client's mtime (unix seconds) for a PUT; answered with `accepted`.
pub const X_OC_MTIME: HeaderName = HeaderName::from_static("x-oc-mtime");
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
