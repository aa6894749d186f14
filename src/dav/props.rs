//! PROPPATCH instructions as storage-core changes: dead properties (RFC 4918 §4.3) are kept
//! as XML by the core ([`crate::spaces::DeadProp`]), `oc:favorite` is the requester's
//! favorite mark. Both are keyed by node id in the core, so MOVE keeps them and DELETE drops
//! them.

use dav_server::fs::DavProp;

use super::headers::NS_OC;
use crate::spaces::{DeadProp, PropChange};

/// The core change one PROPPATCH instruction (`set` or remove `prop`) stands for.
pub fn change(set: bool, prop: &DavProp) -> PropChange {
    let namespace = prop.namespace.clone().unwrap_or_default();
    if namespace == NS_OC && prop.name == "favorite" {
        return PropChange::Favorite(
            set && favorite_value(prop.xml.as_deref().unwrap_or_default()),
        );
    }
    if set {
        let xml = String::from_utf8_lossy(prop.xml.as_deref().unwrap_or_default());
        PropChange::Set(DeadProp {
            namespace,
            name: prop.name.clone(),
            xml: strip_declaration(&xml).to_string(),
        })
    } else {
        PropChange::Remove {
            namespace,
            name: prop.name.clone(),
        }
    }
}

/// Whether the text content of an `<oc:favorite>` element means "on".
fn favorite_value(xml: &[u8]) -> bool {
    let s = String::from_utf8_lossy(xml);
    let text = s
        .rsplit_once("</")
        .map(|(head, _)| head)
        .and_then(|head| head.rsplit_once('>'))
        .map(|(_, t)| t.trim())
        .unwrap_or("");
    text == "1" || text.eq_ignore_ascii_case("true")
}

/// Drop a leading `<?xml …?>` declaration.
pub fn strip_declaration(xml: &str) -> &str {
    let t = xml.trim_start();
    match t.strip_prefix("<?xml").and_then(|r| r.split_once("?>")) {
        Some((_, rest)) => rest.trim_start(),
        None => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn favorite_values_and_declarations() {
        assert!(favorite_value(
            b"<oc:favorite xmlns:oc=\"x\">1</oc:favorite>"
        ));
        assert!(!favorite_value(
            b"<oc:favorite xmlns:oc=\"x\">0</oc:favorite>"
        ));
        assert!(!favorite_value(b"<oc:favorite xmlns:oc=\"x\"/>"));
        assert_eq!(strip_declaration("<?xml version=\"1.0\"?><a/>"), "<a/>");
        assert_eq!(strip_declaration("<a/>"), "<a/>");
    }

    #[test]
    fn instructions_become_core_changes() {
        let prop = |ns: Option<&str>, name: &str, xml: Option<&str>| DavProp {
            name: name.into(),
            prefix: None,
            namespace: ns.map(str::to_string),
            xml: xml.map(|x| x.as_bytes().to_vec()),
        };
        let fav = |v: &str| format!("<oc:favorite xmlns:oc=\"{NS_OC}\">{v}</oc:favorite>");
        let dead = |ns: &str, name: &str, xml: &str| {
            PropChange::Set(DeadProp {
                namespace: ns.into(),
                name: name.into(),
                xml: xml.into(),
            })
        };
        let cases = [
            (
                true,
                prop(Some(NS_OC), "favorite", Some(&fav("1"))),
                PropChange::Favorite(true),
            ),
            (
                true,
                prop(Some(NS_OC), "favorite", Some(&fav("0"))),
                PropChange::Favorite(false),
            ),
            (
                false,
                prop(Some(NS_OC), "favorite", None),
                PropChange::Favorite(false),
            ),
            (
                true,
                prop(
                    Some("urn:x"),
                    "a",
                    Some("<?xml version=\"1.0\"?><a xmlns=\"urn:x\"/>"),
                ),
                dead("urn:x", "a", "<a xmlns=\"urn:x\"/>"),
            ),
            (true, prop(None, "b", Some("<b/>")), dead("", "b", "<b/>")),
            (
                false,
                prop(Some("urn:x"), "a", None),
                PropChange::Remove {
                    namespace: "urn:x".into(),
                    name: "a".into(),
                },
            ),
        ];
        for (set, p, want) in cases {
            assert_eq!(change(set, &p), want, "{set} {p:?}");
        }
    }
}
