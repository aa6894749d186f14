//! The `If` request header of RFC 4918 §10.4, parsed by its grammar. dav-server evaluates the
//! conditions but silently ignores a value it cannot parse, which would run a conditional
//! request unconditionally: [`parse`] lets the dispatcher answer such a value with 400, and
//! gives [`submitted_tokens`] the state tokens a request submits (WebDAV and tus alike, so it
//! lives in this shared leaf).
//!
//! ```text
//! If = ( 1*No-tag-list ) / ( 1*Tagged-list )
//! No-tag-list = List ; Tagged-list = Resource-Tag 1*List ; Resource-Tag = "<" Simple-ref ">"
//! List = "(" 1*Condition ")" ; Condition = ["Not"] (State-token / "[" entity-tag "]")
//! State-token = Coded-URL = "<" absolute-URI ">"
//! ```

/// One condition of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// A state token (`<opaquelocktoken:…>`, `<DAV:no-lock>`), with `Not`.
    Token { not: bool, token: String },
    /// An entity tag (`["…"]`, quotes kept), with `Not`.
    ETag { not: bool, etag: String },
}

/// The lists of one resource (`tag` is `None` in the no-tag form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    /// The Resource-Tag.
    pub tag: Option<String>,
    /// Each list is a conjunction; the lists are alternatives.
    pub lists: Vec<Vec<Condition>>,
}

/// Why an `If` value is malformed (the 400 body names it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid If header: {0}")]
pub struct BadIf(pub &'static str);

struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn skip_ws(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t']);
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.rest.chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.rest = &self.rest[c.len_utf8()..];
            true
        } else {
            false
        }
    }

    /// The text up to `close` (exclusive), consuming both; no whitespace allowed inside.
    fn until(&mut self, close: char, what: &'static str) -> Result<&'a str, BadIf> {
        let end = self.rest.find(close).ok_or(BadIf(what))?;
        let inner = &self.rest[..end];
        if inner.is_empty() || inner.contains([' ', '\t', '<', '>', '(', ')']) {
            return Err(BadIf(what));
        }
        self.rest = &self.rest[end + close.len_utf8()..];
        Ok(inner)
    }
}

/// `scheme ":" …` of an absolute URI (RFC 3986 §3.1).
fn is_absolute_uri(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `W/"…"` or `"…"`.
fn is_entity_tag(s: &str) -> bool {
    let s = s.strip_prefix("W/").unwrap_or(s);
    s.len() >= 2 && s.starts_with('"') && s.ends_with('"') && !s[1..s.len() - 1].contains('"')
}

fn condition(c: &mut Cursor<'_>) -> Result<Condition, BadIf> {
    c.skip_ws();
    // ABNF literals are case-insensitive (RFC 5234 §2.3).
    let not = c
        .rest
        .get(..3)
        .is_some_and(|w| w.eq_ignore_ascii_case("not"));
    if not {
        c.rest = &c.rest[3..];
    }
    if c.eat('<') {
        let token = c.until('>', "a state token is not <absolute-URI>")?;
        if !is_absolute_uri(token) {
            return Err(BadIf("a state token is not <absolute-URI>"));
        }
        Ok(Condition::Token {
            not,
            token: token.to_string(),
        })
    } else if c.eat('[') {
        let etag = c.until(']', "an entity tag is not [\"…\"]")?;
        if !is_entity_tag(etag) {
            return Err(BadIf("an entity tag is not [\"…\"]"));
        }
        Ok(Condition::ETag {
            not,
            etag: etag.to_string(),
        })
    } else {
        Err(BadIf(
            "a condition is neither <state-token> nor [entity-tag]",
        ))
    }
}

fn list(c: &mut Cursor<'_>) -> Result<Vec<Condition>, BadIf> {
    let mut conds = Vec::new();
    loop {
        if c.eat(')') {
            return if conds.is_empty() {
                Err(BadIf("an empty list"))
            } else {
                Ok(conds)
            };
        }
        if c.peek().is_none() {
            return Err(BadIf("a list is not closed"));
        }
        conds.push(condition(c)?);
    }
}

/// Parse an `If` value.
pub fn parse(value: &str) -> Result<Vec<Tagged>, BadIf> {
    let mut c = Cursor { rest: value };
    let mut out: Vec<Tagged> = Vec::new();
    let tagged = c.peek() == Some('<');
    while let Some(next) = c.peek() {
        let tag = match next {
            '<' if tagged => {
                c.eat('<');
                Some(c.until('>', "a resource tag is not <URL>")?.to_string())
            }
            '(' if !tagged => None,
            _ => return Err(BadIf("expected a resource tag or a list")),
        };
        let mut lists = Vec::new();
        while c.eat('(') {
            lists.push(list(&mut c)?);
            if !tagged {
                break;
            }
        }
        if lists.is_empty() {
            return Err(BadIf("a resource tag without a list"));
        }
        match out.last_mut() {
            Some(last) if tag.is_none() => last.lists.extend(lists),
            _ => out.push(Tagged { tag, lists }),
        }
    }
    if out.is_empty() {
        return Err(BadIf("no list"));
    }
    Ok(out)
}

/// The lock tokens a request submits: every state token in `If` (none when it is malformed,
/// which the dispatcher answers with 400), and `Lock-Token`.
pub fn submitted_tokens(headers: &http::HeaderMap) -> Vec<String> {
    use super::headers::{IF, LOCK_TOKEN};
    let mut out = Vec::new();
    for v in headers.get_all(IF).iter().filter_map(|v| v.to_str().ok()) {
        for tagged in parse(v).unwrap_or_default() {
            for cond in tagged.lists.into_iter().flatten() {
                if let Condition::Token { token, .. } = cond {
                    out.push(token);
                }
            }
        }
    }
    if let Some(v) = headers.get(LOCK_TOKEN).and_then(|v| v.to_str().ok()) {
        out.push(
            v.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_values_parse() {
        let v = parse(
            "</a/b> (<opaquelocktoken:1> [\"e\"]) (Not <DAV:no-lock>) <http://h/c> (<urn:uuid:2>)",
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].tag.as_deref(), Some("/a/b"));
        assert_eq!(v[0].lists.len(), 2);
        assert_eq!(
            v[0].lists[1],
            vec![Condition::Token {
                not: true,
                token: "DAV:no-lock".into()
            }]
        );
        let v = parse("(<opaquelocktoken:1>)(Not [W/\"x\"])").unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].lists.len(), 2);
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "",
            "garbage",
            "<opaquelocktoken:x>",
            "(opaquelocktoken:x)",
            "(<opaquelocktoken:x>",
            "()",
            "(Not)",
            "([\"etag\")",
            "([etag])",
            "(<>)",
            "(<no scheme>)",
            "</a>",
            "(<a:b>) </a> (<a:c>)",
            "</a> (<a:b>) trailing",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn submitted_tokens_come_from_if_and_lock_token() {
        use crate::http::headers::{IF, LOCK_TOKEN};
        let mut h = http::HeaderMap::new();
        h.insert(
            IF,
            "</dav/a> (<opaquelocktoken:1> [\"etag\"]) (Not <urn:uuid:2>)"
                .parse()
                .unwrap(),
        );
        h.insert(LOCK_TOKEN, "opaquelocktoken:3".parse().unwrap());
        assert_eq!(
            submitted_tokens(&h),
            vec!["opaquelocktoken:1", "urn:uuid:2", "opaquelocktoken:3"]
        );
    }
}
