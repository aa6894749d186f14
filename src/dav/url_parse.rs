//! WebDAV request URLs, parsed without looking anything up: [`parse_url`] splits a request path
//! into the root (SPEC §1), the decoded prefix that hrefs keep, the space key and the path
//! below it; [`destination_path`] reads a `Destination` header that names this server.

use percent_encoding::percent_decode_str;

use super::error::DavError;
use crate::spaces::SpacePath;

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
