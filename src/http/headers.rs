//! Header names of the protocols spacedav speaks that `http::header` does not define, each with
//! the document that defines it. Handlers use these constants, never string literals.

use http::HeaderName;

/// Request correlation id, echoed or generated on every response (SPEC §9).
/// <https://http.dev/x-request-id>
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Marks a request a page script sent (`XMLHttpRequest`); ownCloud Web sends it on every API
/// call. <https://en.wikipedia.org/wiki/List_of_HTTP_header_fields#Common_non-standard_request_fields>
pub const X_REQUESTED_WITH: HeaderName = HeaderName::from_static("x-requested-with");

/// OCS API version of an OCS response (`1` or `2`).
/// <https://doc.owncloud.com/server/next/developer_manual/core/apis/ocs-capabilities.html>
pub const OCS_API_VERSION: HeaderName = HeaderName::from_static("ocs-api-version");

/// Resource id of the addressed file (`{sid}!{node}`), ownCloud WebDAV extension.
/// <https://github.com/cs3org/reva/blob/edge/internal/http/services/owncloud/ocdav/net/headers.go>
pub const OC_FILEID: HeaderName = HeaderName::from_static("oc-fileid");

/// Entity tag of the file after a write, ownCloud WebDAV extension (same source as `OC-FileId`).
pub const OC_ETAG: HeaderName = HeaderName::from_static("oc-etag");

/// WebDAV permission letters of the resource (`oc:permissions`), ownCloud extension
/// (same source as `OC-FileId`).
pub const OC_PERM: HeaderName = HeaderName::from_static("oc-perm");

/// Checksum of the stored content, `SHA1:… MD5:… ADLER32:…` (same source as `OC-FileId`).
pub const OC_CHECKSUM: HeaderName = HeaderName::from_static("oc-checksum");

/// Client-supplied modification time in unix seconds, ownCloud extension
/// (same source as `OC-FileId`).
pub const X_OC_MTIME: HeaderName = HeaderName::from_static("x-oc-mtime");

/// Sent by the desktop client when validating a server (`desktop`); ignored but accepted.
/// <https://github.com/owncloud/client/blob/master/src/libsync/networkjobs.cpp>
pub const OC_CONNECTION_VALIDATOR: HeaderName = HeaderName::from_static("oc-connection-validator");

/// Id of the client session that started a change (echoed in events by oCIS).
/// <https://github.com/cs3org/reva/blob/edge/internal/http/services/owncloud/ocdav/net/headers.go>
pub const INITIATOR_ID: HeaderName = HeaderName::from_static("initiator-id");

/// WebDAV `If` with lock tokens and etags (RFC 4918 §10.4); tus requests submit lock tokens in
/// it too.
pub const IF: HeaderName = HeaderName::from_static("if");
/// WebDAV `Lock-Token` of LOCK and UNLOCK (RFC 4918 §10.5).
pub const LOCK_TOKEN: HeaderName = HeaderName::from_static("lock-token");
/// WebDAV `Depth` (RFC 4918 §10.2).
pub const DEPTH: HeaderName = HeaderName::from_static("depth");

/// WebDAV `Destination` (RFC 4918 §10.3).
pub const DESTINATION: HeaderName = HeaderName::from_static("destination");

/// WebDAV `Overwrite` (RFC 4918 §10.6).
pub const OVERWRITE: HeaderName = HeaderName::from_static("overwrite");

/// Method override for clients that cannot send `PATCH`/`DELETE`
/// (<https://tus.io/protocols/resumable-upload#x-http-method-override>).
pub const X_HTTP_METHOD_OVERRIDE: HeaderName = HeaderName::from_static("x-http-method-override");

/// Methods a CORS preflight allows (SPEC §8).
pub const CORS_ALLOW_METHODS: &str = "GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS, PROPFIND, \
     PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK";

/// Request headers a CORS preflight allows (SPEC §8; tus headers per
/// <https://tus.io/protocols/resumable-upload#headers>).
pub const CORS_ALLOW_HEADERS: &str = "Authorization, Content-Type, Depth, Destination, \
     Overwrite, If-Match, If-None-Match, Tus-Resumable, Upload-Length, Upload-Metadata, \
     Upload-Offset, Upload-Checksum, Upload-Concat, Upload-Defer-Length, X-HTTP-Method-Override, \
     X-Request-ID, X-OC-Mtime, Initiator-ID, Accept-Language, Cache-Control, OC-Checksum";

/// Response headers every CORS response exposes to scripts (SPEC §8).
pub const CORS_EXPOSE_HEADERS: &str = "Location, Upload-Offset, Upload-Length, Upload-Expires, \
     Upload-Metadata, Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, \
     Tus-Checksum-Algorithm, OC-FileId, OC-ETag, ETag, OC-Perm, Last-Modified, X-OC-MTime, \
     OC-Checksum, X-Request-ID";

/// `Purge: T` on Graph's `DELETE /drives/{id}`: delete a disabled space for good (oCIS).
/// <https://owncloud.dev/libre-graph-api/#/drives/DeleteDrive>
pub const PURGE: HeaderName = HeaderName::from_static("purge");

/// `Restore: true` on Graph's `PATCH /drives/{id}`: enable a disabled space again (oCIS).
/// <https://owncloud.dev/libre-graph-api/#/drives/UpdateDrive>
pub const RESTORE: HeaderName = HeaderName::from_static("restore");
