//! WebDAV through public links and received shares: opening a link (its password and throttle,
//! answered in WebDAV terms), and narrowing each request to the share's OCS bits. A file drop
//! (create only) answers PROPFIND on its root alone, hides everything else as absent, and
//! never overwrites: an upload whose name is taken is stored under a free name instead.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue, Method, header};

use super::error::DavError;
use super::resolve::{DavUrl, Target};
use crate::auth::BasicCredentials;
use crate::sharing::access::Denied;
use crate::sharing::public::LinkError;
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
/// drop must not reveal more (Depth, free names).
pub async fn narrow(
    state: &AppState,
    target: &Target,
    method: &Method,
    headers: &mut HeaderMap,
    uri: &mut http::Uri,
) -> Result<(), DavError> {
    let Some(access) = target.access else {
        return Ok(());
    };
    let at_root = target.url.rest.components().is_empty();
    if method.as_str() == "PROPFIND" {
        if access.create_only() && !at_root {
            return Err(DavError::NotFound);
        }
        if access.create_only() && at_root {
            headers.insert(DEPTH, HeaderValue::from_static("0"));
        }
    }
    let exists = match method.as_str() {
        "PUT" => match state
            .store()
            .resolve(target.space_uuid(), &target.path())
            .await
        {
            Ok(_) => true,
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        },
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
        return Ok(());
    }
    if method.as_str() == "POST" && access.create_only() {
        rename_upload(state, target, headers).await?;
    }
    match access.check(method, exists) {
        Ok(()) => Ok(()),
        Err(Denied::Forbidden) => Err(DavError::ReadOnly),
        Err(Denied::Hidden) => Err(DavError::NotFound),
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
    let Some(raw) = headers.get(UPLOAD_METADATA).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let mut pairs: Vec<(String, String)> = raw
        .split(',')
        .map(|p| {
            let p = p.trim();
            let (k, v) = p.split_once(' ').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    let Some(pair) = pairs.iter_mut().find(|(k, _)| k == "filename") else {
        return Ok(());
    };
    let Some(name) = STANDARD
        .decode(&pair.1)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    else {
        return Ok(());
    };
    let Ok(rel) = SpacePath::parse(&name) else {
        return Ok(());
    };
    let path = target.path().join(&rel);
    match state.store().resolve(target.space_uuid(), &path).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    let free = free_name(state, target, &path).await?;
    let renamed = match name.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{free}"),
        None => free,
    };
    pair.1 = STANDARD.encode(renamed);
    let joined = pairs
        .iter()
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k} {v}")
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    if let Ok(v) = HeaderValue::from_str(&joined) {
        headers.insert(UPLOAD_METADATA, v);
    }
    Ok(())
}
