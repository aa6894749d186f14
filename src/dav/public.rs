//! WebDAV through public links and received shares: opening a link (its password and throttle,
//! answered in WebDAV terms), and narrowing each request to the share's OCS bits. A file drop
//! (create only) answers PROPFIND on its root alone, hides everything else as absent, and
//! never overwrites: an upload whose name is taken is stored under a free name instead.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue, Method, header};

use super::error::DavError;
use super::resolve::Target;
use super::url_parse::DavUrl;
use crate::auth::BasicCredentials;
use crate::sharing::access::Denied;
use crate::sharing::public::LinkError;
use crate::sharing::{CREATE, UPDATE};
use crate::spaces::{SpacePath, StoreError, User};
use crate::state::AppState;

const DEPTH: &str = "depth";
const UPLOAD_METADATA: &str = "upload-metadata";

/// Open the link a public URL names and return the user acting for it (the link's creator:
/// uploads land in their space and count against its quota).
pub async fn open(
    state: &AppState,
    url: &mut DavUrl,
    headers: &HeaderMap,
) -> Result<User, DavError> {
    if url.key.is_none() {
        // public.php/webdav: the token is the Basic user name.
        url.key = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().strip_prefix("Basic "))
            .and_then(|b| BasicCredentials::parse(b.trim()).ok())
            .map(|c| c.user);
    }
    let token = url.key.clone().ok_or(DavError::LinkPasswordRequired)?;
    let link = crate::sharing::public::open(state, &token, headers)
        .await
        .map_err(|e| match e {
            LinkError::NotFound => DavError::NotFound,
            LinkError::PasswordRequired => DavError::LinkPasswordRequired,
            LinkError::WrongPassword => DavError::LinkPasswordWrong,
            LinkError::Throttled(secs) => DavError::Throttled(secs),
            LinkError::Store(e) => e.into(),
        })?;
    state
        .store()
        .user(link.created_by)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => DavError::NotFound,
            e => e.into(),
        })
}

/// Narrow a request to what the share or link of `target` allows, adjusting it where a file
/// drop must not reveal more (Depth, free names). Returns the OCS bit the request needs
/// through the share (create, or update to replace a file; 0 without a share): a tus upload
/// needs it for its whole life (`spaces::upload_grant`).
pub async fn narrow(
    state: &AppState,
    target: &Target,
    method: &Method,
    headers: &mut HeaderMap,
    uri: &mut http::Uri,
) -> Result<u32, DavError> {
    let Some(access) = target.access else {
        return Ok(0);
    };
    let at_root = target.url.rest.components().is_empty();
    if target.only.is_some()
        && at_root
        && !matches!(method.as_str(), "PROPFIND" | "GET" | "HEAD" | "POST")
    {
        // A shared file's root is the owner's folder holding it: nothing may change there
        // (a lock or a property on it would reach beyond the file). POST may only replace
        // the file, checked below.
        return Err(DavError::ReadOnly);
    }
    if method.as_str() == "PROPFIND" {
        if access.create_only() && !at_root {
            return Err(DavError::NotFound);
        }
        if access.create_only() && at_root {
            headers.insert(DEPTH, HeaderValue::from_static("0"));
        }
    }
    let exists = match method.as_str() {
        "PUT" => exists(state, target, &target.path()).await?,
        "POST" => {
            if access.create_only() {
                rename_upload(state, target, headers).await?;
            }
            match metadata_filename(headers) {
                Some(name) => {
                    let rel = SpacePath::parse(&name).map_err(|_| DavError::InvalidPath(name))?;
                    if let Some(file) = target.only {
                        // Through a shared file, a tus creation may only replace that file.
                        let file = state.store().node(file).await?;
                        if rel.components() != [file.name] {
                            return Err(DavError::ReadOnly);
                        }
                    }
                    exists(state, target, &target.path().join(&rel)).await?
                }
                None => false,
            }
        }
        _ => false,
    };
    if exists && access.create_only() {
        let free = free_name(state, target, &target.path()).await?;
        let new_path = format!(
            "{}/{}",
            uri.path().rsplit_once('/').map_or("", |p| p.0),
            super::href::escape(&free)
        );
        *uri = new_path
            .parse()
            .map_err(|_| DavError::InvalidPath(new_path))?;
        return Ok(CREATE);
    }
    match access.check(method, exists) {
        Ok(()) => Ok(if exists { UPDATE } else { CREATE }),
        Err(Denied::Forbidden) => Err(DavError::ReadOnly),
        Err(Denied::Hidden) => Err(DavError::NotFound),
    }
}

/// Whether something exists at `path` in the target's space.
async fn exists(state: &AppState, target: &Target, path: &SpacePath) -> Result<bool, DavError> {
    match state.store().resolve(target.space_uuid(), path).await {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The decoded `filename` of a tus creation's `Upload-Metadata` (`None` when absent or
/// unreadable: tus creation then refuses the request with its own status).
pub fn metadata_filename(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(UPLOAD_METADATA)?.to_str().ok()?;
    raw.split(',').find_map(|p| {
        let (k, v) = p.trim().split_once(' ')?;
        let bytes = STANDARD.decode(v).ok()?;
        (k == "filename").then(|| String::from_utf8(bytes).ok())?
    })
}

/// Replace the `filename` of a tus creation's `Upload-Metadata`, keeping every other pair.
pub fn set_metadata_filename(headers: &mut HeaderMap, name: &str) {
    let Some(raw) = headers.get(UPLOAD_METADATA).and_then(|v| v.to_str().ok()) else {
        return;
    };
    let joined = raw
        .split(',')
        .map(|p| {
            let p = p.trim();
            match p.split_once(' ') {
                Some(("filename", _)) => format!("filename {}", STANDARD.encode(name)),
                _ => p.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    if let Ok(v) = HeaderValue::from_str(&joined) {
        headers.insert(UPLOAD_METADATA, v);
    }
}

/// `name (2).ext`, `name (3).ext`, … : the first name not taken next to `path`.
async fn free_name(
    state: &AppState,
    target: &Target,
    path: &SpacePath,
) -> Result<String, DavError> {
    let name = path.components().last().cloned().unwrap_or_default();
    let parent = path.parent().unwrap_or_else(SpacePath::root);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.clone(), String::new()),
    };
    for n in 2.. {
        let candidate = format!("{stem} ({n}){ext}");
        let p = parent.join(&SpacePath::parse(&format!("/{candidate}"))?);
        match state.store().resolve(target.space_uuid(), &p).await {
            Err(StoreError::NotFound) => return Ok(candidate),
            Ok(_) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("names run out")
}

/// For a tus creation into a file drop: point `filename` at a free name if it is taken.
async fn rename_upload(
    state: &AppState,
    target: &Target,
    headers: &mut HeaderMap,
) -> Result<(), DavError> {
    let Some(name) = metadata_filename(headers) else {
        return Ok(());
    };
    let Ok(rel) = SpacePath::parse(&name) else {
        return Ok(());
    };
    let path = target.path().join(&rel);
    if !exists(state, target, &path).await? {
        return Ok(());
    }
    let free = free_name(state, target, &path).await?;
    let renamed = match name.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{free}"),
        None => free,
    };
    set_metadata_filename(headers, &renamed);
    Ok(())
}
