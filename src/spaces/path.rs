//! `SpacePath`: a path inside a space, validated once, and the one name rule.
//!
//! Only normal components survive parsing: no `.`/`..`, no NUL, no `/` inside a name, no empty
//! names, and every name in Unicode NFC, so the NFC and NFD spellings of a name (macOS writes
//! NFD) address the same node. Every tree lookup takes a `SpacePath`, so nothing can address
//! outside its space.
//!
//! [`check_name`] is the stricter rule for a name that *enters* a space (SPEC §3, README
//! "Names"): every layer that creates or renames a node calls it, through
//! [`SpacePath::check_new`], whatever protocol the name came in by (WebDAV PUT, MKCOL, LOCK,
//! COPY/MOVE `Destination`, tus `filename`, Graph). Existing names are not re-checked when
//! they are only addressed, so nothing stored becomes unreachable.

use std::borrow::Cow;
use std::fmt;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// A validated, normalised path inside a space. The root is the empty path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SpacePath(Vec<String>);

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPath {
    /// A `.` or `..` segment.
    #[error("path segment `{0}` is not allowed")]
    DotSegment(String),
    /// A NUL byte.
    #[error("path contains NUL")]
    Nul,
    /// A name longer than 255 bytes.
    #[error("name longer than 255 bytes")]
    TooLong,
    /// A new name that is empty or whitespace only.
    #[error("name is empty or whitespace only")]
    Blank,
    /// A new name with a character of [`FORBIDDEN_IN_NAMES`].
    #[error("name contains {0:?}, which no name may contain")]
    ForbiddenChar(char),
}

/// Characters no new name may contain (oCIS's rule, SPEC §3): line breaks and form feeds break
/// sync clients' journals and listings, a backslash is a path separator on Windows (`..\x`),
/// and NUL ends a C string.
pub const FORBIDDEN_IN_NAMES: [char; 5] = ['\u{c}', '\r', '\n', '\\', '\0'];

/// The longest name, in bytes of its NFC form (common filesystem limit).
pub const MAX_NAME_BYTES: usize = 255;

/// A name in the form it is stored and compared in: Unicode NFC.
pub fn normalize_name(name: &str) -> Cow<'_, str> {
    match is_nfc_quick(name.chars()) {
        IsNormalized::Yes => Cow::Borrowed(name),
        _ => Cow::Owned(name.nfc().collect()),
    }
}

/// The one rule for a name entering a space (SPEC §3): not empty or whitespace only, not `.`
/// or `..`, at most [`MAX_NAME_BYTES`] in NFC, none of [`FORBIDDEN_IN_NAMES`].
pub fn check_name(name: &str) -> Result<(), InvalidPath> {
    if name == "." || name == ".." {
        return Err(InvalidPath::DotSegment(name.into()));
    }
    if name.trim().is_empty() {
        return Err(InvalidPath::Blank);
    }
    if let Some(c) = name.chars().find(|c| FORBIDDEN_IN_NAMES.contains(c)) {
        return Err(InvalidPath::ForbiddenChar(c));
    }
    if normalize_name(name).len() > MAX_NAME_BYTES {
        return Err(InvalidPath::TooLong);
    }
    Ok(())
}

impl SpacePath {
    /// The space root.
    pub fn root() -> Self {
        SpacePath(Vec::new())
    }

    /// Parse a decoded `/`-separated path. Empty segments (`//`, leading or trailing `/`) are
    /// dropped; `.` and `..` segments are refused rather than resolved; names become NFC.
    pub fn parse(s: &str) -> Result<Self, InvalidPath> {
        let mut parts = Vec::new();
        for seg in s.split('/') {
            match seg {
                "" => continue,
                "." | ".." => return Err(InvalidPath::DotSegment(seg.into())),
                _ if seg.contains('\0') => return Err(InvalidPath::Nul),
                _ => {
                    let name = normalize_name(seg).into_owned();
                    if name.len() > MAX_NAME_BYTES {
                        return Err(InvalidPath::TooLong);
                    }
                    parts.push(name);
                }
            }
        }
        Ok(SpacePath(parts))
    }

    /// [`check_name`] on the last name, for a path about to be created or renamed to (the
    /// root passes: it is never created).
    pub fn check_new(&self) -> Result<(), InvalidPath> {
        self.name().map_or(Ok(()), check_name)
    }

    /// Whether this is the space root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The components from the root down.
    pub fn components(&self) -> &[String] {
        &self.0
    }

    /// The last component (`None` for the root).
    pub fn name(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }

    /// The parent path (`None` for the root).
    pub fn parent(&self) -> Option<SpacePath> {
        if self.0.is_empty() {
            None
        } else {
            Some(SpacePath(self.0[..self.0.len() - 1].to_vec()))
        }
    }

    /// This path extended by another one.
    pub fn join(&self, other: &SpacePath) -> SpacePath {
        let mut v = self.0.clone();
        v.extend(other.0.iter().cloned());
        SpacePath(v)
    }

    /// This path extended by a `/`-separated relative path (validated like `parse`).
    pub fn child(&self, rel: &str) -> Result<SpacePath, InvalidPath> {
        Ok(self.join(&SpacePath::parse(rel)?))
    }

    /// Whether `self` equals `other` or lies below it.
    pub fn starts_with(&self, other: &SpacePath) -> bool {
        self.0.starts_with(&other.0)
    }
}

impl fmt::Display for SpacePath {
    /// `/a/b` form; the root is `/`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("/");
        }
        for c in &self.0 {
            write!(f, "/{c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_normalises_and_refuses_escapes() {
        let cases: &[(&str, Result<&str, InvalidPath>)] = &[
            ("", Ok("/")),
            ("/", Ok("/")),
            ("a//b/", Ok("/a/b")),
            ("/नेपाली.txt", Ok("/नेपाली.txt")),
            ("?fi=le&%#2 . txt", Ok("/?fi=le&%#2 . txt")),
            ("a/../b", Err(InvalidPath::DotSegment("..".into()))),
            ("./a", Err(InvalidPath::DotSegment(".".into()))),
            ("a\0b", Err(InvalidPath::Nul)),
        ];
        for (input, want) in cases {
            let got = SpacePath::parse(input).map(|p| p.to_string());
            assert_eq!(got, want.clone().map(str::to_string), "{input:?}");
        }
        assert_eq!(
            SpacePath::parse(&"x".repeat(256)),
            Err(InvalidPath::TooLong)
        );
    }

    #[test]
    fn nfc_and_nfd_spellings_parse_to_one_path() {
        let nfc = SpacePath::parse("caf\u{e9}/na\u{ef}ve.txt").unwrap();
        let nfd = SpacePath::parse("cafe\u{301}/nai\u{308}ve.txt").unwrap();
        assert_eq!(nfc, nfd);
        assert_eq!(nfd.to_string(), "/caf\u{e9}/na\u{ef}ve.txt");
        assert!(matches!(normalize_name("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn the_name_rule_refuses_what_sync_clients_cannot_hold() {
        let cases: &[(&str, Result<(), InvalidPath>)] = &[
            ("a.txt", Ok(())),
            (" lead and trail ", Ok(())),
            ("?fi=le&%#2 . txt", Ok(())),
            ("नेपाली.txt", Ok(())),
            ("", Err(InvalidPath::Blank)),
            ("  \t", Err(InvalidPath::Blank)),
            (".", Err(InvalidPath::DotSegment(".".into()))),
            ("..", Err(InvalidPath::DotSegment("..".into()))),
            ("a\nb", Err(InvalidPath::ForbiddenChar('\n'))),
            ("a\rb", Err(InvalidPath::ForbiddenChar('\r'))),
            ("my\u{c}file", Err(InvalidPath::ForbiddenChar('\u{c}'))),
            ("..\\x", Err(InvalidPath::ForbiddenChar('\\'))),
            ("a\0b", Err(InvalidPath::ForbiddenChar('\0'))),
        ];
        for (name, want) in cases {
            assert_eq!(&check_name(name), want, "{name:?}");
        }
        assert_eq!(check_name(&"x".repeat(256)), Err(InvalidPath::TooLong));
        assert_eq!(check_name(&"x".repeat(255)), Ok(()));
        assert_eq!(SpacePath::root().check_new(), Ok(()));
        let bad = SpacePath::parse("ok/a\\b").unwrap();
        assert_eq!(bad.check_new(), Err(InvalidPath::ForbiddenChar('\\')));
    }

    #[test]
    fn parent_name_and_prefix() {
        let p = SpacePath::parse("a/b/c").unwrap();
        assert_eq!(p.name(), Some("c"));
        assert_eq!(p.parent().unwrap().to_string(), "/a/b");
        assert!(p.starts_with(&SpacePath::parse("a").unwrap()));
        assert!(!p.starts_with(&SpacePath::parse("b").unwrap()));
        assert_eq!(SpacePath::root().parent(), None);
    }
}
