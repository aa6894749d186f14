//! Appending XML to a reusable `String` without intermediate strings: element tags with
//! the multistatus prefixes (`d:`, `oc:`) or a local namespace declaration, propstats, and
//! values written in place. PROPFIND renders tens of thousands of elements per listing.

use quick_xml::escape::escape;

use super::headers::{NS_DAV, NS_OC};
use crate::spaces::Checksums;

/// Append the qualified name: the prefix of a known namespace, else the bare name.
pub fn qname(buf: &mut String, ns: &str, name: &str) {
    match ns {
        NS_DAV => buf.push_str("d:"),
        NS_OC => buf.push_str("oc:"),
        _ => {}
    }
    buf.push_str(name);
}

/// Open `<name` with the prefix of a known namespace or a local declaration of any other.
pub fn open_tag(buf: &mut String, ns: &str, name: &str) {
    buf.push('<');
    qname(buf, ns, name);
    if ns != NS_DAV && ns != NS_OC {
        buf.push_str(" xmlns=\"");
        buf.push_str(&escape(ns));
        buf.push('"');
    }
}

/// Append `<name/>`.
pub fn empty_element(buf: &mut String, ns: &str, name: &str) {
    open_tag(buf, ns, name);
    buf.push_str("/>");
}

/// Append an element whose content `inner` writes in place (no intermediate string); when
/// `inner` returns `false` (no such property) nothing stays written. Empty content gives
/// `<name/>`.
pub fn element_with(
    buf: &mut String,
    ns: &str,
    name: &str,
    inner: impl FnOnce(&mut String) -> bool,
) -> bool {
    let start = buf.len();
    open_tag(buf, ns, name);
    let tag_end = buf.len();
    buf.push('>');
    let content = buf.len();
    if !inner(buf) {
        buf.truncate(start);
        return false;
    }
    if buf.len() == content {
        buf.truncate(tag_end);
        buf.push_str("/>");
    } else {
        buf.push_str("</");
        qname(buf, ns, name);
        buf.push('>');
    }
    true
}

/// [`Checksums::oc_string`] appended in place (one per file of a listing).
pub fn push_oc_checksums(out: &mut String, c: &Checksums) {
    let parts = [
        ("SHA1:", &c.sha1),
        ("MD5:", &c.md5),
        ("ADLER32:", &c.adler32),
    ];
    let mut first = true;
    for (label, v) in parts {
        if let Some(v) = v {
            if !first {
                out.push(' ');
            }
            first = false;
            out.push_str(label);
            out.push_str(v);
        }
    }
}

/// Append a `<d:propstat>` with `inner` as its properties and `status` (e.g. `200 OK`).
pub fn propstat(buf: &mut String, inner: &str, status: &str) {
    buf.push_str("<d:propstat><d:prop>");
    buf.push_str(inner);
    buf.push_str("</d:prop><d:status>HTTP/1.1 ");
    buf.push_str(status);
    buf.push_str("</d:status></d:propstat>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_in_place_match_oc_string() {
        let some = |s: &str| Some(s.to_string());
        let cases = [
            Checksums::default(),
            Checksums {
                sha1: some("aa"),
                md5: some("bb"),
                adler32: some("cc"),
            },
            Checksums {
                sha1: None,
                md5: some("bb"),
                adler32: some("cc"),
            },
            Checksums {
                sha1: some("aa"),
                md5: None,
                adler32: None,
            },
        ];
        for c in cases {
            let mut out = String::new();
            push_oc_checksums(&mut out, &c);
            assert_eq!(out, c.oc_string());
        }
    }

    #[test]
    fn elements_are_written_in_place() {
        type Inner = fn(&mut String) -> bool;
        let cases: [(&str, &str, Inner, &str); 5] = [
            (
                NS_DAV,
                "getetag",
                |b| {
                    b.push_str("\"e\"");
                    true
                },
                "<d:getetag>\"e\"</d:getetag>",
            ),
            (
                NS_OC,
                "size",
                |b| {
                    b.push('7');
                    true
                },
                "<oc:size>7</oc:size>",
            ),
            (NS_DAV, "resourcetype", |_| true, "<d:resourcetype/>"),
            (NS_DAV, "getcontentlength", |_| false, ""),
            (
                "urn:x&y",
                "p",
                |b| {
                    b.push('1');
                    true
                },
                "<p xmlns=\"urn:x&amp;y\">1</p>",
            ),
        ];
        for (ns, name, inner, want) in cases {
            let mut buf = String::from("<a>");
            let present = element_with(&mut buf, ns, name, inner);
            assert_eq!(buf, format!("<a>{want}"), "{name}");
            assert_eq!(present, !want.is_empty(), "{name}");
        }
        let mut buf = String::new();
        empty_element(&mut buf, "urn:z", "q");
        assert_eq!(buf, "<q xmlns=\"urn:z\"/>");
    }
}
