//! Rendering one `<d:response>` of a PROPFIND: live properties of SPEC §5 from the node,
//! dead properties verbatim, a 200 propstat for what exists and a 404 one for the rest.

use std::collections::{HashMap, HashSet};

use quick_xml::escape::partial_escape;

use super::headers::{NS_DAV, NS_OC};
use super::href::{escape, href};
use super::locks::{LockRow, applying};
use super::propfind_req::{PropName, PropRequest};
use super::props::{DeadProp, strip_declaration};
use crate::spaces::{Mtime, Node, NodeId, Quota, Role, Space, SpacePath};

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
    pub locks: Vec<LockRow>,
    /// The space quota, when a quota property was asked for.
    pub quota: Option<Quota>,
}

/// One resource of the listing.
pub struct Entry<'a> {
    /// Its path below the URL prefix.
    pub rel: &'a SpacePath,
    /// The node.
    pub node: &'a Node,
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
    match (role, folder) {
        (Role::Manager, false) => "RDNVWZP",
        (Role::Manager, true) => "RDNVCKZP",
        (Role::Editor, false) => "DNVW",
        (Role::Editor, true) => "DNVCK",
        (Role::Viewer, _) => "",
    }
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

/// Open `<name` with the prefix of a known namespace or a local declaration of any other;
/// returns the qualified name for the end tag.
fn open_tag(buf: &mut String, ns: &str, name: &str) -> String {
    let qname = match ns {
        NS_DAV => format!("d:{name}"),
        NS_OC => format!("oc:{name}"),
        _ => name.to_string(),
    };
    buf.push('<');
    buf.push_str(&qname);
    if ns != NS_DAV && ns != NS_OC {
        buf.push_str(" xmlns=\"");
        buf.push_str(&quick_xml::escape::escape(ns));
        buf.push('"');
    }
    qname
}

fn element(buf: &mut String, ns: &str, name: &str, inner: &str) {
    let q = open_tag(buf, ns, name);
    if inner.is_empty() {
        buf.push_str("/>");
    } else {
        buf.push('>');
        buf.push_str(inner);
        buf.push_str("</");
        buf.push_str(&q);
        buf.push('>');
    }
}

impl Listing {
    fn rid(&self, id: NodeId) -> String {
        self.space.id.resource(id).to_string()
    }

    fn lockdiscovery(&self, e: &Entry) -> String {
        let p = self.base.join(e.rel);
        let mut out = String::new();
        let now = Mtime::now().0;
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
            out.push_str(&format!(
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
            ));
        }
        out
    }

    /// The inner XML of a live property, or `None` when the resource does not have it.
    fn live(&self, e: &Entry, ns: &str, name: &str) -> Option<String> {
        let n = e.node;
        let folder = n.is_folder();
        let display = if n.parent.is_none() {
            &self.space.name
        } else {
            &n.name
        };
        let v = match (ns, name) {
            (NS_DAV, "getetag") => n.quoted_etag(),
            (NS_DAV, "getlastmodified") => n.mtime.http_date(),
            (NS_DAV, "getcontentlength") if !folder => n.size.to_string(),
            (NS_DAV, "getcontenttype") if !folder => partial_escape(
                n.content_type
                    .as_deref()
                    .unwrap_or_else(|| mime_type(&n.name)),
            )
            .into_owned(),
            (NS_DAV, "resourcetype") => {
                if folder {
                    "<d:collection/>".into()
                } else {
                    String::new()
                }
            }
            (NS_DAV, "displayname") | (NS_OC, "name") => partial_escape(display).into_owned(),
            (NS_DAV, "quota-used-bytes") if folder => n.size.to_string(),
            (NS_DAV, "quota-available-bytes") if folder => match self.quota?.available() {
                Some(a) => a.to_string(),
                None => "-3".into(),
            },
            (NS_DAV, "lockdiscovery") => self.lockdiscovery(e),
            (NS_DAV, "supportedlock") => "<d:lockentry><d:lockscope><d:exclusive/></d:lockscope>\
                <d:locktype><d:write/></d:locktype></d:lockentry><d:lockentry><d:lockscope>\
                <d:shared/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockentry>"
                .into(),
            (NS_OC, "id" | "fileid") => self.rid(n.id),
            (NS_OC, "spaceid") => self.space.id.to_string(),
            (NS_OC, "file-parent") => self.rid(n.parent?),
            (NS_OC, "permissions") => permissions(self.role, folder).into(),
            (NS_OC, "size") => n.size.to_string(),
            (NS_OC, "checksums") if !folder && n.checksums.sha1.is_some() => {
                format!("<oc:checksum>{}</oc:checksum>", n.checksums.oc_string())
            }
            (NS_OC, "favorite") => if self.favorites.contains(&n.id) {
                "1"
            } else {
                "0"
            }
            .into(),
            (NS_OC, "privatelink") => {
                format!("{}/f/{}", self.public_base, escape(&self.rid(n.id)))
            }
            _ => return None,
        };
        Some(v)
    }

    fn dead_of<'a>(&'a self, n: &Node) -> &'a [DeadProp] {
        self.dead.get(&n.id).map(Vec::as_slice).unwrap_or(&[])
    }
}

fn propstat(buf: &mut String, inner: &str, status: &str) {
    buf.push_str("<d:propstat><d:prop>");
    buf.push_str(inner);
    buf.push_str("</d:prop><d:status>HTTP/1.1 ");
    buf.push_str(status);
    buf.push_str("</d:status></d:propstat>");
}

/// Append the `<d:response>` of one resource.
pub fn render_response(buf: &mut String, l: &Listing, e: &Entry) {
    let folder = e.node.is_folder();
    let mut found = String::new();
    let mut missing = String::new();
    let kind: &[(&str, &str)] = if folder {
        &ALLPROP_FOLDER
    } else {
        &ALLPROP_FILE
    };
    let dead = l.dead_of(e.node);
    let named = |ns: &str, name: &str, found: &mut String, missing: &mut String| {
        if is_live(ns, name) {
            match l.live(e, ns, name) {
                Some(v) => element(found, ns, name, &v),
                None => element(missing, ns, name, ""),
            }
        } else {
            match dead.iter().find(|d| d.namespace == ns && d.name == name) {
                Some(d) => found.push_str(strip_declaration(&d.xml)),
                None => element(missing, ns, name, ""),
            }
        }
    };
    match &l.request {
        PropRequest::AllProp(include) => {
            for (ns, name) in ALLPROP_COMMON.iter().chain(kind) {
                if let Some(v) = l.live(e, ns, name) {
                    element(&mut found, ns, name, &v);
                }
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
                    named(&p.ns, &p.name, &mut found, &mut missing);
                }
            }
        }
        PropRequest::PropName => {
            for (ns, name) in ALLPROP_COMMON.iter().chain(kind).chain(&PROPNAME_EXTRA) {
                if l.live(e, ns, name).is_some() || (*name == "quota-available-bytes" && folder) {
                    element(&mut found, ns, name, "");
                }
            }
            for d in dead {
                element(&mut found, &d.namespace, &d.name, "");
            }
        }
        PropRequest::Prop(list) => {
            for PropName { ns, name } in list {
                named(ns, name, &mut found, &mut missing);
            }
        }
    }
    buf.push_str("<d:response><d:href>");
    buf.push_str(&href(&l.prefix, e.rel, folder));
    buf.push_str("</d:href>");
    let show_missing = !missing.is_empty() && !l.minimal;
    if !found.is_empty() || !show_missing {
        propstat(buf, &found, "200 OK");
    }
    if show_missing {
        propstat(buf, &missing, "404 Not Found");
    }
    buf.push_str("</d:response>");
}
