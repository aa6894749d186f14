//! Rendering one `<d:response>` of a PROPFIND: live properties of SPEC §5 from the node,
//! dead properties verbatim, a 200 propstat for what exists and a 404 one for the rest.

use crate::sharing::access::received_letters;
use std::collections::{HashMap, HashSet};

use std::fmt::Write;

use httpdate::HttpDate;
use percent_encoding::utf8_percent_encode;
use quick_xml::escape::partial_escape;

use super::headers::{NS_DAV, NS_OC};
use super::href::{HREF, escape, href};
use super::propfind_req::{PropName, PropRequest};
use super::props::strip_declaration;
use super::xml_write::{element_with, empty_element, propstat, push_oc_checksums};
use crate::spaces::applying;
use crate::spaces::{DeadProp, LockRecord, Mtime, Node, NodeId, Quota, Role, Space, SpacePath};

/// Everything a listing's responses are rendered from.
pub struct Listing {
    /// The space.
    pub space: Space,
    /// The requester's role.
    pub role: Role,
    /// Decoded URL prefix that hrefs keep.
    pub prefix: String,
    /// The folder the prefix addresses.
    pub base: SpacePath,
    /// `scheme://host[:port]` for `oc:privatelink`.
    pub public_base: String,
    /// What was asked for.
    pub request: PropRequest,
    /// `Prefer: return=minimal`.
    pub minimal: bool,
    /// Dead properties by node.
    pub dead: HashMap<NodeId, Vec<DeadProp>>,
    /// The requester's favorites.
    pub favorites: HashSet<NodeId>,
    /// Live locks of the space.
    pub locks: Vec<LockRecord>,
    /// Now on the store's clock: lock timeouts are shown as the seconds left from here.
    pub now: Mtime,
    /// The space quota, when a quota property was asked for.
    pub quota: Option<Quota>,
    /// The public link the request came through (for the `oc:public-link-*` properties).
    pub link: Option<LinkProps>,
    /// When the space is reached through shares the requester received: the OCS bits they
    /// hold, which `oc:permissions` then follows (reva's letters, with `S`).
    pub received: Option<u32>,
}

/// What ownCloud Web's public-link page reads about the link it opened.
#[derive(Debug, Clone)]
pub struct LinkProps {
    /// OCS permission bits (`4`: Web shows the upload-only drop page).
    pub permissions: u32,
    /// `file` or `folder`.
    pub item_type: &'static str,
    /// The creator's display name.
    pub owner: String,
    /// Creation time.
    pub created: Mtime,
    /// Expiry.
    pub expires: Option<Mtime>,
}

/// A folder whose children are being listed: its path and its escaped href (ending in
/// `/`), computed once so a child's href costs only the escaping of its name.
pub struct Dir {
    /// Its path below the URL prefix.
    pub rel: SpacePath,
    /// Its escaped href, ending in `/`.
    pub href: String,
}

impl Dir {
    /// The folder `rel` below the decoded URL `prefix`.
    pub fn new(prefix: &str, rel: SpacePath) -> Dir {
        Dir {
            href: href(prefix, &rel, true),
            rel,
        }
    }
}

/// Where a resource of the listing lies.
pub enum At<'a> {
    /// The resource the request addressed, at this path below the URL prefix.
    Listed(&'a SpacePath),
    /// A child (named by its node) of a listed folder.
    Child(&'a Dir),
}

/// One resource of the listing.
pub struct Entry<'a> {
    /// Where it lies.
    pub at: At<'a>,
    /// The node.
    pub node: &'a Node,
}

impl Entry<'_> {
    /// Its path below the URL prefix.
    fn rel(&self) -> SpacePath {
        match &self.at {
            At::Listed(p) => (*p).clone(),
            At::Child(d) => d
                .rel
                .child(&self.node.name)
                .unwrap_or_else(|_| d.rel.clone()),
        }
    }

    /// Append its escaped href.
    fn push_href(&self, buf: &mut String, prefix: &str) {
        let folder = self.node.is_folder();
        match &self.at {
            At::Listed(p) => buf.push_str(&href(prefix, p, folder)),
            At::Child(d) => {
                buf.push_str(&d.href);
                buf.extend(utf8_percent_encode(&self.node.name, HREF));
                if folder {
                    buf.push('/');
                }
            }
        }
    }
}

const DAV_LIVE: [&str; 10] = [
    "getetag",
    "getlastmodified",
    "getcontentlength",
    "getcontenttype",
    "resourcetype",
    "displayname",
    "quota-used-bytes",
    "quota-available-bytes",
    "lockdiscovery",
    "supportedlock",
];

/// Whether a property is computed (never stored): every `oc:` name and the DAV: live set.
pub fn is_live(ns: &str, name: &str) -> bool {
    ns == NS_OC || (ns == NS_DAV && DAV_LIVE.contains(&name))
}

const ALLPROP_COMMON: [(&str, &str); 13] = [
    (NS_OC, "id"),
    (NS_OC, "fileid"),
    (NS_OC, "spaceid"),
    (NS_OC, "file-parent"),
    (NS_OC, "name"),
    (NS_DAV, "displayname"),
    (NS_DAV, "getetag"),
    (NS_OC, "permissions"),
    (NS_DAV, "resourcetype"),
    (NS_DAV, "getlastmodified"),
    (NS_OC, "favorite"),
    (NS_DAV, "lockdiscovery"),
    (NS_DAV, "supportedlock"),
];
const ALLPROP_FOLDER: [(&str, &str); 1] = [(NS_OC, "size")];
const ALLPROP_FILE: [(&str, &str); 4] = [
    (NS_OC, "size"),
    (NS_DAV, "getcontentlength"),
    (NS_DAV, "getcontenttype"),
    (NS_OC, "checksums"),
];
const PROPNAME_EXTRA: [(&str, &str); 3] = [
    (NS_OC, "privatelink"),
    (NS_DAV, "quota-used-bytes"),
    (NS_DAV, "quota-available-bytes"),
];

/// The `oc:permissions` letters for a role (research/ocis-spec.md §6.3).
pub fn permissions(role: Role, folder: bool) -> &'static str {
    role.oc_permissions(folder)
}

/// A MIME type from the file name's extension.
pub fn mime_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt" | "cpp" | "c" | "h" | "rs" | "py" | "sh" | "log") => "text/plain",
        Some("md") => "text/markdown",
        Some("html" | "htm") => "text/html",
        Some("css") => "text/css",
        Some("csv") => "text/csv",
        Some("js") => "text/javascript",
        Some("json") => "application/json",
        Some("xml") => "application/xml",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        Some("gz") => "application/gzip",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("webp") => "image/webp",
        Some("mp3") => "audio/mpeg",
        Some("mp4") => "video/mp4",
        Some("odt") => "application/vnd.oasis.opendocument.text",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

const SUPPORTEDLOCK: &str = "<d:lockentry><d:lockscope><d:exclusive/></d:lockscope>\
    <d:locktype><d:write/></d:locktype></d:lockentry><d:lockentry><d:lockscope>\
    <d:shared/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockentry>";

impl Listing {
    fn rid(&self, id: NodeId) -> String {
        self.space.id.resource(id).to_string()
    }

    fn lockdiscovery(&self, out: &mut String, e: &Entry) {
        if self.locks.is_empty() {
            return;
        }
        let p = self.base.join(&e.rel());
        let now = self.now.0;
        for l in applying(&self.locks, &p) {
            let scope = if l.shared { "shared" } else { "exclusive" };
            let depth = if l.deep { "infinity" } else { "0" };
            let timeout = match l.expires_at {
                Some(t) => format!("Second-{}", ((t - now) / 1_000_000_000).max(0)),
                None => "Infinite".into(),
            };
            let root = SpacePath::parse(&l.path).unwrap_or_default();
            let rel = if root.starts_with(&self.base) {
                SpacePath::parse(&root.components()[self.base.components().len()..].join("/"))
                    .unwrap_or_default()
            } else {
                SpacePath::root()
            };
            let _ = write!(
                out,
                "<d:activelock><d:locktype><d:write/></d:locktype><d:lockscope><d:{scope}/>\
                 </d:lockscope><d:depth>{depth}</d:depth>{}<d:timeout>{timeout}</d:timeout>\
                 <d:locktoken><d:href>{}</d:href></d:locktoken><d:lockroot><d:href>{}</d:href>\
                 </d:lockroot></d:activelock>",
                l.owner_xml
                    .as_deref()
                    .map(|o| format!("<d:owner>{o}</d:owner>"))
                    .unwrap_or_default(),
                partial_escape(&l.token),
                href(&self.prefix, &rel, false),
            );
        }
    }

    /// Append the inner XML of a live property; `false` (nothing written) when the resource
    /// does not have it.
    fn live(&self, out: &mut String, e: &Entry, ns: &str, name: &str) -> bool {
        let n = e.node;
        let folder = n.is_folder();
        let display = if n.parent.is_none() {
            &self.space.name
        } else {
            &n.name
        };
        // Writing into a `String` cannot fail: the `fmt::Result`s are ignored.
        match (ns, name) {
            (NS_DAV, "getetag") => {
                out.push('"');
                out.push_str(&n.etag);
                out.push('"');
            }
            (NS_DAV, "getlastmodified") => {
                let _ = write!(out, "{}", HttpDate::from(n.mtime.system_time()));
            }
            (NS_DAV, "getcontentlength") if !folder => {
                let _ = write!(out, "{}", n.size);
            }
            (NS_DAV, "getcontenttype") if !folder => out.push_str(&partial_escape(
                n.content_type
                    .as_deref()
                    .unwrap_or_else(|| mime_type(&n.name)),
            )),
            (NS_DAV, "resourcetype") => {
                if folder {
                    out.push_str("<d:collection/>");
                }
            }
            (NS_DAV, "displayname") | (NS_OC, "name") => out.push_str(&partial_escape(display)),
            (NS_DAV, "quota-used-bytes") if folder => {
                let _ = write!(out, "{}", n.size);
            }
            (NS_DAV, "quota-available-bytes") if folder => match self.quota {
                None => return false,
                Some(q) => match q.available() {
                    Some(a) => {
                        let _ = write!(out, "{a}");
                    }
                    None => out.push_str("-3"),
                },
            },
            (NS_DAV, "lockdiscovery") => self.lockdiscovery(out, e),
            (NS_DAV, "supportedlock") => out.push_str(SUPPORTEDLOCK),
            (NS_OC, "id" | "fileid") => {
                let _ = write!(out, "{}", self.space.id.resource(n.id));
            }
            (NS_OC, "spaceid") => {
                let _ = write!(out, "{}", self.space.id);
            }
            (NS_OC, "file-parent") => match n.parent {
                Some(p) => {
                    let _ = write!(out, "{}", self.space.id.resource(p));
                }
                None => return false,
            },
            (NS_OC, "permissions") => match self.received {
                Some(bits) => out.push_str(&received_letters(bits, folder)),
                None => out.push_str(permissions(self.role, folder)),
            },
            (NS_OC, name) if name.starts_with("public-link-") => {
                let Some(l) = &self.link else { return false };
                match name {
                    "public-link-permission" => {
                        let _ = write!(out, "{}", l.permissions);
                    }
                    "public-link-item-type" => out.push_str(l.item_type),
                    "public-link-share-owner" => out.push_str(&partial_escape(&l.owner)),
                    "public-link-share-datetime" => out.push_str(&l.created.http_date()),
                    "public-link-expiration" => match l.expires {
                        Some(e) => out.push_str(&e.http_date()),
                        None => return false,
                    },
                    _ => return false,
                }
            }
            (NS_OC, "size") => {
                let _ = write!(out, "{}", n.size);
            }
            (NS_OC, "checksums") if !folder && n.checksums.sha1.is_some() => {
                out.push_str("<oc:checksum>");
                push_oc_checksums(out, &n.checksums);
                out.push_str("</oc:checksum>");
            }
            (NS_OC, "favorite") => out.push(if self.favorites.contains(&n.id) {
                '1'
            } else {
                '0'
            }),
            (NS_OC, "privatelink") => {
                out.push_str(&self.public_base);
                out.push_str("/f/");
                out.push_str(&escape(&self.rid(n.id)));
            }
            _ => return false,
        }
        true
    }

    fn dead_of<'a>(&'a self, n: &Node) -> &'a [DeadProp] {
        self.dead.get(&n.id).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Renders `<d:response>`s, reusing its scratch buffers from one resource to the next.
#[derive(Default)]
pub struct Renderer {
    found: String,
    missing: String,
    scratch: String,
}

impl Renderer {
    /// Append the `<d:response>` of one resource.
    pub fn response(&mut self, buf: &mut String, l: &Listing, e: &Entry) {
        let folder = e.node.is_folder();
        let Renderer {
            found,
            missing,
            scratch,
        } = self;
        found.clear();
        missing.clear();
        let kind: &[(&str, &str)] = if folder {
            &ALLPROP_FOLDER
        } else {
            &ALLPROP_FILE
        };
        let dead = l.dead_of(e.node);
        let named = |ns: &str, name: &str, found: &mut String, missing: &mut String| {
            if is_live(ns, name) {
                if !element_with(found, ns, name, |b| l.live(b, e, ns, name)) {
                    empty_element(missing, ns, name);
                }
            } else {
                match dead.iter().find(|d| d.namespace == ns && d.name == name) {
                    Some(d) => found.push_str(strip_declaration(&d.xml)),
                    None => empty_element(missing, ns, name),
                }
            }
        };
        match &l.request {
            PropRequest::AllProp(include) => {
                for (ns, name) in ALLPROP_COMMON.iter().chain(kind) {
                    element_with(found, ns, name, |b| l.live(b, e, ns, name));
                }
                for d in dead {
                    found.push_str(strip_declaration(&d.xml));
                }
                for p in include {
                    let listed = ALLPROP_COMMON
                        .iter()
                        .chain(kind)
                        .any(|(ns, n)| *ns == p.ns && *n == p.name)
                        || dead.iter().any(|d| d.namespace == p.ns && d.name == p.name);
                    if !listed {
                        named(&p.ns, &p.name, found, missing);
                    }
                }
            }
            PropRequest::PropName => {
                for (ns, name) in ALLPROP_COMMON.iter().chain(kind).chain(&PROPNAME_EXTRA) {
                    scratch.clear();
                    if l.live(scratch, e, ns, name) || (*name == "quota-available-bytes" && folder)
                    {
                        empty_element(found, ns, name);
                    }
                }
                for d in dead {
                    empty_element(found, &d.namespace, &d.name);
                }
            }
            PropRequest::Prop(list) => {
                for PropName { ns, name } in list {
                    named(ns, name, found, missing);
                }
            }
        }
        buf.push_str("<d:response><d:href>");
        e.push_href(buf, &l.prefix);
        buf.push_str("</d:href>");
        let show_missing = !missing.is_empty() && !l.minimal;
        if !found.is_empty() || !show_missing {
            propstat(buf, found, "200 OK");
        }
        if show_missing {
            propstat(buf, missing, "404 Not Found");
        }
        buf.push_str("</d:response>");
    }
}
