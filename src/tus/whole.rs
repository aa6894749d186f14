//! A creation-with-upload that brings an upload of up to [`WHOLE_MAX`] bytes to its length in
//! its own request (tus-js-client, Uppy and the bench's small files): no session is ever
//! stored. The body is read into memory, hashed, and committed by one core call,
//! [`crate::spaces::Store::commit_staged`], whose single transaction checks the target (folder,
//! parent, `If-Match`), the locks and the quota, in SPEC §3's order, and points the file at the
//! bytes: inline beside it within `storage.inline_max_size` (one transaction and one shared WAL
//! sync for the whole upload), else in a blob sealed first. A session would cost a
//! reservation, a session row, a staging file with its fsyncs and a closing update.
//!
//! A body that breaks off or fails its `Upload-Checksum` takes the ordinary path with what
//! arrived (a session is created and the bytes are replayed into it), so the client sees the
//! same answers and can resume exactly as before.

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};

use super::error::TusError;
use super::parse::{Concat, Length};
use super::receive::PatchRequest;
use super::service::{Creation, Creator, Progress, TusService};
use crate::metrics::{UploadEvent, metrics};
use crate::spaces::checksum::SingleHasher;
use crate::spaces::{
    ConcatRole, FileWrite, IngestPlan, LockHolder, Precondition, StoreError, Upload, UploadId,
};

/// The largest upload taken whole in its creation request: what one ingest holds in memory
/// anyway. A larger one streams into a session, which survives a broken connection.
pub const WHOLE_MAX: u64 = crate::spaces::BATCH as u64;

/// How a body ended when it was read whole.
enum Read {
    /// Every announced byte arrived.
    Whole(Bytes),
    /// Fewer arrived (`Some`: the stream's error).
    Short(Bytes, Option<String>),
}

/// Read up to `n` bytes of `body` into one buffer.
async fn read_whole<S, E>(mut body: S, n: u64) -> Read
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
    E: std::fmt::Display,
{
    let mut buf = BytesMut::with_capacity(n as usize);
    while let Some(item) = body.next().await {
        match item {
            Ok(bytes) => buf.extend_from_slice(&bytes),
            Err(e) => return Read::Short(buf.freeze(), Some(e.to_string())),
        }
    }
    if buf.len() as u64 == n {
        Read::Whole(buf.freeze())
    } else {
        Read::Short(buf.freeze(), None)
    }
}

/// The outcome of [`TusService::create_whole`]: the session a `Location` names (a fresh id
/// for a file committed without one, which answers 404 like any finished session), and the
/// answer.
pub struct Whole {
    /// What `Location` names.
    pub session: Option<Upload>,
    /// The answer.
    pub result: Result<Progress, TusError>,
}

impl TusService {
    /// The length of a creation that [`TusService::create_whole`] can take: a plain upload with
    /// a target, a known length of at most [`WHOLE_MAX`], and a body announced
    /// (`Content-Length`) to carry all of it from offset 0.
    pub fn completes_in_request(
        &self,
        req: &Creation,
        offset: u64,
        content_length: Option<u64>,
    ) -> Option<u64> {
        match (&req.length, &req.concat, &req.info) {
            (Some(Length::Known(n)), None, Some(_))
                if *n > 0 && *n <= WHOLE_MAX && offset == 0 && content_length == Some(*n) =>
            {
                Some(*n)
            }
            _ => None,
        }
    }

    /// Creation-with-upload of an upload of `n` bytes ([`TusService::completes_in_request`])
    /// as one commit without a session (module docs).
    pub async fn create_whole<S, E>(
        &self,
        creator: &Creator,
        req: Creation,
        patch: PatchRequest,
        n: u64,
        body: S,
    ) -> Whole
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        debug_assert!(req.concat.is_none() || req.concat == Some(Concat::Partial));
        let info = req
            .info
            .clone()
            .expect("completes_in_request checked the target");
        let path = creator.folder.join(&info.path);
        if !creator.role.can_write() {
            // Refused whatever else holds; the creation's checks say which answer comes first.
            let refusal = self
                .check_target(creator, &path, req.if_match.as_deref(), &req.lock_tokens)
                .await
                .err()
                .unwrap_or(TusError::Forbidden);
            return Whole::refused(refusal);
        }
        // The target's checks (folder, parent, `If-Match`, locks, quota) are the commit's own,
        // in its transaction: checking them before the body as well would cost three more
        // statements for a body that is already on its way (and at most the inline limit).
        let data = match read_whole(body, n).await {
            Read::Whole(data) if chunk_matches(&patch, &data) => data,
            Read::Whole(data) => return self.replay(creator, req, patch, data, None).await,
            Read::Short(data, error) => return self.replay(creator, req, patch, data, error).await,
        };
        let store = &self.0.store;
        let wants_sha256 = matches!(info.checksum, Some((crate::spaces::Algorithm::Sha256, _)));
        let staged = async {
            let mut ingest = store
                .ingest(IngestPlan {
                    size: Some(n),
                    sha256: wants_sha256,
                })
                .await?;
            ingest.write(&data).await?;
            ingest.seal().await
        }
        .await;
        let staged = match staged {
            Ok(s) => s,
            Err(e) => return Whole::refused(e.into()),
        };
        metrics().upload(UploadEvent::Created);
        if let Some((alg, want)) = &info.checksum
            && staged.digests().hex(*alg) != Some(want.as_str())
        {
            store.discard_staged(staged).await;
            return Whole::refused(TusError::ChecksumMismatch);
        }
        let write = FileWrite {
            pre: req
                .if_match
                .clone()
                .map_or(Precondition::None, Precondition::IfMatch),
            holder: LockHolder::with_tokens(patch.lock_tokens.clone()),
            mtime: info.mtime,
            content_type: info.content_type.clone(),
        };
        let space = creator.space.id.space;
        let committed = match store.commit_staged(space, &path, staged, write).await {
            Ok(c) => c,
            Err(e) => {
                return Whole::refused(match e {
                    StoreError::Locked => TusError::Locked,
                    StoreError::PreconditionFailed => TusError::PreconditionFailed,
                    StoreError::QuotaExceeded => TusError::QuotaExceeded,
                    StoreError::IsFolder => TusError::TargetIsFolder,
                    StoreError::ParentMissing | StoreError::NotFolder => TusError::ParentMissing,
                    StoreError::Conflict => TusError::Conflict,
                    other => other.into(),
                });
            }
        };
        let now = self.now_ns();
        let session = Upload {
            id: UploadId::new(),
            space,
            blob: crate::spaces::BlobKey::new(String::new()),
            staging: crate::spaces::StagingState::default(),
            expires_at: now + self.settings().expiry.as_nanos() as i64,
            version: 1,
            done: true,
            created_at: now,
            created_by: Some(creator.user),
            role: Some(creator.role),
            target: Some(path),
            length: Some(n),
            offset: n,
            metadata: req.metadata.raw.clone(),
            content_type: info.content_type.clone(),
            mtime: info.mtime,
            checksum: info.checksum.clone(),
            reserved: 0,
            if_match: None,
            concat: ConcatRole::None,
            node: Some(committed.node.id),
            grant: creator.grant,
        };
        let completion = self.completion(&session, committed.node);
        Whole {
            session: Some(session.clone()),
            result: Ok(Progress {
                session,
                completion: Some(completion),
            }),
        }
    }

    /// The ordinary path for a body that did not arrive whole or failed its checksum: create
    /// the session, then append what arrived (and the break, if any) as a PATCH would.
    async fn replay(
        &self,
        creator: &Creator,
        req: Creation,
        patch: PatchRequest,
        data: Bytes,
        error: Option<String>,
    ) -> Whole {
        let progress = match self.create(creator, req).await {
            Ok(p) => p,
            Err(e) => return Whole::refused(e),
        };
        let session = progress.session.clone();
        let items: Vec<Result<Bytes, String>> =
            std::iter::once(Ok(data)).chain(error.map(Err)).collect();
        let result = self
            .append(progress.session, patch, futures::stream::iter(items))
            .await;
        Whole {
            session: Some(session),
            result,
        }
    }
}

impl Whole {
    fn refused(e: TusError) -> Whole {
        Whole {
            session: None,
            result: Err(e),
        }
    }
}

/// Whether the body matches the request's `Upload-Checksum` (true without one).
fn chunk_matches(patch: &PatchRequest, data: &[u8]) -> bool {
    patch.checksum.as_ref().is_none_or(|c| {
        let mut h = SingleHasher::new(c.algorithm);
        h.update(data);
        h.finish() == c.digest
    })
}
