//! PROPFIND request parsing (RFC 4918 §9.1): `Depth`, `Prefer`, and the body (allprop,
//! propname or a named list). Pure functions; stray text between elements is ignored
//! (ownCloud desktop 2.11 sends `</d:prop>M</d:propfind>`).

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::error::DavError;
use super::headers::NS_DAV;

/// `Depth` of a PROPFIND.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// The resource only.
    Zero,
    /// The resource and its children.
    One,
    /// The whole subtree (only when enabled in config).
    Infinity,
}

/// Parse `Depth`: missing = 1 (oCIS), `infinity` only when `allow_infinity`.
pub fn parse_depth(v: Option<&str>, allow_infinity: bool) -> Result<Depth, DavError> {
    match v.map(str::trim) {
        None => Ok(Depth::One),
        Some("0") => Ok(Depth::Zero),
        Some("1") => Ok(Depth::One),
        Some(s) if s.eq_ignore_ascii_case("infinity") && allow_infinity => Ok(Depth::Infinity),
        Some(s) => Err(DavError::BadDepth(s.to_string())),
    }
}

/// Whether `Prefer` asks for `return=minimal`.
pub fn prefers_minimal<'a>(values: impl Iterator<Item = &'a str>) -> bool {
    values
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"))
}

/// A property name: namespace URI (empty for none) and local name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PropName {
    /// Namespace URI.
    pub ns: String,
    /// Local name.
    pub name: String,
}

impl PropName {
    /// A name in `ns`.
    pub fn new(ns: &str, name: &str) -> Self {
        PropName {
            ns: ns.into(),
            name: name.into(),
        }
    }
}

/// What a PROPFIND asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropRequest {
    /// All properties, plus the named extra ones of `<include>`.
    AllProp(Vec<PropName>),
    /// The names of all properties.
    PropName,
    /// The named properties.
    Prop(Vec<PropName>),
}

fn bad(e: impl std::fmt::Display) -> DavError {
    DavError::MalformedXml(e.to_string())
}

/// Parse a PROPFIND body; empty means allprop.
pub fn parse_body(body: &[u8]) -> Result<PropRequest, DavError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(PropRequest::AllProp(Vec::new()));
    }
    let mut reader = NsReader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut depth = 0usize;
    let mut seen_root = false;
    // Which depth-1 element we are in: "prop", "include" or something else.
    let mut section = String::new();
    let mut mode: Option<PropRequest> = None;
    let mut names = Vec::new();
    let mut includes = Vec::new();
    loop {
        let (res, ev) = reader.read_resolved_event().map_err(bad)?;
        let (start, empty) = match &ev {
            Event::Start(_) => (true, false),
            Event::Empty(_) => (true, true),
            Event::End(_) => {
                depth = depth.checked_sub(1).ok_or_else(|| bad("unbalanced"))?;
                if depth == 1 {
                    section.clear();
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        debug_assert!(start);
        let e = match &ev {
            Event::Start(e) | Event::Empty(e) => e,
            _ => unreachable!("matched above"),
        };
        let ns = match res {
            ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => {
                return Err(bad(format!(
                    "unknown prefix {}",
                    String::from_utf8_lossy(&p)
                )));
            }
        };
        let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        match depth {
            0 => {
                if seen_root || ns != NS_DAV || local != "propfind" {
                    return Err(bad("root element must be DAV:propfind"));
                }
                seen_root = true;
            }
            1 if ns == NS_DAV => {
                section = local.clone();
                match local.as_str() {
                    "allprop" => mode = Some(PropRequest::AllProp(Vec::new())),
                    "propname" => mode = Some(PropRequest::PropName),
                    "prop" if mode.is_none() => mode = Some(PropRequest::Prop(Vec::new())),
                    _ => {}
                }
            }
            2 if section == "prop" => names.push(PropName { ns, name: local }),
            2 if section == "include" => includes.push(PropName { ns, name: local }),
            _ => {}
        }
        if !empty {
            depth += 1;
        } else if depth == 1 {
            section.clear();
        }
    }
    if depth != 0 || !seen_root {
        return Err(bad("incomplete document"));
    }
    Ok(match mode {
        Some(PropRequest::Prop(_)) if names.is_empty() => PropRequest::AllProp(includes),
        Some(PropRequest::Prop(_)) => PropRequest::Prop(names),
        Some(PropRequest::AllProp(_)) | None => PropRequest::AllProp(includes),
        Some(PropRequest::PropName) => PropRequest::PropName,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_rules() {
        let cases = [
            (None, false, Ok(Depth::One)),
            (Some("0"), false, Ok(Depth::Zero)),
            (Some("1"), false, Ok(Depth::One)),
            (Some("infinity"), true, Ok(Depth::Infinity)),
            (Some("infinity"), false, Err(())),
            (Some("2"), true, Err(())),
        ];
        for (v, allow, want) in cases {
            assert_eq!(parse_depth(v, allow).map_err(|_| ()), want, "{v:?}");
        }
    }

    #[test]
    fn prefer_minimal() {
        assert!(prefers_minimal(["return=minimal"].into_iter()));
        assert!(prefers_minimal(["wait=1, return=minimal"].into_iter()));
        assert!(!prefers_minimal(["return=representation"].into_iter()));
    }

    #[test]
    fn bodies() {
        let d = |n: &str| PropName::new(NS_DAV, n);
        let oc = |n: &str| PropName::new("http://owncloud.org/ns", n);
        let cases: Vec<(&str, Result<PropRequest, ()>)> = vec![
            ("", Ok(PropRequest::AllProp(vec![]))),
            (
                r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>"#,
                Ok(PropRequest::AllProp(vec![])),
            ),
            (
                r#"<propfind xmlns="DAV:"><propname/></propfind>"#,
                Ok(PropRequest::PropName),
            ),
            (
                r#"<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><d:getetag/><oc:fileid/></d:prop>M</d:propfind>"#,
                Ok(PropRequest::Prop(vec![d("getetag"), oc("fileid")])),
            ),
            (
                r#"<d:propfind xmlns:d="DAV:"><d:prop/></d:propfind>"#,
                Ok(PropRequest::AllProp(vec![])),
            ),
            (
                r#"<propfind xmlns="DAV:"><prop><x xmlns=""/><y:z xmlns:y="urn:y"><inner/></y:z></prop></propfind>"#,
                Ok(PropRequest::Prop(vec![
                    PropName::new("", "x"),
                    PropName::new("urn:y", "z"),
                ])),
            ),
            (r#"<propfind xmlns="DAV:"><prop>"#, Err(())),
            (r#"<foo xmlns="DAV:"/>"#, Err(())),
            (
                r#"<propfind xmlns="DAV:"><prop><bar:foo/></prop></propfind>"#,
                Err(()),
            ),
            ("not xml at all <", Err(())),
        ];
        for (body, want) in cases {
            assert_eq!(parse_body(body.as_bytes()).map_err(|_| ()), want, "{body}");
        }
    }
}
