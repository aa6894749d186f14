//! The S3 backend of the blob store (issue 14; DESIGN.md "Uploads"): blobs as objects of one
//! bucket, named by their keys. An upload's bytes go into a multipart upload of fixed-size
//! parts (chosen from its length so it fits in 9,000 of S3's 10,000 part numbers), with the
//! remainder below a part in a write-once tail object; the record of both ([`record`]) lives
//! in the upload row. Sealing uploads the tail as the last part and completes the multipart
//! upload; discarding aborts it and deletes the tail. Part sizes are enforced here, because
//! some stores (Garage) accept what AWS refuses. Conditional writes are never relied on
//! (Garage ignores them): the database's compare-and-set is the only commit point.

mod client;
mod record;
mod sink;
mod xml;

use std::io;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::BytesMut;
use tokio::io::AsyncReadExt;

pub use client::S3Settings;

use self::client::Client;
use self::record::{MIN_PART, Record, part_size};
use self::sink::{BlobWriter, StagingWriter};
use super::blob::{
    BlobKey, BlobPage, BlobReader, BlobSink, BlobStore, Listed, PartNumbers, StagingPlan,
    StagingSink, StagingState,
};

/// Parts of a blob written without a known length (a chunked WebDAV PUT) are at most this
/// large, so that such writes hold at most this much in memory (up to 640 GB then).
const MAX_UNSIZED_PART: u64 = 64 << 20;

/// Joins an object key and a multipart upload id in what the listing reports for an open
/// upload; deleting that aborts it. Blob keys are hex, so it cannot occur in one.
const UPLOAD_MARK: &str = "?uploadId=";

/// Blobs in an S3 bucket.
#[derive(Clone)]
pub struct S3Blobs {
    client: Arc<Client>,
    /// The largest upload allowed (`tus.max_upload_size`): what an unknown length plans for.
    max_object: u64,
}

impl std::fmt::Debug for S3Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Blobs").finish_non_exhaustive()
    }
}

fn new_key() -> BlobKey {
    BlobKey::new(uuid::Uuid::new_v4().simple().to_string())
}

impl S3Blobs {
    /// Use the bucket `settings` name; `max_object` is the largest upload allowed.
    pub fn new(settings: &S3Settings, max_object: u64) -> io::Result<S3Blobs> {
        Ok(S3Blobs {
            client: Arc::new(Client::new(settings)?),
            max_object,
        })
    }

    /// The open multipart uploads of the bucket (key, upload id), up to 1,000: what an
    /// operator (or a test) checks for leftovers.
    pub async fn open_multipart_uploads(&self) -> io::Result<Vec<(String, String)>> {
        let open = self.client.multipart_uploads("").await?;
        Ok(open.into_iter().map(|u| (u.key, u.id)).collect())
    }

    /// Abort every open multipart upload of `key`: after a seal, those of requests that
    /// uploaded a part and died (or lost their compare-and-set) before the row named their
    /// upload; at a discard, the upload's own too.
    async fn abort_strays(&self, key: &BlobKey) -> io::Result<()> {
        for u in self.client.multipart_uploads(key.as_str()).await? {
            if u.key == key.as_str() {
                self.client.abort(&u.key, &u.id).await?;
            }
        }
        Ok(())
    }

    /// Staged bytes again from the first `at` bytes of the sealed object `key`: when a
    /// completion sealed the bytes but its commit was refused for a while (a lock), the
    /// client sends the completing bytes again. Whole parts are copied inside the store; the
    /// rest (below a part) is read into the writer, which puts it in a tail at its sync.
    async fn reopen(
        &self,
        key: &BlobKey,
        part_size: u64,
        at: u64,
        numbers: Arc<dyn PartNumbers>,
    ) -> io::Result<Box<dyn StagingSink>> {
        let sealed = self.client.len(key.as_str()).await?;
        if at > sealed || part_size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("sealed object holds {sealed} bytes, not {at}"),
            ));
        }
        let mut record = Record {
            part_size,
            ..Record::default()
        };
        let full = at / part_size;
        if full > 0 {
            let upload = self.client.create_upload(key.as_str()).await?;
            for i in 0..full {
                let n = numbers.next().await?;
                let range = i * part_size..(i + 1) * part_size;
                let etag = self
                    .client
                    .upload_part_copy(key.as_str(), &upload, n, key.as_str(), range)
                    .await?;
                record.parts.push(record::Part { n, etag });
            }
            record.upload = Some(upload);
        }
        let mut buf = BytesMut::with_capacity((at - full * part_size) as usize);
        let mut rest = self
            .client
            .get(key.as_str(), Some(full * part_size..at))
            .await?;
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            let n = rest.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Ok(Box::new(StagingWriter {
            client: self.client.clone(),
            key: key.clone(),
            record,
            dirty: !buf.is_empty(),
            buf,
            numbers,
            inflight: None,
        }))
    }

    /// The sizes of the parts uploaded so far to the multipart upload `upload` of `key`, as
    /// S3 reports them (`ListParts`; what an operator or a test checks).
    pub async fn part_sizes(&self, key: &str, upload: &str) -> io::Result<Vec<u64>> {
        self.client.part_sizes(key, upload).await
    }

    /// Every object key of the bucket.
    pub async fn object_keys(&self) -> io::Result<Vec<String>> {
        Ok(self
            .list()
            .await?
            .into_iter()
            .map(|(k, _)| k.to_string())
            .filter(|k| !k.contains(UPLOAD_MARK))
            .collect())
    }

    /// Delete every tail object of `key`: the one its record names, superseded ones, and
    /// those of requests that died before their compare-and-set.
    async fn delete_tails(&self, key: &BlobKey) -> io::Result<()> {
        let prefix = format!("{key}.tail.");
        let mut token = None;
        loop {
            let (objects, next) = self.client.list(&prefix, token.as_deref()).await?;
            for o in objects {
                self.client.delete(&o.key).await?;
            }
            match next {
                Some(t) => token = Some(t),
                None => return Ok(()),
            }
        }
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn create(&self, size: Option<u64>) -> io::Result<Box<dyn BlobSink>> {
        let plan = StagingPlan {
            length: size,
            max_length: self.max_object,
        };
        let part_size = match size {
            Some(_) => part_size(plan),
            None => part_size(plan).min(MAX_UNSIZED_PART),
        };
        Ok(Box::new(BlobWriter {
            client: self.client.clone(),
            key: new_key(),
            part_size,
            buf: BytesMut::new(),
            upload: None,
        }))
    }

    async fn create_staging(&self, plan: StagingPlan) -> io::Result<(BlobKey, StagingState)> {
        // Nothing to create yet: the multipart upload starts with the first full part, so an
        // upload smaller than a part never has one.
        Ok((new_key(), Record::planned(plan).state()))
    }

    async fn append(
        &self,
        key: &BlobKey,
        state: &StagingState,
        at: u64,
        parts: Arc<dyn PartNumbers>,
    ) -> io::Result<Box<dyn StagingSink>> {
        let record = Record::parse(state)?;
        if record.sealed {
            return self.reopen(key, record.part_size, at, parts).await;
        }
        if record.len() != at {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("staged record holds {} bytes, not {at}", record.len()),
            ));
        }
        let mut buf = BytesMut::with_capacity(record.part_size.min(MIN_PART) as usize);
        if let Some(tail) = &record.tail {
            let bytes = self.client.get_bytes(tail).await?;
            if bytes.len() as u64 != record.tail_len {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "tail {tail} holds {} bytes, not {}",
                        bytes.len(),
                        record.tail_len
                    ),
                ));
            }
            buf.extend_from_slice(&bytes);
        }
        Ok(Box::new(StagingWriter {
            client: self.client.clone(),
            key: key.clone(),
            record,
            buf,
            numbers: parts,
            dirty: false,
            inflight: None,
        }))
    }

    async fn read_staged(
        &self,
        key: &BlobKey,
        state: &StagingState,
        len: u64,
    ) -> io::Result<Option<BlobReader>> {
        let record = Record::parse(state)?;
        if len == 0 {
            return Ok(Some(Box::pin(tokio::io::empty())));
        }
        if record.sealed {
            return self.open(key, Some(0..len)).await.map(Some);
        }
        match (&record.tail, record.parts.is_empty()) {
            // Below one part everything is in the tail, which can be read.
            (Some(tail), true) => self.client.get(tail, Some(0..len)).await.map(Some),
            // The parts of an open multipart upload cannot be read back.
            _ => Ok(None),
        }
    }

    async fn seal(
        &self,
        key: &BlobKey,
        state: &StagingState,
        parts: Arc<dyn PartNumbers>,
    ) -> io::Result<StagingState> {
        let mut record = Record::parse(state)?;
        if record.sealed {
            return Ok(state.clone());
        }
        let tail = match &record.tail {
            Some(t) => Some((t.clone(), self.client.get_bytes(t).await?)),
            None => None,
        };
        match &record.upload {
            None => {
                let body = tail.as_ref().map(|(_, b)| b.clone()).unwrap_or_default();
                self.client.put(key.as_str(), body).await?;
            }
            Some(upload) => {
                let mut list: Vec<(u32, String)> =
                    record.parts.iter().map(|p| (p.n, p.etag.clone())).collect();
                if let Some((_, bytes)) = &tail {
                    let n = parts.next().await?;
                    let etag = self
                        .client
                        .upload_part(key.as_str(), upload, n, bytes.clone())
                        .await?;
                    list.push((n, etag));
                }
                let list: Vec<(u32, &str)> = list.iter().map(|(n, e)| (*n, e.as_str())).collect();
                self.client.complete(key.as_str(), upload, &list).await?;
            }
        }
        if let Err(e) = self.abort_strays(key).await {
            tracing::warn!(blob = %key, error = %e, "stray multipart uploads left open");
        }
        if let Err(e) = self.delete_tails(key).await {
            tracing::warn!(blob = %key, error = %e, "sealed upload's tails left for the sweep");
        }
        record = Record {
            part_size: record.part_size,
            sealed: true,
            ..Record::default()
        };
        Ok(record.state())
    }

    async fn discard_staging(&self, key: &BlobKey, state: &StagingState) -> io::Result<()> {
        Record::parse(state)?;
        self.abort_strays(key).await?;
        self.delete_tails(key).await?;
        self.client.delete(key.as_str()).await
    }

    async fn release_superseded(
        &self,
        key: &BlobKey,
        old: &StagingState,
        current: &StagingState,
    ) -> io::Result<()> {
        let (old, current) = (Record::parse(old)?, Record::parse(current)?);
        if let Some(tail) = &old.tail
            && old.tail != current.tail
        {
            self.client.delete(tail).await?;
        }
        // A multipart upload only the superseded record knew (a request that started it and
        // then lost its compare-and-set) is aborted.
        if let Some(upload) = &old.upload
            && current.upload.as_ref() != Some(upload)
        {
            self.client.abort(key.as_str(), upload).await?;
        }
        Ok(())
    }

    async fn concat(&self, parts: &[BlobKey]) -> io::Result<BlobKey> {
        // Parts of a concatenation may be smaller than S3's minimum part, so they cannot be
        // copied server-side as parts: they stream through once.
        let mut total = 0;
        for p in parts {
            total += self.client.len(p.as_str()).await?;
        }
        let mut sink = self.create(Some(total)).await?;
        for p in parts {
            let mut reader = self.client.get(p.as_str(), None).await?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = reader.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                sink.write(&buf[..n]).await?;
            }
        }
        sink.finish().await
    }

    async fn open(&self, key: &BlobKey, range: Option<Range<u64>>) -> io::Result<BlobReader> {
        self.client.get(key.as_str(), range).await
    }

    async fn len(&self, key: &BlobKey) -> io::Result<u64> {
        self.client.len(key.as_str()).await
    }

    async fn delete(&self, key: &BlobKey) -> io::Result<()> {
        match key.as_str().split_once(UPLOAD_MARK) {
            Some((object, upload)) => self.client.abort(object, upload).await,
            None => self.client.delete(key.as_str()).await,
        }
    }

    async fn list_page(&self, from: Option<&str>) -> io::Result<BlobPage> {
        let (objects, next) = self.client.list("", from).await?;
        let mut entries: Vec<Listed> = objects
            .into_iter()
            .map(|o| Listed {
                owner: BlobKey::new(o.key.split('.').next().unwrap_or_default()),
                key: BlobKey::new(o.key),
                modified: o.modified,
            })
            .collect();
        if next.is_none() {
            // The last page also names the open multipart uploads, so that one nothing
            // references any more (a PUT or a part upload cut off by a crash) is aborted by
            // the sweep like any unreferenced object.
            for u in self.client.multipart_uploads("").await? {
                entries.push(Listed {
                    key: BlobKey::new(format!("{}{UPLOAD_MARK}{}", u.key, u.id)),
                    owner: BlobKey::new(u.key),
                    modified: u.initiated.unwrap_or_else(std::time::SystemTime::now),
                });
            }
        }
        Ok(BlobPage { entries, next })
    }

    async fn capacity(&self) -> io::Result<Option<u64>> {
        Ok(None)
    }

    async fn check(&self) -> io::Result<()> {
        self.client.check().await
    }
}
