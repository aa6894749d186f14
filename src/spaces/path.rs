//! `SpacePath`: a path inside a space, validated once.
//!
//! Only normal components survive parsing: no `.`/`..`, no NUL, no `/` inside a name, no empty
//! names. Every tree lookup takes a `SpacePath`, so nothing can address outside its space.

use std::fmt;

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
}

impl SpacePath {
    /// The space root.
    pub fn root() -> Self {
        SpacePath(Vec::new())
    }

    /// Parse a decoded `/`-separated path. Empty segments (`//`, leading or trailing `/`) are
    /// dropped; `.` and `..` segments are refused rather than resolved.
    pub fn parse(s: &str) -> Result<Self, InvalidPath> {
        let mut parts = Vec::new();
        for seg in s.split('/') {
            match seg {
                "" => continue,
                "." | ".." => return Err(InvalidPath::DotSegment(seg.into())),
                _ if seg.contains('\0') => return Err(InvalidPath::Nul),
                _ if seg.len() > 255 => return Err(InvalidPath::TooLong),
                _ => parts.push(seg.to_string()),
            }
        }
        Ok(SpacePath(parts))
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
    fn parent_name_and_prefix() {
        let p = SpacePath::parse("a/b/c").unwrap();
        assert_eq!(p.name(), Some("c"));
        assert_eq!(p.parent().unwrap().to_string(), "/a/b");
        assert!(p.starts_with(&SpacePath::parse("a").unwrap()));
        assert!(!p.starts_with(&SpacePath::parse("b").unwrap()));
        assert_eq!(SpacePath::root().parent(), None);
    }
}
