//! The S3 calls the backend makes, each one signed request (`rusty-s3` signs; `reqwest`
//! sends). Every failure becomes an `io::Error` naming the call and S3's answer; a missing
//! object or upload is `NotFound`.

use std::io;
use std::ops::Range;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::TryStreamExt;
use rusty_s3::actions::{
    AbortMultipartUpload, CompleteMultipartUpload, CreateMultipartUpload, DeleteObject, GetObject,
    HeadBucket, HeadObject, ListObjectsV2, ListParts, PutObject, UploadPart,
};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use url::Url;

use super::xml::{OpenUpload, element, parse_uploads};
use crate::spaces::blob::BlobReader;

/// How long a signed request stays valid: it is sent at once, so only clock skew matters.
const SIGNED_FOR: Duration = Duration::from_secs(15 * 60);

/// Where and as whom the backend talks to S3.
#[derive(Clone)]
pub struct S3Settings {
    /// Endpoint URL (`http://127.0.0.1:3900`).
    pub endpoint: Url,
    /// Region the store signs for (Garage: its `s3_region`).
    pub region: String,
    /// Bucket holding every blob.
    pub bucket: String,
    /// Path-style addressing (`endpoint/bucket/key`) instead of virtual hosts.
    pub path_style: bool,
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint.as_str())
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("path_style", &self.path_style)
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

/// An S3 bucket and the credentials to use it.
pub(super) struct Client {
    http: reqwest::Client,
    bucket: Bucket,
    creds: Credentials,
}

/// A listed object.
pub(super) struct Object {
    pub key: String,
    pub modified: SystemTime,
}

fn bad(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("S3 {what}: {e}"))
}

impl Client {
    pub fn new(s: &S3Settings) -> io::Result<Client> {
        let style = if s.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(
            s.endpoint.clone(),
            style,
            s.bucket.clone(),
            s.region.clone(),
        )
        .map_err(|e| bad("bucket", e))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| bad("client", e))?;
        Ok(Client {
            http,
            bucket,
            creds: Credentials::new(s.access_key.clone(), s.secret_key.clone()),
        })
    }

    /// Send a signed request; a status outside 2xx is an error (`NotFound` for 404).
    async fn send(
        &self,
        what: &str,
        method: reqwest::Method,
        url: Url,
        body: Option<Bytes>,
        range: Option<&Range<u64>>,
    ) -> io::Result<reqwest::Response> {
        let mut req = self.http.request(method, url);
        if let Some(r) = range {
            req = req.header(
                http::header::RANGE,
                format!("bytes={}-{}", r.start, r.end - 1),
            );
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let res = req.send().await.map_err(|e| bad(what, e))?;
        let status = res.status();
        if status.is_success() {
            return Ok(res);
        }
        let text = res.text().await.unwrap_or_default();
        let msg = format!(
            "S3 {what}: {status}: {}",
            text.chars().take(300).collect::<String>()
        );
        Err(if status == reqwest::StatusCode::NOT_FOUND {
            io::Error::new(io::ErrorKind::NotFound, msg)
        } else {
            io::Error::other(msg)
        })
    }

    pub async fn put(&self, key: &str, body: Bytes) -> io::Result<()> {
        let url = PutObject::new(&self.bucket, Some(&self.creds), key).sign(SIGNED_FOR);
        self.send("PutObject", reqwest::Method::PUT, url, Some(body), None)
            .await
            .map(drop)
    }

    /// Read `range` of an object (everything without one), streamed.
    pub async fn get(&self, key: &str, range: Option<Range<u64>>) -> io::Result<BlobReader> {
        if range.as_ref().is_some_and(|r| r.start >= r.end) {
            return Ok(Box::pin(tokio::io::empty()));
        }
        let url = GetObject::new(&self.bucket, Some(&self.creds), key).sign(SIGNED_FOR);
        let res = self
            .send("GetObject", reqwest::Method::GET, url, None, range.as_ref())
            .await?;
        let stream = res.bytes_stream().map_err(io::Error::other);
        Ok(Box::pin(tokio_util::io::StreamReader::new(stream)))
    }

    /// A whole (small) object in memory.
    pub async fn get_bytes(&self, key: &str) -> io::Result<Bytes> {
        let url = GetObject::new(&self.bucket, Some(&self.creds), key).sign(SIGNED_FOR);
        let res = self
            .send("GetObject", reqwest::Method::GET, url, None, None)
            .await?;
        res.bytes().await.map_err(|e| bad("GetObject", e))
    }

    pub async fn len(&self, key: &str) -> io::Result<u64> {
        let url = HeadObject::new(&self.bucket, Some(&self.creds), key).sign(SIGNED_FOR);
        let res = self
            .send("HeadObject", reqwest::Method::HEAD, url, None, None)
            .await?;
        res.headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .ok_or_else(|| bad("HeadObject", "no Content-Length"))
    }

    /// Delete an object; a missing one is no error.
    pub async fn delete(&self, key: &str) -> io::Result<()> {
        let url = DeleteObject::new(&self.bucket, Some(&self.creds), key).sign(SIGNED_FOR);
        match self
            .send("DeleteObject", reqwest::Method::DELETE, url, None, None)
            .await
        {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn create_upload(&self, key: &str) -> io::Result<String> {
        let url = CreateMultipartUpload::new(&self.bucket, Some(&self.creds), key).sign(SIGNED_FOR);
        let res = self
            .send(
                "CreateMultipartUpload",
                reqwest::Method::POST,
                url,
                None,
                None,
            )
            .await?;
        let text = res
            .text()
            .await
            .map_err(|e| bad("CreateMultipartUpload", e))?;
        let parsed = CreateMultipartUpload::parse_response(&text)
            .map_err(|e| bad("CreateMultipartUpload", e))?;
        Ok(parsed.upload_id().to_string())
    }

    /// Upload part `n`; returns its etag.
    pub async fn upload_part(
        &self,
        key: &str,
        upload: &str,
        n: u32,
        body: Bytes,
    ) -> io::Result<String> {
        let number = u16::try_from(n).map_err(|e| bad("UploadPart", e))?;
        let url =
            UploadPart::new(&self.bucket, Some(&self.creds), key, number, upload).sign(SIGNED_FOR);
        let res = self
            .send("UploadPart", reqwest::Method::PUT, url, Some(body), None)
            .await?;
        let etag = res
            .headers()
            .get(http::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| bad("UploadPart", "no ETag"))?;
        Ok(etag.to_string())
    }

    /// Make `range` of object `source` part `n` of a multipart upload, inside the store
    /// (`UploadPartCopy`); returns the part's etag.
    pub async fn upload_part_copy(
        &self,
        key: &str,
        upload: &str,
        n: u32,
        source: &str,
        range: Range<u64>,
    ) -> io::Result<String> {
        let what = "UploadPartCopy";
        let number = u16::try_from(n).map_err(|e| bad(what, e))?;
        let from = format!("/{}/{source}", self.bucket.name());
        let bytes = format!("bytes={}-{}", range.start, range.end - 1);
        let mut action = UploadPart::new(&self.bucket, Some(&self.creds), key, number, upload);
        action
            .headers_mut()
            .insert("x-amz-copy-source", from.clone());
        action
            .headers_mut()
            .insert("x-amz-copy-source-range", bytes.clone());
        let url = action.sign(SIGNED_FOR);
        let res = self
            .http
            .put(url)
            .header("x-amz-copy-source", from)
            .header("x-amz-copy-source-range", bytes)
            .send()
            .await
            .map_err(|e| bad(what, e))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| bad(what, e))?;
        if !status.is_success() || text.contains("<Error>") {
            return Err(bad(what, format!("{status}: {text}")));
        }
        element(&text, "ETag").ok_or_else(|| bad(what, format!("no ETag in {text}")))
    }

    /// Complete a multipart upload from `parts` (number, etag), in order.
    pub async fn complete(&self, key: &str, upload: &str, parts: &[(u32, &str)]) -> io::Result<()> {
        let action = CompleteMultipartUpload::new(
            &self.bucket,
            Some(&self.creds),
            key,
            upload,
            std::iter::empty::<&str>(),
        );
        let url = action.sign(SIGNED_FOR);
        // Our part numbers have gaps (numbers burnt by failed requests), so the body is ours.
        let mut body = String::from("<CompleteMultipartUpload>");
        for (n, etag) in parts {
            let etag = quick_xml::escape::escape(*etag);
            body.push_str(&format!(
                "<Part><ETag>{etag}</ETag><PartNumber>{n}</PartNumber></Part>"
            ));
        }
        body.push_str("</CompleteMultipartUpload>");
        let res = self
            .send(
                "CompleteMultipartUpload",
                reqwest::Method::POST,
                url,
                Some(body.into()),
                None,
            )
            .await?;
        // S3 may answer 200 and report the failure in the body.
        let text = res
            .text()
            .await
            .map_err(|e| bad("CompleteMultipartUpload", e))?;
        if text.contains("<Error>") {
            return Err(bad("CompleteMultipartUpload", text));
        }
        Ok(())
    }

    /// Abort a multipart upload; one that is gone already is no error.
    pub async fn abort(&self, key: &str, upload: &str) -> io::Result<()> {
        let url = AbortMultipartUpload::new(&self.bucket, Some(&self.creds), key, upload)
            .sign(SIGNED_FOR);
        match self
            .send(
                "AbortMultipartUpload",
                reqwest::Method::DELETE,
                url,
                None,
                None,
            )
            .await
        {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other.map(drop),
        }
    }

    /// One page of objects (up to 1,000) whose keys start with `prefix`, from `token` on;
    /// returns the next page's token.
    pub async fn list(
        &self,
        prefix: &str,
        token: Option<&str>,
    ) -> io::Result<(Vec<Object>, Option<String>)> {
        let mut action = ListObjectsV2::new(&self.bucket, Some(&self.creds));
        if !prefix.is_empty() {
            action.with_prefix(prefix.to_string());
        }
        if let Some(t) = token {
            action.with_continuation_token(t.to_string());
        }
        let url = action.sign(SIGNED_FOR);
        let res = self
            .send("ListObjectsV2", reqwest::Method::GET, url, None, None)
            .await?;
        let text = res.text().await.map_err(|e| bad("ListObjectsV2", e))?;
        let parsed = ListObjectsV2::parse_response(&text).map_err(|e| bad("ListObjectsV2", e))?;
        let objects = parsed
            .contents
            .into_iter()
            .map(|o| {
                let at: jiff::Timestamp = o
                    .last_modified
                    .parse()
                    .map_err(|e| bad("ListObjectsV2", e))?;
                Ok(Object {
                    key: o.key,
                    modified: SystemTime::from(at),
                })
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok((objects, parsed.next_continuation_token))
    }

    /// Open multipart uploads (key, upload id) of the bucket whose keys start with `prefix`,
    /// up to 1,000 (`ListMultipartUploads`, which `rusty-s3` has no action for: signed here).
    pub async fn multipart_uploads(&self, prefix: &str) -> io::Result<Vec<OpenUpload>> {
        let url = self.bucket.base_url().clone();
        let url = rusty_s3::signing::sign(
            &jiff::Timestamp::now(),
            rusty_s3::Method::Get,
            url,
            self.creds.key(),
            self.creds.secret(),
            self.creds.token(),
            self.bucket.region(),
            SIGNED_FOR.as_secs(),
            [("prefix", prefix), ("uploads", "")].into_iter(),
            std::iter::empty::<(&str, &str)>(),
        );
        let res = self
            .send(
                "ListMultipartUploads",
                reqwest::Method::GET,
                url,
                None,
                None,
            )
            .await?;
        let text = res
            .text()
            .await
            .map_err(|e| bad("ListMultipartUploads", e))?;
        Ok(parse_uploads(&text))
    }

    /// The sizes of the (first 1,000) parts uploaded so far to a multipart upload, by S3's
    /// account (`ListParts`): never used to build anything, only to check what was sent.
    pub async fn part_sizes(&self, key: &str, upload: &str) -> io::Result<Vec<u64>> {
        let url = ListParts::new(&self.bucket, Some(&self.creds), key, upload).sign(SIGNED_FOR);
        let res = self
            .send("ListParts", reqwest::Method::GET, url, None, None)
            .await?;
        let text = res.text().await.map_err(|e| bad("ListParts", e))?;
        let parsed = ListParts::parse_response(&text).map_err(|e| bad("ListParts", e))?;
        Ok(parsed.parts.into_iter().map(|p| p.size).collect())
    }

    pub async fn check(&self) -> io::Result<()> {
        let url = HeadBucket::new(&self.bucket, Some(&self.creds)).sign(SIGNED_FOR);
        self.send("HeadBucket", reqwest::Method::HEAD, url, None, None)
            .await
            .map(drop)
    }
}
