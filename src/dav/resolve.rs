//! URL → (space, path, role) for the three WebDAV roots of SPEC §1.
//!
//! `parse_url` is pure: it splits a request path into the root, the decoded prefix that
//! hrefs keep, the space key and the path below it. `resolve` then looks the key up and
//! checks membership: a space the requester is not a member of is reported as not found.

use percent_encoding::percent_decode_str;

use super::error::DavError;
use crate::sharing::{Access, access::role_for};
use crate::spaces::{ResourceId, Role, Share, Space, SpaceId, SpacePath, StoreError, User, UserId};
use crate::state::AppState;

/// Which WebDAV root a URL uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// `/remote.php/dav/spaces/{sid|rid}/…`, `/dav/spaces/…`.
    Spaces,
    /// `/remote.php/dav/files/{user}/…`, `/dav/files/…`: the user's personal space.
    Files,
    /// `/remote.php/webdav/…`, `/webdav/…`: the requester's personal space.
    Webdav,
    /// `/remote.php/dav/public-files/{token}/…`, `/dav/public-files/…`: a public link.
    Public,
    /// `/public.php/webdav/…`: ownCloud 10's public root; the token is the Basic user name.
    PublicLegacy,
}

impl Root {
    /// Whether the root serves public links (no user signs in).
    pub fn is_public(self) -> bool {
        matches!(self, Root::Public | Root::PublicLegacy)
    }
}

const ROOTS: [(&str, Root); 9] = [
    ("/remote.php/dav/public-files", Root::Public),
    ("/dav/public-files", Root::Public),
    ("/public.php/webdav", Root::PublicLegacy),
    ("/remote.php/dav/spaces", Root::Spaces),
    ("/dav/spaces", Root::Spaces),
    ("/remote.php/dav/files", Root::Files),
    ("/dav/files", Root::Files),
    ("/remote.php/webdav", Root::Webdav),
    ("/webdav", Root::Webdav),
];

/// A parsed WebDAV URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DavUrl {
    /// The root.
    pub root: Root,
    /// The decoded path prefix up to and including the space key (no trailing `/`).
    pub prefix: String,
    /// The decoded space key (`{sid}`, `{rid}` or user name); `None` for the webdav root.
    pub key: Option<String>,
    /// The path below the prefix.
    pub rest: SpacePath,
}

fn decode(s: &str) -> Result<String, DavError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| DavError::InvalidPath(s.into()))
}

/// Split a raw (percent-encoded) request path. `None` if it is not under a WebDAV root.
pub fn parse_url(raw: &str) -> Option<Result<DavUrl, DavError>> {
    let (root_path, root, after) = ROOTS.iter().find_map(|(p, r)| {
        let after = raw.strip_prefix(p)?;
        (after.is_empty() || after.starts_with('/')).then_some((*p, *r, after))
    })?;
    Some(parse_below(root_path, root, after))
}

fn parse_below(root_path: &str, root: Root, after: &str) -> Result<DavUrl, DavError> {
    let (key, rest) = match root {
        Root::Webdav | Root::PublicLegacy => (None, after),
        Root::Spaces | Root::Files | Root::Public => {
            let after = after.trim_start_matches('/');
            let (k, r) = after.split_once('/').unwrap_or((after, ""));
            if k.is_empty() {
                return Err(DavError::NotFound);
            }
            (Some(decode(k)?), r)
        }
    };
    let prefix = match &key {
        Some(k) => format!("{root_path}/{k}"),
        None => root_path.to_string(),
    };
    let rest =
        SpacePath::parse(&decode(rest)?).map_err(|e| DavError::InvalidPath(e.to_string()))?;
    Ok(DavUrl {
        root,
        prefix,
        key,
        rest,
    })
}

/// A resolved WebDAV URL: where in which space, with which role.
#[derive(Debug, Clone)]
pub struct Target {
    /// The space.
    pub space: Space,
    /// The requester's role in it.
    pub role: Role,
    /// The folder the prefix addresses (the root, or the folder of a `{rid}`).
    pub base: SpacePath,
    /// The parsed URL.
    pub url: DavUrl,
    /// When access comes through a share or link: its OCS bits, which narrow `role`.
    pub access: Option<Access>,
}

impl Target {
    /// The space uuid.
    pub fn space_uuid(&self) -> uuid::Uuid {
        self.space.id.space
    }

    /// The addressed path from the space root.
    pub fn path(&self) -> SpacePath {
        self.base.join(&self.url.rest)
    }
}

fn not_found(e: StoreError) -> DavError {
    match e {
        StoreError::NotFound => DavError::NotFound,
        other => other.into(),
    }
}

/// The id of the space received shares appear in (oCIS's share jail).
pub const SHARE_JAIL: &str =
    "a0ca6a90-a365-4782-871e-d44447bbc668$a0ca6a90-a365-4782-871e-d44447bbc668";

/// Look up the space of `url` and the requester's role in it (or, for a resource the
/// requester does not hold a role on, the shares they received on it or above it).
pub async fn resolve(state: &AppState, user: &User, url: DavUrl) -> Result<Target, DavError> {
    let store = state.store();
    if url.root.is_public() {
        let token = url.key.clone().ok_or(DavError::NotFound)?;
        let link = crate::sharing::public::lookup(state, &token)
            .await
            .map_err(|_| DavError::NotFound)?;
        return public_target(state, &link, url).await;
    }
    if url.key.as_deref() == Some(SHARE_JAIL) {
        return jail_target(state, user, url).await;
    }
    let (space, base, node) = match (url.root, url.key.as_deref()) {
        (Root::Spaces, Some(key)) if key.contains('!') => {
            let rid: ResourceId = key.parse().map_err(|_| DavError::NotFound)?;
            if rid.space.storage != store.storage_id() {
                return Err(DavError::NotFound);
            }
            let node = store.node(rid.node).await.map_err(not_found)?;
            if node.space != rid.space.space || !node.is_folder() {
                return Err(DavError::NotFound);
            }
            let base = store.path_of(&node).await?;
            (
                store.space(rid.space.space).await.map_err(not_found)?,
                base,
                Some(node.id),
            )
        }
        (Root::Spaces, Some(key)) => {
            let sid: SpaceId = key.parse().map_err(|_| DavError::NotFound)?;
            if sid.storage != store.storage_id() {
                return Err(DavError::NotFound);
            }
            let space = store.space(sid.space).await.map_err(not_found)?;
            (space, SpacePath::root(), None)
        }
        (Root::Files, Some(name)) => {
            let owner = match store.user_by_name(name).await {
                Ok(u) => u,
                Err(StoreError::NotFound) => match uuid::Uuid::parse_str(name) {
                    Ok(id) => store.user(UserId(id)).await.map_err(not_found)?,
                    Err(_) => return Err(DavError::NotFound),
                },
                Err(e) => return Err(e.into()),
            };
            (
                store.space(owner.id.0).await.map_err(not_found)?,
                SpacePath::root(),
                None,
            )
        }
        _ => (
            store.space(user.id.0).await.map_err(not_found)?,
            SpacePath::root(),
            None,
        ),
    };
    let (role, access) = match store.role(space.id.space, user.id).await? {
        Some(role) => (role, None),
        None => {
            let node = node.ok_or(DavError::NotFound)?;
            let bits = store.received_permissions(user.id, node).await?;
            if bits == 0 {
                return Err(DavError::NotFound);
            }
            (role_for(bits), Some(Access(bits)))
        }
    };
    Ok(Target {
        space,
        role,
        base,
        url,
        access,
    })
}

/// `{jail}/{share name}/…`: a received folder share, addressed by the shared folder's name.
async fn jail_target(state: &AppState, user: &User, url: DavUrl) -> Result<Target, DavError> {
    let store = state.store();
    let comps = url.rest.components().to_vec();
    let name = comps.first().ok_or(DavError::NotFound)?;
    let now = state.clock().now_ns();
    let mut found = None;
    for share in store.shares_received(user.id).await? {
        let node = store.node(share.node).await?;
        if !share.expired(now) && node.is_folder() && &node.name == name {
            found = Some(node);
            break;
        }
    }
    let node = found.ok_or(DavError::NotFound)?;
    let bits = store.received_permissions(user.id, node.id).await?;
    let rest = SpacePath::parse(&format!("/{}", comps[1..].join("/")))?;
    let url = DavUrl {
        prefix: format!("{}/{}", url.prefix, name),
        rest,
        ..url
    };
    Ok(Target {
        space: store.space(node.space).await.map_err(not_found)?,
        role: role_for(bits),
        base: store.path_of(&node).await?,
        url,
        access: Some(Access(bits)),
    })
}

/// The target of a public link: a folder link addresses the folder; a file link addresses
/// the folder holding it, and nothing in it but the file.
pub async fn public_target(
    state: &AppState,
    link: &Share,
    url: DavUrl,
) -> Result<Target, DavError> {
    let store = state.store();
    let node = store.node(link.node).await.map_err(not_found)?;
    let path = store.path_of(&node).await?;
    let base = if node.is_folder() {
        path
    } else {
        let rest = url.rest.components();
        if !(rest.is_empty() || (rest.len() == 1 && rest[0] == node.name)) {
            return Err(DavError::NotFound);
        }
        path.parent().ok_or(DavError::NotFound)?
    };
    Ok(Target {
        space: store.space(link.space).await.map_err(not_found)?,
        role: role_for(link.permissions),
        base,
        url,
        access: Some(Access(link.permissions)),
    })
}

/// The path of a `Destination` header value (RFC 4918 §10.3) that names this server: a
/// path-only value, or an absolute URL whose host and port are those of the request's `Host`
/// or of the configured public URL. Another server is [`DavError::OtherServer`] (502).
pub fn destination_path(
    value: &str,
    host: Option<&str>,
    public: Option<&url::Url>,
) -> Result<String, DavError> {
    if value.starts_with('/') {
        return Ok(value.split(['?', '#']).next().unwrap_or(value).to_string());
    }
    let url = url::Url::parse(value).map_err(|_| DavError::InvalidPath("Destination".into()))?;
    let same = |other: &url::Url| {
        other.host_str() == url.host_str()
            && other.port_or_known_default() == url.port_or_known_default()
    };
    // `Host` carries no scheme: read it with the destination's, so default ports compare.
    let from_host = host.and_then(|h| url::Url::parse(&format!("{}://{h}", url.scheme())).ok());
    if from_host.iter().chain(public).any(same) {
        Ok(url.path().to_string())
    } else {
        Err(DavError::OtherServer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_url_splits_roots() {
        let sid = "1284d238-aa92-42ce-bdc4-0b0000009157$4c510ada-c86b-4815-8820-42cdf82c3d51";
        let enc = sid.replace('$', "%24");
        let cases: Vec<(String, Root, String, Option<&str>, &str)> = vec![
            (
                format!("/remote.php/dav/spaces/{enc}/a%20b/c.txt"),
                Root::Spaces,
                format!("/remote.php/dav/spaces/{sid}"),
                Some(sid),
                "/a b/c.txt",
            ),
            (
                format!("/dav/spaces/{sid}"),
                Root::Spaces,
                format!("/dav/spaces/{sid}"),
                Some(sid),
                "/",
            ),
            (
                "/remote.php/dav/files/Admin/x/".into(),
                Root::Files,
                "/remote.php/dav/files/Admin".into(),
                Some("Admin"),
                "/x",
            ),
            (
                "/remote.php/webdav".into(),
                Root::Webdav,
                "/remote.php/webdav".into(),
                None,
                "/",
            ),
            (
                "/webdav/%3Ffi=le&%25%232%20.%20txt".into(),
                Root::Webdav,
                "/webdav".into(),
                None,
                "/?fi=le&%#2 . txt",
            ),
        ];
        for (raw, root, prefix, key, rest) in cases {
            let u = parse_url(&raw).expect("matched").expect("parsed");
            assert_eq!(u.root, root, "{raw}");
            assert_eq!(u.prefix, prefix, "{raw}");
            assert_eq!(u.key.as_deref(), key, "{raw}");
            assert_eq!(u.rest.to_string(), rest, "{raw}");
        }
        assert!(parse_url("/webdavx/a").is_none());
        assert!(parse_url("/ocs/v1.php").is_none());
        assert!(matches!(
            parse_url("/webdav/a/../b"),
            Some(Err(DavError::InvalidPath(_)))
        ));
        assert!(matches!(
            parse_url("/dav/spaces/"),
            Some(Err(DavError::NotFound))
        ));
    }

    #[test]
    fn destination_path_accepts_this_server_only() {
        let public: url::Url = "https://files.example.org/".parse().unwrap();
        type Case<'a> = (
            &'a str,
            Option<&'a str>,
            Option<&'a url::Url>,
            Option<&'a str>,
        );
        let cases: &[Case] = &[
            (
                "http://h:1/webdav/a%20b?x",
                Some("h:1"),
                None,
                Some("/webdav/a%20b"),
            ),
            ("http://H:1/webdav/a", Some("h:1"), None, Some("/webdav/a")),
            ("https://h/webdav/a", Some("h"), None, Some("/webdav/a")),
            ("http://h:80/webdav/a", Some("h"), None, Some("/webdav/a")),
            ("/webdav/a", None, None, Some("/webdav/a")),
            (
                "https://files.example.org/webdav/a",
                Some("h"),
                Some(&public),
                Some("/webdav/a"),
            ),
            ("http://h:2/webdav/a", Some("h:1"), None, None),
            ("http://other/webdav/a", Some("h"), Some(&public), None),
            ("http://h/webdav/a", None, None, None),
        ];
        for (value, host, public, want) in cases {
            let got = destination_path(value, *host, *public);
            match want {
                Some(p) => assert_eq!(got.ok().as_deref(), Some(*p), "{value}"),
                None => assert!(matches!(got, Err(DavError::OtherServer)), "{value}"),
            }
        }
        assert!(matches!(
            destination_path("not a url", Some("h"), None),
            Err(DavError::InvalidPath(_))
        ));
    }
}
