//! The values every protocol exchanges with clients about what the core records: a file's
//! mtime as unix seconds (`X-OC-Mtime`, tus `mtime` metadata), a digest as hex or base64
//! (`OC-Checksum`, `Upload-Checksum`), and a role's ownCloud permission letters (`OC-Perm`,
//! `oc:permissions`). One definition each, so that WebDAV and tus agree.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::checksum::Algorithm;
use super::model::{Mtime, Role};

impl Role {
    /// The ownCloud permission letters of a file or folder for this role
    /// (research/ocis-spec.md §6.3).
    pub fn oc_permissions(self, folder: bool) -> &'static str {
        match (self, folder) {
            (Role::Manager, false) => "RDNVWZP",
            (Role::Manager, true) => "RDNVCKZP",
            (Role::Editor, false) => "DNVW",
            (Role::Editor, true) => "DNVCK",
            (Role::Viewer, _) => "",
        }
    }
}

impl Mtime {
    /// Parse unix seconds with an optional decimal fraction (truncated to nanoseconds), as
    /// ownCloud clients send them. Negative times, exponents, a bare `.` on either side and
    /// values beyond the year 2262 are refused.
    pub fn parse_unix(text: &str) -> Option<Mtime> {
        let s = text.trim();
        let (int, frac) = match s.split_once('.') {
            Some((_, "")) => return None,
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        if int.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let secs: i64 = int.parse().ok()?;
        if secs > i64::MAX / 1_000_000_000 - 1 {
            return None;
        }
        let nanos: u32 = format!("{:0<9}", &frac[..frac.len().min(9)]).parse().ok()?;
        Some(Mtime::from_unix(secs, nanos))
    }
}

/// Decode a digest of `alg` given as hex (what ownCloud clients send) or standard base64
/// (the tus text); `None` unless it has the algorithm's length.
pub fn decode_digest(alg: Algorithm, text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let len = alg.digest_len();
    if text.len() == 2 * len && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(text).ok();
    }
    STANDARD.decode(text).ok().filter(|d| d.len() == len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_parse_the_same_for_every_protocol() {
        let cases: &[(&str, Option<i64>)] = &[
            ("1697446179", Some(1_697_446_179_000_000_000)),
            ("1697446179.5", Some(1_697_446_179_500_000_000)),
            ("1697446179.123456789123", Some(1_697_446_179_123_456_789)),
            (" 12 ", Some(12_000_000_000)),
            ("5000000000", Some(5_000_000_000_000_000_000)),
            ("0", Some(0)),
            ("-10", None),
            ("-0", None),
            ("+10", None),
            ("abc", None),
            ("1.", None),
            (".5", None),
            ("1.x", None),
            ("1e9", None),
            ("", None),
            ("99999999999999999999", None),
        ];
        for (s, want) in cases {
            assert_eq!(Mtime::parse_unix(s).map(|m| m.0), *want, "{s:?}");
        }
    }

    #[test]
    fn digests_decode_from_hex_or_base64_of_the_right_length() {
        let sha1 = "8cb2237d0679ca88db6464eac60da96345513964";
        let raw = hex::decode(sha1).unwrap();
        assert_eq!(decode_digest(Algorithm::Sha1, sha1), Some(raw.clone()));
        let upper = sha1.to_uppercase();
        assert_eq!(decode_digest(Algorithm::Sha1, &upper), Some(raw.clone()));
        let b64 = STANDARD.encode(&raw);
        assert_eq!(decode_digest(Algorithm::Sha1, &b64), Some(raw));
        assert_eq!(decode_digest(Algorithm::Md5, sha1), None);
        assert_eq!(decode_digest(Algorithm::Sha1, "zz"), None);
    }
}
