//! `DavError`: every way a WebDAV request fails before or around dav-server, with the one
//! status table, and the Sabre-style XML error bodies the ownCloud clients parse (SPEC §5).

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

use super::headers::{NS_DAV, NS_SABRE, XML_CONTENT_TYPE};
use crate::spaces::StoreError;

/// A failed WebDAV request.
#[derive(Debug, thiserror::Error)]
pub enum DavError {
    /// The space, user or resource does not exist or is not visible to the requester.
    #[error("Resource not found")]
    NotFound,
    /// The requester may see but not change the resource.
    #[error("Access denied")]
    ReadOnly,
    /// `Depth` is not `0`, `1` (or `infinity` where enabled).
    #[error("Invalid Depth header value: {0}")]
    BadDepth(String),
    /// The request body is not the XML the method needs.
    #[error("Invalid XML: {0}")]
    MalformedXml(String),
    /// A path segment or name is not acceptable.
    #[error("Invalid path: {0}")]
    InvalidPath(String),
    /// `If` does not follow RFC 4918 §10.4.
    #[error(transparent)]
    BadIf(#[from] crate::http::if_header::BadIf),
    /// `X-OC-Mtime` is not a unix time.
    #[error("Invalid X-OC-Mtime: {0}")]
    BadMtime(String),
    /// `OC-Checksum`/`Upload-Checksum` cannot be parsed or names an unknown algorithm.
    #[error("Invalid checksum header: {0}")]
    BadChecksumHeader(String),
    /// The uploaded bytes do not match the checksum the client sent.
    #[error("The computed checksum does not match the one received from the client.")]
    ChecksumMismatch,
    /// `Content-Range` on PUT: partial updates go through tus.
    #[error("Content-Range is not supported on PUT; use tus")]
    PartialPut,
    /// COPY/MOVE into another space.
    #[error("Destination is in another space")]
    CrossSpace,
    /// COPY/MOVE to a URL of another server (RFC 4918 §9.8.5: 502).
    #[error("Destination is on another server")]
    OtherServer,
    /// COPY/MOVE onto a WebDAV root, which can be neither replaced nor removed.
    #[error("The destination is a root folder and cannot be replaced")]
    DestinationIsRoot,
    /// The parent folder of the target does not exist.
    #[error("Parent folder does not exist")]
    ParentMissing,
    /// A target exists where it must not, or a node changed meanwhile.
    #[error("Precondition failed")]
    PreconditionFailed,
    /// A folder is where a file was expected or the other way round.
    #[error("Conflicting resource type")]
    Conflict,
    /// The space quota cannot take the bytes.
    #[error("Insufficient storage")]
    QuotaExceeded,
    /// The server's disk is full or its data root read-only (the text is the cause, for the
    /// log): 507 like a full quota, with its own message (issue 15, README "Full disk").
    #[error("Insufficient storage: the server cannot store data at the moment")]
    StorageFull(String),
    /// The target is locked by a lock the request does not hold.
    #[error("Resource is locked")]
    Locked,
    /// A request value outside what the endpoint accepts (e.g. `oc:limit`, `Overwrite`).
    #[error("Invalid argument: {0}")]
    InvalidArgument(String),
    /// The method is not served on this URL (trash bin, versions, meta).
    #[error("Method not allowed here")]
    MethodNotAllowed,
    /// The storage core failed (logged; the body says nothing).
    #[error("internal error")]
    Internal(#[source] StoreError),
    /// A public link with a password, and none was sent.
    #[error("No 'Authorization: Basic' header found")]
    LinkPasswordRequired,
    /// A public link's password is wrong.
    #[error("wrong password")]
    LinkPasswordWrong,
    /// Too many wrong link passwords; retry after this many seconds.
    #[error("too many wrong passwords; try again later")]
    Throttled(u64),
}

impl DavError {
    /// Attach this error's cause to `res` for the observe middleware, which logs it once with
    /// the request id (at error for a 5xx).
    pub fn note_on(&self, res: &mut Response) {
        match self {
            DavError::Internal(e) => crate::http::note_cause(res, e),
            DavError::StorageFull(cause) => crate::http::note_cause(res, cause),
            other => crate::http::note_cause(res, other),
        }
    }

    /// The HTTP status and the Sabre exception class of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            DavError::NotFound => StatusCode::NOT_FOUND,
            DavError::ReadOnly | DavError::DestinationIsRoot => StatusCode::FORBIDDEN,
            DavError::BadDepth(_)
            | DavError::MalformedXml(_)
            | DavError::InvalidPath(_)
            | DavError::BadIf(_)
            | DavError::BadMtime(_)
            | DavError::BadChecksumHeader(_)
            | DavError::ChecksumMismatch
            | DavError::InvalidArgument(_) => StatusCode::BAD_REQUEST,
            DavError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            DavError::PartialPut => StatusCode::NOT_IMPLEMENTED,
            DavError::CrossSpace | DavError::OtherServer => StatusCode::BAD_GATEWAY,
            DavError::ParentMissing | DavError::Conflict => StatusCode::CONFLICT,
            DavError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            DavError::QuotaExceeded | DavError::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            DavError::Locked => StatusCode::LOCKED,
            DavError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            DavError::LinkPasswordRequired | DavError::LinkPasswordWrong => {
                StatusCode::UNAUTHORIZED
            }
            DavError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

impl From<StoreError> for DavError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => DavError::NotFound,
            StoreError::ParentMissing => DavError::ParentMissing,
            StoreError::AlreadyExists | StoreError::PreconditionFailed => {
                DavError::PreconditionFailed
            }
            StoreError::IsFolder
            | StoreError::NotFolder
            | StoreError::Conflict
            | StoreError::IntoItself
            | StoreError::NameTaken(_) => DavError::Conflict,
            StoreError::RootImmutable => DavError::ReadOnly,
            StoreError::GrantRevoked { hidden: true } => DavError::NotFound,
            StoreError::GrantRevoked { hidden: false } => DavError::ReadOnly,
            StoreError::Locked => DavError::Locked,
            StoreError::QuotaExceeded => DavError::QuotaExceeded,
            StoreError::InvalidPath(p) => DavError::InvalidPath(p.to_string()),
            StoreError::CrossSpace => DavError::CrossSpace,
            StoreError::StorageFull(cause) | StoreError::ReadOnly(cause) => {
                DavError::StorageFull(cause)
            }
            e @ (StoreError::Io(_) | StoreError::Db(_) | StoreError::Migrate(_)) => {
                DavError::Internal(e)
            }
        }
    }
}

impl From<crate::spaces::InvalidPath> for DavError {
    fn from(e: crate::spaces::InvalidPath) -> Self {
        DavError::InvalidPath(e.to_string())
    }
}

/// The Sabre exception class clients see for a status.
fn exception(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Sabre\\DAV\\Exception\\BadRequest",
        401 => "Sabre\\DAV\\Exception\\NotAuthenticated",
        403 => "Sabre\\DAV\\Exception\\Forbidden",
        404 => "Sabre\\DAV\\Exception\\NotFound",
        405 => "Sabre\\DAV\\Exception\\MethodNotAllowed",
        409 => "Sabre\\DAV\\Exception\\Conflict",
        412 => "Sabre\\DAV\\Exception\\PreconditionFailed",
        415 => "Sabre\\DAV\\Exception\\UnsupportedMediaType",
        416 => "Sabre\\DAV\\Exception\\RequestedRangeNotSatisfiable",
        423 => "Sabre\\DAV\\Exception\\Locked",
        501 => "Sabre\\DAV\\Exception\\NotImplemented",
        507 => "Sabre\\DAV\\Exception\\InsufficientStorage",
        _ => "Sabre\\DAV\\Exception",
    }
}

fn escape_text(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// A Sabre-style error document for `status` with `message`.
pub fn sabre_body(status: StatusCode, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"{NS_DAV}\" \
         xmlns:s=\"{NS_SABRE}\"><s:exception>{}</s:exception><s:message>{}</s:message></d:error>",
        exception(status),
        escape_text(message)
    )
}

/// A complete error response with a Sabre body.
pub fn sabre_response(status: StatusCode, message: &str) -> Response {
    let mut res = Response::new(Body::from(sabre_body(status, message)));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(XML_CONTENT_TYPE),
    );
    res
}

impl IntoResponse for DavError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            DavError::Internal(_) => "Internal Server Error".to_string(),
            other => other.to_string(),
        };
        let mut res = sabre_response(status, &message);
        match &self {
            // ownCloud Web shows its password form on this error code (oCIS's answer).
            DavError::LinkPasswordRequired => {
                *res.body_mut() = Body::from(sabre_body(status, &message).replace(
                    "</d:error>",
                    "<s:errorcode>ERR_MISSING_BASIC_AUTH</s:errorcode></d:error>",
                ));
            }
            DavError::Throttled(secs) => {
                if let Ok(v) = http::HeaderValue::from_str(&secs.to_string()) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Basic realm=\"spacedav\""),
            );
        }
        // For the observe middleware's log line (request id, status, reason): the only place
        // a WebDAV failure is logged.
        self.note_on(&mut res);
        res
    }
}
