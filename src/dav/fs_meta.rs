//! What dav-server's file system and file handles share: a node as dav-server sees it
//! ([`NodeMeta`]) and how a storage failure reaches dav-server ([`failed`], [`fs_status`]).
//! Both `fs.rs` and `file.rs` depend on it, never on each other's internals.

use std::time::SystemTime;

use dav_server::fs::{DavMetaData, FsError, FsResult};

use super::request_ctx::ReqCtx;
use crate::spaces::{Node, StoreError};

/// A node as dav-server sees it; `etag()` is the propagated tree etag.
#[derive(Debug, Clone)]
pub struct NodeMeta(pub Node);

impl DavMetaData for NodeMeta {
    fn len(&self) -> u64 {
        self.0.size
    }
    fn modified(&self) -> FsResult<SystemTime> {
        Ok(self.0.mtime.system_time())
    }
    fn is_dir(&self) -> bool {
        self.0.is_folder()
    }
    fn etag(&self) -> Option<String> {
        Some(self.0.etag.clone())
    }
}

/// A failed storage call inside dav-server: the error is recorded for the decorator, which
/// answers with its status from [`super::error::DavError`]'s one table and hands its cause to the access
/// log (with the request id); dav-server gets the nearest status it can express.
pub fn failed(ctx: &ReqCtx, e: StoreError) -> FsError {
    let status = fs_status(&e);
    // A missing or existing target is dav-server's to answer per method (and often no
    // failure at all: a PUT looks its new file up first).
    if matches!(status, FsError::GeneralFailure) {
        ctx.set_error(e.into());
    }
    status
}

/// What dav-server is told about a storage failure. Only where RFC 4918's answer depends on
/// the method does dav-server choose it (a missing target or parent: 404 or 409; an existing
/// one: 405 or 412); everything else is a failure whose status the decorator takes from the
/// recorded [`super::error::DavError`], so a `StoreError` means the same on every WebDAV route.
pub fn fs_status(e: &StoreError) -> FsError {
    match e {
        StoreError::NotFound | StoreError::ParentMissing => FsError::NotFound,
        StoreError::AlreadyExists | StoreError::NameTaken(_) | StoreError::PreconditionFailed => {
            FsError::Exists
        }
        _ => FsError::GeneralFailure,
    }
}
