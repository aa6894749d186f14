//! WebDAV client operations (RFC 4918): streamed PUT, GET with optional content check, MKCOL,
//! DELETE, and PROPFIND Depth 1 with time to first byte and a count of `response` elements.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use http::{Method, StatusCode};
use url::Url;

use crate::client::{self, Conn, Endpoint};
use crate::pattern::Pattern;

/// A server's WebDAV collection the bench may write into.
pub struct DavTarget {
    /// Address and credentials.
    pub ep: Arc<Endpoint>,
    /// A collection URL ending in `/`.
    pub base: Url,
    /// Whether the server answers PROPFIND (the sinks do not).
    pub propfind: bool,
}

/// Five live properties every WebDAV server has, so every peer answers the same question.
pub const NAMED_PROPS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getlastmodified/><d:getcontentlength/><d:getetag/><d:getcontenttype/></d:prop></d:propfind>"#;

/// `allprop`: everything the server keeps about each member.
pub const ALLPROP: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>"#;

/// `PUT` of pattern bytes `[0, len)` to `url`.
pub async fn put(conn: &mut Conn, url: &Url, pattern: &Pattern, len: u64) -> Result<()> {
    let req = conn
        .request(Method::PUT, url)
        .header(http::header::CONTENT_TYPE, "application/octet-stream")
        .header(http::header::CONTENT_LENGTH, len)
        .body(client::stream(pattern.body(0, len)))?;
    let resp = conn.send(req).await?;
    let ok = [StatusCode::CREATED, StatusCode::NO_CONTENT, StatusCode::OK];
    let (_, _, body) = client::expect(resp, "PUT", &ok).await?;
    client::discard(body).await
}

/// `GET` of `url`; fails unless `len` bytes arrive, and with `verify` unless they equal the
/// pattern from offset 0.
pub async fn get(
    conn: &mut Conn,
    url: &Url,
    pattern: &Pattern,
    len: u64,
    verify: bool,
) -> Result<()> {
    let req = conn.request(Method::GET, url).body(client::empty())?;
    let resp = conn.send(req).await?;
    let (_, _, body) = client::expect(resp, "GET", &[StatusCode::OK]).await?;
    let mut pos = 0u64;
    let mut same = true;
    let got = client::drain(body, |chunk| {
        if verify && same {
            same = pattern.matches(pos, chunk);
        }
        pos += chunk.len() as u64;
    })
    .await?;
    if got.len != len {
        bail!("GET {url}: {} bytes, expected {len}", got.len);
    }
    if !same {
        bail!("GET {url}: content differs from what was uploaded");
    }
    Ok(())
}

/// `DELETE` of `url`; a missing resource is fine.
pub async fn delete(conn: &mut Conn, url: &Url) -> Result<()> {
    let req = conn.request(Method::DELETE, url).body(client::empty())?;
    let resp = conn.send(req).await?;
    let ok = [
        StatusCode::NO_CONTENT,
        StatusCode::OK,
        StatusCode::NOT_FOUND,
    ];
    let (_, _, body) = client::expect(resp, "DELETE", &ok).await?;
    client::discard(body).await
}

/// `MKCOL` of `url`; an existing collection (405) is fine.
pub async fn mkcol(conn: &mut Conn, url: &Url) -> Result<()> {
    let mkcol = Method::from_bytes(b"MKCOL")?;
    let req = conn.request(mkcol, url).body(client::empty())?;
    let resp = conn.send(req).await?;
    let ok = [StatusCode::CREATED, StatusCode::METHOD_NOT_ALLOWED];
    let (_, _, body) = client::expect(resp, "MKCOL", &ok).await?;
    client::discard(body).await
}

/// What one PROPFIND took.
pub struct Listing {
    /// From sending the request to the last byte.
    pub total: Duration,
    /// From sending the request to the first body byte.
    pub first_byte: Duration,
    /// `response` elements in the multistatus.
    pub responses: u64,
    /// Body size.
    pub bytes: u64,
}

/// `PROPFIND` Depth 1 on `url` with `query` as the body.
pub async fn propfind(conn: &mut Conn, url: &Url, query: &'static str) -> Result<Listing> {
    let propfind = Method::from_bytes(b"PROPFIND")?;
    let req = conn
        .request(propfind, url)
        .header("Depth", "1")
        .header(http::header::CONTENT_TYPE, "application/xml; charset=utf-8")
        .body(client::full(query))?;
    let start = Instant::now();
    let resp = conn.send(req).await?;
    let (_, _, body) = client::expect(resp, "PROPFIND", &[StatusCode::MULTI_STATUS]).await?;
    let mut counter = ResponseCounter::default();
    let got = client::drain(body, |chunk| counter.feed(chunk)).await?;
    let end = Instant::now();
    Ok(Listing {
        total: end - start,
        first_byte: got.first_byte.unwrap_or(end) - start,
        responses: counter.count,
        bytes: got.len,
    })
}

/// Creates `count` files of `size` bytes named `f00000.bin`… in the collection `dir` with
/// `workers` connections; returns the files per second.
pub async fn populate(
    t: &DavTarget,
    dir: &Url,
    pattern: &Pattern,
    count: u64,
    size: u64,
    workers: usize,
) -> Result<f64> {
    mkcol(&mut t.ep.conn(), dir).await?;
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (mut conn, next, dir, pattern) =
            (t.ep.conn(), next.clone(), dir.clone(), pattern.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return anyhow::Ok(());
                }
                let url = dir.join(&format!("f{i:05}.bin"))?;
                put(&mut conn, &url, &pattern, size).await?;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// Counts closing `response` tags (`</response>`, `</d:response>`, `</D:response>`…) across
/// chunk boundaries without keeping the body.
#[derive(Default)]
struct ResponseCounter {
    count: u64,
    tail: Vec<u8>,
}

impl ResponseCounter {
    /// Longer than any closing tag we look for: what must survive a chunk boundary.
    const KEEP: usize = 40;

    fn feed(&mut self, chunk: &[u8]) {
        let mut buf = std::mem::take(&mut self.tail);
        buf.extend_from_slice(chunk);
        let mut done = 0;
        for (i, &b) in buf.iter().enumerate() {
            if b == b'>' {
                if is_closing_response(&buf[..=i]) {
                    self.count += 1;
                }
                done = i + 1;
            }
        }
        // Keep the unfinished tag at the end (if any) for the next chunk.
        let keep_from = buf.len().saturating_sub(Self::KEEP).max(done);
        self.tail = buf[keep_from..].to_vec();
    }
}

/// Whether `text` ends with `</response>` or `</prefix:response>`.
fn is_closing_response(text: &[u8]) -> bool {
    let Some(before) = text.strip_suffix(b"response>") else {
        return false;
    };
    let before = match before.strip_suffix(b":") {
        Some(prefixed) => {
            let n = prefixed
                .iter()
                .rev()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
                .count();
            &prefixed[..prefixed.len() - n]
        }
        None => before,
    };
    before.ends_with(b"</")
}

#[cfg(test)]
mod tests {
    use super::ResponseCounter;

    #[test]
    fn counts_closing_response_tags_across_chunks() {
        let body = "<d:multistatus><d:response><d:href>/a</d:href></d:response>\
                    <D:response></D:response><response></response>\
                    <d:responsedescription>x</d:responsedescription></d:multistatus>";
        for split in 0..body.len() {
            let mut c = ResponseCounter::default();
            c.feed(&body.as_bytes()[..split]);
            c.feed(&body.as_bytes()[split..]);
            assert_eq!(c.count, 3, "split at {split}");
        }
    }
}
