//! Href escaping (SPEC §1): every byte outside `A-Za-z0-9-._~$&+,/:;=@` becomes `%XX` of its
//! UTF-8 encoding, as Go's `url.URL.EscapedPath` does in oCIS.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::spaces::SpacePath;

/// The bytes an href keeps unescaped.
pub const HREF: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b',')
    .remove(b'/')
    .remove(b':')
    .remove(b';')
    .remove(b'=')
    .remove(b'@');

/// A decoded path escaped for an href or a `Location`.
pub fn escape(path: &str) -> String {
    utf8_percent_encode(path, HREF).to_string()
}

/// The href of `rel` (a path below the request's base) under the decoded `prefix`;
/// collections end with `/`.
pub fn href(prefix: &str, rel: &SpacePath, collection: bool) -> String {
    let mut s = escape(prefix);
    for c in rel.components() {
        s.push('/');
        s.push_str(&escape(c));
    }
    if collection || rel.is_root() {
        s.push('/');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_ocis() {
        let cases = [
            ("plain.txt", "plain.txt"),
            ("s,a,m,p,l,e.txt", "s,a,m,p,l,e.txt"),
            ("C++ file.cpp", "C++%20file.cpp"),
            ("?fi=le&%#2 . txt", "%3Ffi=le&%25%232%20.%20txt"),
            ("strängé file.txt", "str%C3%A4ng%C3%A9%20file.txt"),
            ("a!b(c)*'", "a%21b%28c%29%2A%27"),
            ("$x:y;z@w", "$x:y;z@w"),
        ];
        for (input, want) in cases {
            assert_eq!(escape(input), want, "{input}");
        }
    }

    #[test]
    fn href_keeps_prefix_and_marks_collections() {
        let rel = SpacePath::parse("a b/c").unwrap();
        assert_eq!(
            href("/dav/spaces/x$y", &rel, false),
            "/dav/spaces/x$y/a%20b/c"
        );
        assert_eq!(
            href("/dav/spaces/x$y", &rel, true),
            "/dav/spaces/x$y/a%20b/c/"
        );
        assert_eq!(
            href("/remote.php/webdav", &SpacePath::root(), true),
            "/remote.php/webdav/"
        );
    }
}
