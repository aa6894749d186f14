//! WebDAV on spaces (SPEC §5): the three roots of SPEC §1, dav-server over the storage core
//! for the RFC 4918 methods, our own PROPFIND with the ownCloud properties, locks and dead
//! properties kept by the storage core, and `POST` on a folder handed to tus creation.
//!
//! Shape (research/dav-server.md §5.1): [`dispatch`] authenticates and resolves the URL,
//! answers `OPTIONS`/`PROPFIND`/`POST` itself and passes the rest to a dav-server handler
//! built for the request's space ([`fs::SpacesFs`], [`lock_system::DbLocks`]), whose answer
//! [`decorate`] completes.

pub mod decorate;
pub mod dispatch;
pub mod error;
pub mod file;
pub mod fs;
mod fs_meta;
pub mod headers;
pub mod href;
pub mod jail;
pub mod lock_system;
pub mod locks;
pub mod meta;
pub mod multistatus;
pub mod propfind;
pub mod propfind_req;
pub mod propfind_xml;
pub mod props;
pub mod public;
pub mod report;
pub mod request_ctx;
pub mod resolve;
pub mod trash;
pub mod url_parse;
pub mod whole_tree;
pub mod xml_write;

use axum::Router;
use axum::routing::any;

pub use error::DavError;
pub use locks::is_locked_for;

use crate::tus::TusState;

/// Roots followed by a space key (`{sid}`, `{rid}` or a user name).
const KEYED_ROOTS: [&str; 6] = [
    "/remote.php/dav/public-files",
    "/dav/public-files",
    "/remote.php/dav/spaces",
    "/dav/spaces",
    "/remote.php/dav/files",
    "/dav/files",
];
/// Roots of the requester's own personal space.
const OWN_ROOTS: [&str; 3] = ["/remote.php/webdav", "/webdav", "/public.php/webdav"];

/// Every WebDAV route, with full paths (not `nest_service`, which would strip the prefix
/// hrefs must keep).
pub fn routes() -> Router<TusState> {
    let mut r = Router::new();
    for root in KEYED_ROOTS {
        r = r.route(&format!("{root}/{{*rest}}"), any(dispatch::dispatch));
    }
    // Recovery (issue 11): trash bins, resources by id, private links, and REPORT on the
    // bare spaces root (Web's search).
    for root in trash::ROOTS {
        r = r
            .route(root, any(trash::handle))
            .route(&format!("{root}/"), any(trash::handle))
            .route(&format!("{root}/{{*rest}}"), any(trash::handle));
    }
    for root in meta::ROOTS {
        r = r
            .route(root, any(meta::handle))
            .route(&format!("{root}/{{*rest}}"), any(meta::handle));
    }
    r = r.route(meta::PRIVATE_LINK, axum::routing::get(meta::private_link));
    for root in ["/remote.php/dav/spaces", "/dav/spaces"] {
        r = r
            .route(root, any(dispatch::dispatch))
            .route(&format!("{root}/"), any(dispatch::dispatch));
    }
    for root in OWN_ROOTS {
        r = r
            .route(root, any(dispatch::dispatch))
            .route(&format!("{root}/"), any(dispatch::dispatch))
            .route(&format!("{root}/{{*rest}}"), any(dispatch::dispatch));
    }
    r
}
