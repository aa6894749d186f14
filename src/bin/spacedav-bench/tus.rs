//! tus 1.0.0 client operations (https://tus.io/protocols/resumable-upload): creation (with
//! or without a first chunk), PATCH with offset checks, and clean-up after a measurement.

use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, Method, StatusCode};
use url::Url;

use crate::client::{self, Conn, Endpoint};
use crate::pattern::Pattern;

const TUS_RESUMABLE: &str = "Tus-Resumable";
const TUS_VERSION: &str = "1.0.0";
const TUS_EXTENSION: &str = "Tus-Extension";
const UPLOAD_LENGTH: &str = "Upload-Length";
const UPLOAD_OFFSET: &str = "Upload-Offset";
const UPLOAD_METADATA: &str = "Upload-Metadata";
const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// How uploads left behind by a measurement are removed (outside the timed region).
#[derive(Clone)]
pub enum Cleanup {
    /// tus termination: `DELETE` on the upload URL.
    Terminate,
    /// The upload became a file: WebDAV `DELETE` of the file name under this collection.
    DavDelete(Url),
    /// The server keeps nothing.
    Nothing,
}

/// A server's tus creation endpoint.
#[derive(Clone)]
pub struct TusTarget {
    /// Address and credentials.
    pub ep: Arc<Endpoint>,
    /// Where `POST` creates uploads.
    pub create_url: Url,
    /// Whether the server announces `creation-with-upload`.
    pub cwu: bool,
    /// How finished uploads are removed.
    pub cleanup: Cleanup,
}

impl TusTarget {
    /// Asks the server (`OPTIONS`) whether it announces `creation-with-upload`.
    pub async fn new(ep: Arc<Endpoint>, create_url: Url, cleanup: Cleanup) -> Result<Self> {
        let mut conn = ep.conn();
        let req = conn
            .request(Method::OPTIONS, &create_url)
            .header(TUS_RESUMABLE, TUS_VERSION)
            .body(client::empty())?;
        let resp = conn.send(req).await?;
        let (_, headers, body) = client::expect(
            resp,
            "tus OPTIONS",
            &[StatusCode::OK, StatusCode::NO_CONTENT],
        )
        .await?;
        client::discard(body).await?;
        let cwu = client::header(&headers, TUS_EXTENSION)
            .map(|e| e.split(',').any(|x| x.trim() == "creation-with-upload"))
            .unwrap_or(false);
        Ok(Self {
            ep,
            create_url,
            cwu,
            cleanup,
        })
    }
}

/// An upload in progress.
pub struct Upload {
    /// The upload resource (from `Location`).
    pub url: Url,
    /// The file name sent in `Upload-Metadata`.
    pub filename: String,
    /// Bytes the server has acknowledged.
    pub offset: u64,
}

/// `POST` creation of `length` bytes; with `first > 0` the first bytes ride along
/// (creation-with-upload). Returns the upload and the response headers.
pub async fn create(
    conn: &mut Conn,
    t: &TusTarget,
    pattern: &Pattern,
    filename: &str,
    length: u64,
    first: u64,
) -> Result<(Upload, HeaderMap)> {
    let meta = format!(
        "filename {},filetype {}",
        STANDARD.encode(filename),
        STANDARD.encode("application/octet-stream")
    );
    let mut req = conn
        .request(Method::POST, &t.create_url)
        .header(TUS_RESUMABLE, TUS_VERSION)
        .header(UPLOAD_LENGTH, length)
        .header(UPLOAD_METADATA, meta);
    let body = if first > 0 {
        req = req
            .header(http::header::CONTENT_TYPE, OFFSET_OCTET_STREAM)
            .header(http::header::CONTENT_LENGTH, first);
        client::stream(pattern.body(0, first))
    } else {
        client::empty()
    };
    let resp = conn.send(req.body(body)?).await?;
    let (_, headers, body) = client::expect(resp, "tus POST", &[StatusCode::CREATED]).await?;
    client::discard(body).await?;
    let location = client::header(&headers, "Location")?;
    let url = t
        .create_url
        .join(location)
        .with_context(|| format!("Location {location}"))?;
    let offset = if first > 0 {
        acknowledged(&headers)?
    } else {
        0
    };
    if offset != first {
        bail!("creation-with-upload acknowledged {offset} of {first} bytes");
    }
    let upload = Upload {
        url,
        filename: filename.to_owned(),
        offset,
    };
    Ok((upload, headers))
}

/// One `PATCH` of the next `len` bytes; checks the acknowledged offset and returns the
/// response headers (the completing one carries the server's completion headers).
pub async fn patch(
    conn: &mut Conn,
    up: &mut Upload,
    pattern: &Pattern,
    len: u64,
) -> Result<HeaderMap> {
    let req = conn
        .request(Method::PATCH, &up.url)
        .header(TUS_RESUMABLE, TUS_VERSION)
        .header(UPLOAD_OFFSET, up.offset)
        .header(http::header::CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .header(http::header::CONTENT_LENGTH, len)
        .body(client::stream(pattern.body(up.offset, len)))?;
    let resp = conn.send(req).await?;
    let (_, headers, body) =
        client::expect(resp, "tus PATCH", &[StatusCode::NO_CONTENT, StatusCode::OK]).await?;
    client::discard(body).await?;
    let offset = acknowledged(&headers)?;
    if offset != up.offset + len {
        bail!(
            "PATCH at {} of {len} bytes acknowledged offset {offset}",
            up.offset
        );
    }
    up.offset = offset;
    Ok(headers)
}

/// Removes a finished upload the way the server needs (see [`Cleanup`]).
pub async fn remove(conn: &mut Conn, t: &TusTarget, up: &Upload) -> Result<()> {
    let url = match &t.cleanup {
        Cleanup::Nothing => return Ok(()),
        Cleanup::Terminate => up.url.clone(),
        Cleanup::DavDelete(base) => base.join(&up.filename)?,
    };
    let req = conn
        .request(Method::DELETE, &url)
        .header(TUS_RESUMABLE, TUS_VERSION)
        .body(client::empty())?;
    let resp = conn.send(req).await?;
    let ok = [
        StatusCode::NO_CONTENT,
        StatusCode::OK,
        StatusCode::NOT_FOUND,
    ];
    let (_, _, body) = client::expect(resp, "clean-up DELETE", &ok).await?;
    client::discard(body).await
}

fn acknowledged(headers: &HeaderMap) -> Result<u64> {
    let v = client::header(headers, UPLOAD_OFFSET)?;
    v.parse()
        .with_context(|| format!("Upload-Offset {v:?} is not a number"))
}

/// The PATCH sizes for uploading `total` bytes in `chunk`-sized pieces such that the final
/// PATCH carries exactly `last` bytes (so finishing latency compares like with like).
pub fn plan(total: u64, chunk: u64, last: u64) -> Vec<u64> {
    let last = last.min(total);
    let mut rest = total - last;
    let mut out = Vec::new();
    while rest > 0 {
        let n = rest.min(chunk);
        out.push(n);
        rest -= n;
    }
    if last > 0 {
        out.push(last);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::plan;

    #[test]
    fn plan_ends_with_the_requested_last_chunk() {
        let cases: &[(u64, u64, u64, &[u64])] = &[
            (10, 4, 1, &[4, 4, 1, 1]),
            (10, 5, 0, &[5, 5]),
            (3, 4, 5, &[3]),
            (1 << 20, 10_000_000, 1 << 20, &[1 << 20]),
        ];
        for &(total, chunk, last, want) in cases {
            let got = plan(total, chunk, last);
            assert_eq!(got, want, "plan({total}, {chunk}, {last})");
            assert_eq!(got.iter().sum::<u64>(), total);
        }
    }
}
