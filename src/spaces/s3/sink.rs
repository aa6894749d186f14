//! The S3 backend's writers. A new blob (WebDAV PUT) streams as a multipart upload of fixed
//! parts, or as one `PutObject` when it stays below a part. An upload's staged bytes (tus)
//! stream into parts of the upload's one part size, each under a part number no other
//! request gets; at a sync the bytes after the last full part go to a fresh tail object, and
//! the returned record names both, for the session row's compare-and-set.

use std::io;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};

use super::client::Client;
use super::record::{MAX_PART_NUMBER, Part, Record};
use crate::spaces::blob::{BlobKey, BlobSink, PartNumbers, StagingSink, StagingState};

/// The object of a new tail of `key`: write-once, so a request that loses its
/// compare-and-set never touches the tail the row names.
pub(super) fn tail_key(key: &BlobKey) -> String {
    format!("{key}.tail.{}", uuid::Uuid::new_v4().simple())
}

/// Writes a new blob.
pub(super) struct BlobWriter {
    pub client: Arc<Client>,
    pub key: BlobKey,
    pub part_size: u64,
    pub buf: BytesMut,
    /// The multipart upload, once a first part was full, with its parts (number, etag).
    pub upload: Option<(String, Vec<(u32, String)>)>,
}

impl BlobWriter {
    async fn flush_parts(&mut self) -> io::Result<()> {
        while self.buf.len() as u64 >= self.part_size {
            let part = self.buf.split_to(self.part_size as usize).freeze();
            self.upload_part(part).await?;
        }
        Ok(())
    }

    async fn upload_part(&mut self, part: Bytes) -> io::Result<()> {
        if self.upload.is_none() {
            let id = self.client.create_upload(self.key.as_str()).await?;
            self.upload = Some((id, Vec::new()));
        }
        let (id, parts) = self.upload.as_mut().expect("created above");
        let n = parts.len() as u32 + 1;
        if n > MAX_PART_NUMBER {
            return Err(io::Error::other("blob larger than 10,000 parts"));
        }
        let etag = self
            .client
            .upload_part(self.key.as_str(), id, n, part)
            .await?;
        parts.push((n, etag));
        Ok(())
    }
}

#[async_trait]
impl BlobSink for BlobWriter {
    async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(data);
        self.flush_parts().await
    }

    async fn finish(mut self: Box<Self>) -> io::Result<BlobKey> {
        let rest = self.buf.split().freeze();
        if self.upload.is_none() {
            self.client.put(self.key.as_str(), rest).await?;
            return Ok(self.key.clone());
        }
        if !rest.is_empty() {
            self.upload_part(rest).await?;
        }
        let (id, parts) = self.upload.take().expect("checked above");
        let list: Vec<(u32, &str)> = parts.iter().map(|(n, e)| (*n, e.as_str())).collect();
        if let Err(e) = self.client.complete(self.key.as_str(), &id, &list).await {
            self.upload = Some((id, parts));
            return Err(e);
        }
        Ok(self.key.clone())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // An unfinished blob leaves no multipart upload behind.
        if let Some((id, _)) = self.upload.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let (client, key) = (self.client.clone(), self.key.clone());
            rt.spawn(async move {
                if let Err(e) = client.abort(key.as_str(), &id).await {
                    tracing::warn!(blob = %key, error = %e, "multipart upload left open");
                }
            });
        }
    }
}

/// Appends to an upload's staged bytes.
pub(super) struct StagingWriter {
    pub client: Arc<Client>,
    pub key: BlobKey,
    pub record: Record,
    /// The bytes after the last full part: the tail's, then what arrived since.
    pub buf: BytesMut,
    pub numbers: Arc<dyn PartNumbers>,
    /// Whether bytes arrived since the record last named a tail for `buf`.
    pub dirty: bool,
    /// The part being uploaded while the next one fills: the request body keeps streaming
    /// in meanwhile. Part numbers are taken in order, so the parts stay in order.
    pub inflight: Option<tokio::task::JoinHandle<io::Result<Part>>>,
}

impl StagingWriter {
    /// Wait for the part in flight and record it.
    async fn settle(&mut self) -> io::Result<()> {
        if let Some(job) = self.inflight.take() {
            let part = job.await.map_err(io::Error::other)??;
            self.record.parts.push(part);
        }
        Ok(())
    }

    async fn upload_part(&mut self, part: Bytes) -> io::Result<()> {
        self.settle().await?;
        let upload = match &self.record.upload {
            Some(id) => id.clone(),
            None => {
                let id = self.client.create_upload(self.key.as_str()).await?;
                self.record.upload = Some(id.clone());
                id
            }
        };
        let n = self.numbers.next().await?;
        if n > MAX_PART_NUMBER {
            return Err(io::Error::other(
                "upload used up S3's 10,000 part numbers (a client retrying in a loop?)",
            ));
        }
        let (client, key) = (self.client.clone(), self.key.clone());
        self.inflight = Some(tokio::spawn(async move {
            let etag = client.upload_part(key.as_str(), &upload, n, part).await?;
            Ok(Part { n, etag })
        }));
        Ok(())
    }
}

#[async_trait]
impl StagingSink for StagingWriter {
    async fn write_bytes(&mut self, data: Bytes) -> io::Result<()> {
        self.buf.extend_from_slice(&data);
        self.dirty |= !data.is_empty();
        let size = self.record.part_size as usize;
        while self.buf.len() >= size {
            let part = self.buf.split_to(size).freeze();
            self.upload_part(part).await?;
        }
        Ok(())
    }

    async fn sync(&mut self) -> io::Result<StagingState> {
        self.settle().await?;
        if self.buf.is_empty() {
            self.record.tail = None;
            self.record.tail_len = 0;
        } else if self.dirty {
            let key = tail_key(&self.key);
            self.client
                .put(&key, Bytes::copy_from_slice(&self.buf))
                .await?;
            self.record.tail = Some(key);
            self.record.tail_len = self.buf.len() as u64;
        }
        self.dirty = false;
        Ok(self.record.state())
    }
}
