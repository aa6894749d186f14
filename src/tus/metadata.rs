//! `Upload-Metadata`: strict parsing of the `key base64value` pairs, and the keys spacedav acts
//! on (SPEC §3): `filename` (where the file goes), `mtime`, `checksum`, `filetype`/`type`.
//! Every other key is kept with the session and otherwise ignored.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::TusError;
use crate::spaces::{Algorithm, Mtime, SpacePath, check_name};

/// The decoded pairs of an `Upload-Metadata` header, in order, with the raw header text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The header as the client sent it (answered back by `HEAD`).
    pub raw: String,
    pairs: Vec<(String, Vec<u8>)>,
}

impl Metadata {
    /// Parse a header value (`None` = no header). A pair that is neither `key` nor
    /// `key base64`, a value that is not padded standard base64, or a duplicate key is refused
    /// with a message naming the pair.
    pub fn parse(raw: Option<&str>) -> Result<Metadata, TusError> {
        let raw = raw.unwrap_or_default().trim();
        let mut pairs: Vec<(String, Vec<u8>)> = Vec::new();
        if raw.is_empty() {
            return Ok(Metadata::default());
        }
        for item in raw.split(',') {
            let item = item.trim();
            let bad = |why: &str| TusError::InvalidMetadata(format!("`{item}`: {why}"));
            let mut parts = item.split(' ');
            let key = parts.next().unwrap_or_default();
            let value = parts.next();
            if key.is_empty() {
                return Err(bad("empty key"));
            }
            if parts.next().is_some() {
                return Err(bad("expected `key` or `key base64value`"));
            }
            let value = match value {
                None => Vec::new(),
                Some(v) => STANDARD
                    .decode(v)
                    .map_err(|_| bad("value is not standard base64"))?,
            };
            if pairs.iter().any(|(k, _)| k == key) {
                return Err(bad("duplicate key"));
            }
            pairs.push((key.to_string(), value));
        }
        Ok(Metadata {
            raw: raw.to_string(),
            pairs,
        })
    }

    /// The decoded value of `key`.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// The value of `key` as text, treating the placeholders that browser clients stringify
    /// (`null`, `undefined`, empty) as absent.
    fn text(&self, key: &str) -> Option<Result<&str, ()>> {
        let v = self.get(key)?;
        match std::str::from_utf8(v) {
            Err(_) => Some(Err(())),
            Ok(s) if matches!(s.trim(), "" | "null" | "undefined") => None,
            Ok(s) => Some(Ok(s)),
        }
    }
}

/// What the acted-on keys say, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    /// The target, relative to the folder the upload was POSTed to.
    pub path: SpacePath,
    /// `mtime`, to set at completion.
    pub mtime: Option<Mtime>,
    /// `checksum`: the algorithm and the lower-case hex digest the whole file must have.
    pub checksum: Option<(Algorithm, String)>,
    /// `filetype` or `type`: the content type.
    pub content_type: Option<String>,
}

/// The last segment of `filename` follows the one name rule (SPEC §3,
/// [`crate::spaces::check_name`]); it is checked as sent, so `folder/` (an empty name) fails.
fn last_segment_ok(filename: &str) -> bool {
    let last = filename.rsplit('/').next().unwrap_or_default();
    check_name(last).is_ok()
}

/// Parse an mtime (metadata `mtime`, `X-OC-Mtime`): [`Mtime::parse_unix`], the rule WebDAV
/// applies too.
pub fn parse_mtime(s: &str) -> Option<Mtime> {
    Mtime::parse_unix(s)
}

/// Parse `checksum`: `<ALG> <hex>` with a supported algorithm and a digest of its length.
pub fn parse_checksum(s: &str) -> Option<(Algorithm, String)> {
    let (name, digest) = s.trim().split_once(' ')?;
    let alg = Algorithm::parse(name)?;
    let digest = digest.trim();
    (digest.len() == 2 * alg.digest_len() && digest.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| (alg, digest.to_ascii_lowercase()))
}

fn content_type(meta: &Metadata) -> Option<String> {
    ["filetype", "type"]
        .iter()
        .filter_map(|k| meta.text(k)?.ok())
        .map(str::trim)
        .find(|t| t.contains('/') && t.len() < 256 && t.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
}

/// The acted-on keys of a creation, checked in the order of SPEC §3's table. `needs_filename`
/// is false for a partial upload of a concatenation, which never becomes a file by itself.
pub fn upload_info(meta: &Metadata, needs_filename: bool) -> Result<Option<UploadInfo>, TusError> {
    let filename = match meta.get("filename").map(std::str::from_utf8) {
        Some(Ok(f)) if last_segment_ok(f) => Some(f),
        Some(_) => return Err(TusError::InvalidFilename),
        None if needs_filename => return Err(TusError::InvalidFilename),
        None => None,
    };
    let mtime = match meta.text("mtime") {
        None => None,
        Some(Ok(s)) => Some(parse_mtime(s).ok_or(TusError::InvalidMtime)?),
        Some(Err(())) => return Err(TusError::InvalidMtime),
    };
    let checksum = match meta.text("checksum") {
        None => None,
        Some(Ok(s)) => Some(parse_checksum(s).ok_or(TusError::InvalidMetadataChecksum)?),
        Some(Err(())) => return Err(TusError::InvalidMetadataChecksum),
    };
    let Some(filename) = filename else {
        return Ok(None);
    };
    // oCIS cleans `..` away; we refuse it: nothing may leave the space (SPEC §3).
    let path = SpacePath::parse(filename).map_err(|_| TusError::PathEscape)?;
    Ok(Some(UploadInfo {
        path,
        mtime,
        checksum,
        content_type: content_type(meta),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    #[test]
    fn parse_pairs_table() {
        let ok = format!("filename {},flag,mtime {}", b64("a.txt"), b64("12"));
        let m = Metadata::parse(Some(&ok)).unwrap();
        assert_eq!(m.get("filename"), Some(&b"a.txt"[..]));
        assert_eq!(m.get("flag"), Some(&b""[..]));
        assert_eq!(m.raw, ok);
        assert_eq!(Metadata::parse(None).unwrap(), Metadata::default());
        assert_eq!(Metadata::parse(Some("  ")).unwrap(), Metadata::default());
        let bad: &[(&str, &str)] = &[
            ("filename a b", "`filename a b`"),
            ("filename !!!", "`filename !!!`"),
            ("filename YQ", "`filename YQ`"),
            ("k YQ==,k YQ==", "duplicate"),
            ("a YQ==,,b YQ==", "empty key"),
            ("a  YQ==", "`a  YQ==`"),
        ];
        for (raw, needle) in bad {
            match Metadata::parse(Some(raw)) {
                Err(TusError::InvalidMetadata(msg)) => assert!(msg.contains(needle), "{msg}"),
                other => panic!("{raw:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn uppy_style_metadata_with_placeholders_is_accepted() {
        let raw = format!(
            "name {},type {},filetype {},relativePath {},spaceId {},mtime {},filename {}",
            b64("x.png"),
            b64("image/png"),
            b64("image/png"),
            b64("null"),
            b64("undefined"),
            b64("1697446179.123"),
            b64("x.png"),
        );
        let info = upload_info(&Metadata::parse(Some(&raw)).unwrap(), true)
            .unwrap()
            .unwrap();
        assert_eq!(info.path.to_string(), "/x.png");
        assert_eq!(info.content_type.as_deref(), Some("image/png"));
        assert_eq!(info.mtime, Some(Mtime(1_697_446_179_123_000_000)));
    }

    #[test]
    fn filename_rules_table() {
        let cases: &[(&str, Result<&str, u16>)] = &[
            ("a.txt", Ok("/a.txt")),
            ("/FOLDER/textFile.txt", Ok("/FOLDER/textFile.txt")),
            ("नेपाली.txt", Ok("/नेपाली.txt")),
            ("?fi=le&%#2 . txt", Ok("/?fi=le&%#2 . txt")),
            (" ", Err(412)),
            ("", Err(412)),
            ("folder/", Err(412)),
            ("filewithLF-and-CR\r\n", Err(412)),
            ("my\u{c}file", Err(412)),
            ("my\\file", Err(412)),
            ("..", Err(412)),
            (".", Err(412)),
            ("a\0b", Err(412)),
            ("../escape.txt", Err(412)),
            ("a/../../b.txt", Err(412)),
            ("a/./b.txt", Err(412)),
        ];
        for (name, want) in cases {
            let raw = format!("filename {}", b64(name));
            let got = upload_info(&Metadata::parse(Some(&raw)).unwrap(), true)
                .map(|i| i.unwrap().path.to_string())
                .map_err(|e| e.status().as_u16());
            assert_eq!(got.as_deref().map_err(|s| *s), *want, "{name:?}");
        }
        let long = "x".repeat(256);
        let raw = format!("filename {}", b64(&long));
        assert!(matches!(
            upload_info(&Metadata::parse(Some(&raw)).unwrap(), true),
            Err(TusError::InvalidFilename)
        ));
        assert!(matches!(
            upload_info(&Metadata::default(), true),
            Err(TusError::InvalidFilename)
        ));
        assert_eq!(upload_info(&Metadata::default(), false).unwrap(), None);
    }

    #[test]
    fn mtime_table() {
        let cases: &[(&str, Option<i64>)] = &[
            ("1697446179", Some(1_697_446_179_000_000_000)),
            ("1697446179.5", Some(1_697_446_179_500_000_000)),
            ("1697446179.123456789123", Some(1_697_446_179_123_456_789)),
            ("5000000000", Some(5_000_000_000_000_000_000)),
            ("-10", None),
            ("0", Some(0)),
            ("abc", None),
            ("1.", None),
            (".5", None),
            ("1e9", None),
            ("99999999999999999999", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_mtime(s).map(|m| m.0), *want, "{s:?}");
        }
        for (value, want) in [("null", Ok(None)), ("undefined", Ok(None)), ("x", Err(400))] {
            let raw = format!("filename {},mtime {}", b64("f"), b64(value));
            let got = upload_info(&Metadata::parse(Some(&raw)).unwrap(), true)
                .map(|i| i.unwrap().mtime)
                .map_err(|e| e.status().as_u16());
            assert_eq!(got, want, "{value}");
        }
    }

    #[test]
    fn checksum_table() {
        let cases: &[(&str, Option<(Algorithm, &str)>)] = &[
            (
                "SHA1 2AAE6C35C94FCFB415DBE95F408B9CE91EE846ED",
                Some((Algorithm::Sha1, "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")),
            ),
            (
                "md5 5eb63bbbe01eeed093cb22bb8f5acdc3",
                Some((Algorithm::Md5, "5eb63bbbe01eeed093cb22bb8f5acdc3")),
            ),
            ("ADLER32 1a0b045d", Some((Algorithm::Adler32, "1a0b045d"))),
            ("sha1 abc", None),
            ("crc32 1a0b045d", None),
            ("SHA1:2aae6c35c94fcfb415dbe95f408b9ce91ee846ed", None),
        ];
        for (s, want) in cases {
            assert_eq!(
                parse_checksum(s),
                want.map(|(a, h)| (a, h.to_string())),
                "{s:?}"
            );
        }
        let raw = format!("filename {},checksum {}", b64("f"), b64("SHA1 zz"));
        assert!(matches!(
            upload_info(&Metadata::parse(Some(&raw)).unwrap(), true),
            Err(TusError::InvalidMetadataChecksum)
        ));
    }
}
