//! Pure parsers for the tus request headers. Each returns a typed value or the [`TusError`]
//! the request must be answered with; nothing here touches storage.

use http::{HeaderMap, HeaderName};

use super::error::TusError;
use super::headers::{
    OFFSET_OCTET_STREAM, TUS_RESUMABLE, UPLOAD_CHECKSUM, UPLOAD_CONCAT, UPLOAD_DEFER_LENGTH,
    UPLOAD_LENGTH, UPLOAD_OFFSET, VERSION, X_HTTP_METHOD_OVERRIDE,
};
use crate::spaces::{Algorithm, decode_digest};

/// The declared size of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// `Upload-Length: n`.
    Known(u64),
    /// `Upload-Defer-Length: 1`: the length comes with a later PATCH.
    Deferred,
}

/// A parsed `Upload-Checksum`: the algorithm and the raw digest bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkChecksum {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The expected digest.
    pub digest: Vec<u8>,
}

/// A parsed `Upload-Concat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concat {
    /// `partial`: this upload is one part of a later final upload.
    Partial,
    /// `final;<url> <url>`: the upload is the concatenation of these partial uploads, given as
    /// the last path segment of each URL (the transfer token).
    Final(Vec<String>),
}

fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Result<Option<&'a str>, ()> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(|s| Some(s.trim())).map_err(|_| ()),
    }
}

/// A non-negative decimal integer without sign or whitespace (`u64::from_str` takes `+1`).
fn non_negative(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `Tus-Resumable` must be present and `1.0.0`.
pub fn tus_resumable(headers: &HeaderMap) -> Result<(), TusError> {
    match header(headers, &TUS_RESUMABLE) {
        Ok(Some(VERSION)) => Ok(()),
        _ => Err(TusError::UnsupportedVersion),
    }
}

/// `Tus-Resumable`, when present, must be `1.0.0` (for requests where it is optional).
pub fn tus_resumable_if_present(headers: &HeaderMap) -> Result<(), TusError> {
    match header(headers, &TUS_RESUMABLE) {
        Ok(None) | Ok(Some(VERSION)) => Ok(()),
        _ => Err(TusError::UnsupportedVersion),
    }
}

/// `Upload-Length` or `Upload-Defer-Length: 1`; `None` when neither is present.
pub fn upload_length(headers: &HeaderMap) -> Result<Option<Length>, TusError> {
    let length = header(headers, &UPLOAD_LENGTH).map_err(|_| TusError::InvalidLength)?;
    let defer = header(headers, &UPLOAD_DEFER_LENGTH).map_err(|_| TusError::InvalidLength)?;
    match (length, defer) {
        (Some(""), None) | (None, None) => Ok(None),
        (Some(l), _) => non_negative(l)
            .map(|n| Some(Length::Known(n)))
            .ok_or(TusError::InvalidLength),
        (None, Some("1")) => Ok(Some(Length::Deferred)),
        (None, Some(_)) => Err(TusError::InvalidLength),
    }
}

/// `Upload-Offset`, required on a PATCH.
pub fn upload_offset(headers: &HeaderMap) -> Result<u64, TusError> {
    match header(headers, &UPLOAD_OFFSET) {
        Ok(Some(v)) => non_negative(v).ok_or(TusError::InvalidOffset),
        _ => Err(TusError::InvalidOffset),
    }
}

/// `Upload-Offset` on a creation-with-upload, `0` when absent.
pub fn creation_offset(headers: &HeaderMap) -> Result<u64, TusError> {
    match header(headers, &UPLOAD_OFFSET) {
        Ok(None) => Ok(0),
        _ => upload_offset(headers),
    }
}

/// `Upload-Checksum: <algorithm> <digest>`; an empty header counts as absent (the oCIS test
/// client sends one). Algorithms outside `accepted` are refused with 400.
pub fn upload_checksum(
    headers: &HeaderMap,
    accepted: &[Algorithm],
) -> Result<Option<ChunkChecksum>, TusError> {
    let value = match header(headers, &UPLOAD_CHECKSUM) {
        Ok(None) | Ok(Some("")) => return Ok(None),
        Ok(Some(v)) => v,
        Err(()) => return Err(TusError::InvalidChecksum),
    };
    let (name, text) = value.split_once(' ').ok_or(TusError::InvalidChecksum)?;
    let algorithm = Algorithm::parse(name)
        .filter(|a| accepted.contains(a))
        .ok_or(TusError::UnsupportedChecksum)?;
    let digest = decode_digest(algorithm, text).ok_or(TusError::InvalidChecksum)?;
    Ok(Some(ChunkChecksum { algorithm, digest }))
}

/// `Upload-Concat: partial` or `final;<url> <url> ...`.
pub fn upload_concat(headers: &HeaderMap) -> Result<Option<Concat>, TusError> {
    let bad = |why: &str| TusError::InvalidConcat(why.to_string());
    let value = match header(headers, &UPLOAD_CONCAT) {
        Ok(None) => return Ok(None),
        Ok(Some(v)) => v,
        Err(()) => return Err(bad("not ASCII")),
    };
    if value == "partial" {
        return Ok(Some(Concat::Partial));
    }
    let urls = value
        .strip_prefix("final;")
        .ok_or_else(|| bad("expected `partial` or `final;<url> ...`"))?;
    let tokens: Vec<String> = urls
        .split_ascii_whitespace()
        .map(|url| {
            let path = url.split(['?', '#']).next().unwrap_or_default();
            path.trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    if tokens.is_empty() || tokens.iter().any(String::is_empty) {
        return Err(bad("final upload names no partial uploads"));
    }
    Ok(Some(Concat::Final(tokens)))
}

/// Whether the body is tus upload data (`Content-Type: application/offset+octet-stream`).
pub fn is_offset_stream(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(OFFSET_OCTET_STREAM))
}

/// `Content-Length`, when given and numeric.
pub fn content_length(headers: &HeaderMap) -> Option<u64> {
    header(headers, &http::header::CONTENT_LENGTH)
        .ok()
        .flatten()
        .and_then(non_negative)
}

/// The method a request stands for: `X-HTTP-Method-Override` on a `POST`, else its own.
pub fn effective_method(method: &http::Method, headers: &HeaderMap) -> http::Method {
    if method != http::Method::POST {
        return method.clone();
    }
    match header(headers, &X_HTTP_METHOD_OVERRIDE) {
        Ok(Some(m)) if !m.is_empty() => {
            http::Method::from_bytes(m.to_ascii_uppercase().as_bytes()).unwrap_or(method.clone())
        }
        _ => method.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    type Pairs<'a> = &'a [(&'a str, &'a str)];
    type Expect<T> = Result<T, u16>;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn tus_resumable_must_be_1_0_0() {
        let cases: &[(Pairs, bool)] = &[
            (&[("Tus-Resumable", "1.0.0")], true),
            (&[("Tus-Resumable", " 1.0.0 ")], true),
            (&[("Tus-Resumable", "0.2.2")], false),
            (&[("Tus-Resumable", "")], false),
            (&[], false),
        ];
        for (h, ok) in cases {
            assert_eq!(tus_resumable(&headers(h)).is_ok(), *ok, "{h:?}");
        }
        assert!(tus_resumable_if_present(&headers(&[])).is_ok());
        assert!(tus_resumable_if_present(&headers(&[("Tus-Resumable", "2")])).is_err());
    }

    #[test]
    fn upload_length_table() {
        let cases: &[(Pairs, Expect<Option<Length>>)] = &[
            (&[], Ok(None)),
            (&[("Upload-Length", "")], Ok(None)),
            (&[("Upload-Length", "0")], Ok(Some(Length::Known(0)))),
            (
                &[("Upload-Length", "5368709120")],
                Ok(Some(Length::Known(5 << 30))),
            ),
            (&[("Upload-Length", "-1")], Err(400)),
            (&[("Upload-Length", "+1")], Err(400)),
            (&[("Upload-Length", "1.5")], Err(400)),
            (&[("Upload-Length", "abc")], Err(400)),
            (&[("Upload-Length", "99999999999999999999999")], Err(400)),
            (&[("Upload-Defer-Length", "1")], Ok(Some(Length::Deferred))),
            (&[("Upload-Defer-Length", "0")], Err(400)),
            (
                &[("Upload-Length", "7"), ("Upload-Defer-Length", "1")],
                Ok(Some(Length::Known(7))),
            ),
        ];
        for (h, want) in cases {
            let got = upload_length(&headers(h)).map_err(|e| e.status().as_u16());
            assert_eq!(&got, want, "{h:?}");
        }
    }

    #[test]
    fn upload_offset_table() {
        let cases: &[(Pairs, Expect<u64>)] = &[
            (&[("Upload-Offset", "0")], Ok(0)),
            (&[("Upload-Offset", "4294967297")], Ok(4294967297)),
            (&[("Upload-Offset", "-3")], Err(400)),
            (&[("Upload-Offset", "x")], Err(400)),
            (&[], Err(400)),
        ];
        for (h, want) in cases {
            let got = upload_offset(&headers(h)).map_err(|e| e.status().as_u16());
            assert_eq!(&got, want, "{h:?}");
        }
        assert_eq!(creation_offset(&headers(&[])).unwrap(), 0);
        assert!(creation_offset(&headers(&[("Upload-Offset", "q")])).is_err());
    }

    #[test]
    fn upload_checksum_table() {
        let all = Algorithm::ALL;
        let sha1_hex = "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed";
        let sha1_raw = hex::decode(sha1_hex).unwrap();
        let sha1_b64 = STANDARD.encode(&sha1_raw);
        type Parsed = Option<(Algorithm, Vec<u8>)>;
        let cases: Vec<(String, Expect<Parsed>)> = vec![
            (
                format!("sha1 {sha1_b64}"),
                Ok(Some((Algorithm::Sha1, sha1_raw.clone()))),
            ),
            (
                format!("SHA1 {sha1_hex}"),
                Ok(Some((Algorithm::Sha1, sha1_raw.clone()))),
            ),
            (
                "MD5 827ccb0eea8a706c4c34a16891f84e7b".into(),
                Ok(Some((
                    Algorithm::Md5,
                    hex::decode("827ccb0eea8a706c4c34a16891f84e7b").unwrap(),
                ))),
            ),
            (
                "adler32 1a0b045d".into(),
                Ok(Some((Algorithm::Adler32, vec![0x1a, 0x0b, 0x04, 0x5d]))),
            ),
            (
                "adler32 GgsEXQ==".into(),
                Ok(Some((Algorithm::Adler32, vec![0x1a, 0x0b, 0x04, 0x5d]))),
            ),
            ("".into(), Ok(None)),
            ("crc32 AAAAAA==".into(), Err(400)),
            ("sha1".into(), Err(400)),
            ("sha1 not-a-digest".into(), Err(400)),
            (format!("md5 {sha1_hex}"), Err(400)),
        ];
        for (value, want) in cases {
            let got = upload_checksum(&headers(&[("Upload-Checksum", &value)]), &all)
                .map(|c| c.map(|c| (c.algorithm, c.digest)))
                .map_err(|e| e.status().as_u16());
            assert_eq!(got, want, "{value:?}");
        }
        assert_eq!(upload_checksum(&headers(&[]), &all).unwrap(), None);
        let only_md5 = [Algorithm::Md5];
        let got = upload_checksum(
            &headers(&[("Upload-Checksum", &format!("sha1 {sha1_b64}"))]),
            &only_md5,
        );
        assert!(matches!(got, Err(TusError::UnsupportedChecksum)));
    }

    #[test]
    fn upload_concat_table() {
        let cases: &[(&str, Result<Concat, u16>)] = &[
            ("partial", Ok(Concat::Partial)),
            (
                "final;http://h/data/aaa https://h:1/x/data/bbb/",
                Ok(Concat::Final(vec!["aaa".into(), "bbb".into()])),
            ),
            (
                "final;/data/aaa  /data/bbb?x=1",
                Ok(Concat::Final(vec!["aaa".into(), "bbb".into()])),
            ),
            ("final;", Err(400)),
            ("final", Err(400)),
            ("whole", Err(400)),
        ];
        for (value, want) in cases {
            let got = upload_concat(&headers(&[("Upload-Concat", value)]))
                .map(|c| c.expect("present"))
                .map_err(|e| e.status().as_u16());
            assert_eq!(&got, want, "{value:?}");
        }
        assert_eq!(upload_concat(&headers(&[])).unwrap(), None);
    }

    #[test]
    fn content_type_and_method_override() {
        assert!(is_offset_stream(&headers(&[(
            "Content-Type",
            "application/offset+octet-stream"
        )])));
        assert!(!is_offset_stream(&headers(&[(
            "Content-Type",
            "application/octet-stream"
        )])));
        assert!(!is_offset_stream(&headers(&[])));
        let post = http::Method::POST;
        let h = headers(&[("X-HTTP-Method-Override", "patch")]);
        assert_eq!(effective_method(&post, &h), http::Method::PATCH);
        assert_eq!(effective_method(&http::Method::PUT, &h), http::Method::PUT);
        assert_eq!(effective_method(&post, &headers(&[])), post);
        assert_eq!(
            content_length(&headers(&[("Content-Length", "12")])),
            Some(12)
        );
    }
}
