//! `PATCH` (tus core, checksum and creation-defer-length): stream a request body into the
//! upload's staging blob while hashing it, make it durable, then move the offset by
//! compare-and-set. Completing requests go on to [`TusService::complete`].

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};

use super::error::TusError;
use super::hold::Held;
use super::parse::ChunkChecksum;
use super::service::{HashState, Progress, TusService};
use crate::spaces::checksum::{HashPipe, PIECE, SingleHasher};
use crate::spaces::{ConcatRole, Settling, StagingSink, Upload};

/// Without a per-request checksum, a long body is made durable and acknowledged in the session
/// every this many bytes, so an interrupted request (or a crash) keeps what arrived.
const CHECKPOINT: u64 = 64 << 20;

/// A parsed PATCH (or the upload part of a creation-with-upload).
#[derive(Debug, Clone, Default)]
pub struct PatchRequest {
    /// `Upload-Offset`.
    pub offset: u64,
    /// `Upload-Length`, for an upload whose length was deferred.
    pub length: Option<u64>,
    /// `Content-Length`, when known.
    pub content_length: Option<u64>,
    /// `Upload-Checksum`.
    pub checksum: Option<ChunkChecksum>,
    /// The WebDAV lock tokens the request submits, held at completion.
    pub lock_tokens: Vec<String>,
}

/// Write one batch while the whole-file pipe and the per-request hasher (on the blocking
/// pool) hash it.
async fn write_batch(
    sink: &mut Box<dyn StagingSink>,
    pipe: &mut HashPipe,
    chunk: &mut Option<SingleHasher>,
    data: Bytes,
) -> Result<(), TusError> {
    let chunk_job = chunk.take().map(|mut c| {
        let d = data.clone();
        tokio::task::spawn_blocking(move || {
            c.update(&d);
            c
        })
    });
    let chunk_done = async {
        match chunk_job {
            Some(job) => job.await.map(Some),
            None => Ok(None),
        }
    };
    let (written, (), hashed) = tokio::join!(
        sink.write_bytes(data.clone()),
        pipe.feed(data.clone()),
        chunk_done
    );
    written?;
    *chunk = hashed.map_err(std::io::Error::other)?;
    Ok(())
}

enum End {
    /// The body ended normally.
    Complete,
    /// The body broke off.
    Interrupted(String),
    /// The body would pass the upload's length.
    TooLong,
}

impl TusService {
    /// Append a request body to the upload `(id, space)` (tus `PATCH`), named by a transfer
    /// token the caller verified once ([`TusService::verify_token`]).
    pub async fn patch<S, E>(
        &self,
        (id, space): (crate::spaces::UploadId, uuid::Uuid),
        req: PatchRequest,
        body: S,
    ) -> Result<Progress, TusError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let mut held = self.hold(id, false).await?;
        // Read under the hold: another request or node may have moved the upload before.
        let result = async {
            let session = self.live_session(id, space).await?;
            self.honour_grant_held(&session).await?;
            if matches!(session.concat, ConcatRole::Final(_)) {
                return Err(TusError::PatchOnFinal);
            }
            if session.done {
                return Err(TusError::UploadNotFound);
            }
            self.append_held(session, req, body, &mut held).await
        }
        .await;
        held.release().await;
        result
    }

    /// The PATCH logic for a session this request just created (creation-with-upload): no
    /// other request knows it yet, so it is as `session` says.
    pub(crate) async fn append<S, E>(
        &self,
        session: Upload,
        req: PatchRequest,
        body: S,
    ) -> Result<Progress, TusError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let mut held = self.hold(session.id, false).await?;
        let result = self.append_held(session, req, body, &mut held).await;
        held.release().await;
        result
    }

    /// Append to `session`, read while `held`.
    async fn append_held<S, E>(
        &self,
        mut session: Upload,
        req: PatchRequest,
        body: S,
        held: &mut Held,
    ) -> Result<Progress, TusError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let state: &mut HashState = held;
        let settings = self.settings();
        let length = match (session.length, req.length) {
            (Some(known), Some(sent)) if known != sent => return Err(TusError::LengthChange),
            (Some(known), _) => Some(known),
            (None, Some(sent)) => {
                if sent > settings.max_size {
                    return Err(TusError::TooLarge);
                }
                if sent < session.offset {
                    return Err(TusError::LengthChange);
                }
                self.reserve(session.space, session.id, sent, session.expires_at)
                    .await?;
                let offset = session.offset;
                if !self
                    .0
                    .store
                    .advance_upload(&mut session, offset, Some(sent))
                    .await?
                {
                    return Err(TusError::OffsetMismatch);
                }
                self.0.store.set_upload_reserved(session.id, sent).await?;
                Some(sent)
            }
            (None, None) => None,
        };
        if req.offset != session.offset {
            return Err(TusError::OffsetMismatch);
        }
        let end = length.unwrap_or(settings.max_size);
        if req
            .content_length
            .is_some_and(|n| session.offset.saturating_add(n) > end)
        {
            return Err(TusError::ExceedsLength);
        }
        if state.offset != session.offset || state.hasher.is_none() {
            state.hasher = None;
            let hasher = self.hash_blob(&session, session.offset).await?;
            *state = HashState {
                offset: session.offset,
                hasher: Some(hasher.into()),
            };
        }
        let stranded = session.is_stranded();
        let settling = self
            .receive(
                &mut session,
                state,
                end,
                (req.checksum, req.content_length),
                body,
            )
            .await?;
        let completion = if session.is_complete() {
            let pending = state.hasher.clone().expect("hasher is positioned");
            let hasher = pending.hasher().await;
            let done = if stranded {
                self.complete_stranded(&mut session, hasher, &req.lock_tokens, settling)
                    .await?
            } else {
                self.complete(&mut session, hasher, &req.lock_tokens, settling)
                    .await?
            };
            self.drop_hash_state(session.id);
            done
        } else {
            None
        };
        Ok(Progress {
            session,
            completion,
        })
    }

    /// Make the bytes up to `written` durable and acknowledge them in the session mid-request
    /// (see [`CHECKPOINT`]), with the hasher state at that offset for a resumption.
    async fn checkpoint(
        &self,
        session: &mut Upload,
        state: &mut HashState,
        sink: &mut Box<dyn StagingSink>,
        pipe: &mut HashPipe,
        written: u64,
    ) -> Result<(), TusError> {
        // The workers hash on meanwhile; the new pipe's continue from them.
        let running = std::mem::replace(pipe, HashPipe::inline(Default::default()));
        let hasher = running.finish_later();
        *pipe = HashPipe::start_after(hasher.clone());
        let staged = sink.sync().await?;
        let length = session.length;
        if !self
            .0
            .store
            .advance_staged(session, written, length, staged)
            .await?
        {
            return Err(TusError::OffsetMismatch);
        }
        *state = HashState {
            offset: written,
            hasher: Some(hasher),
        };
        Ok(())
    }

    /// Stream `body` into the staging blob up to `end`. On success the bytes are durable and
    /// the session's offset moved, or, when they complete the upload, they are still being
    /// made durable (the returned [`Settling`], for the commit to wait on) and the offset
    /// moved only in `session`; on failure the hasher state matches the recorded offset.
    async fn receive<S, E>(
        &self,
        session: &mut Upload,
        state: &mut HashState,
        end: u64,
        (check, content_length): (Option<ChunkChecksum>, Option<u64>),
        mut body: S,
    ) -> Result<Option<Settling>, TusError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let start = session.offset;
        // Until the request ends well, a failure leaves no usable hasher (rebuilt next time).
        let before = state.hasher.take().expect("hasher is positioned");
        let mut pipe = HashPipe::for_length_after(before.clone(), content_length).await;
        let mut chunk = check.as_ref().map(|c| SingleHasher::new(c.algorithm));
        let mut sink = self.0.store.append_staging(session, start).await?;
        let mut written = start;
        let mut buf = BytesMut::new();
        let outcome = loop {
            match body.next().await {
                Some(Ok(mut bytes)) => {
                    if written + (buf.len() + bytes.len()) as u64 > end {
                        break End::TooLong;
                    }
                    while !bytes.is_empty() {
                        let data = if buf.is_empty() && bytes.len() >= PIECE {
                            // A large frame goes on as it is, without a copy.
                            std::mem::take(&mut bytes)
                        } else {
                            if buf.capacity() == 0 {
                                // Sized to what can still arrive: a 16 KiB upload must not
                                // cost a 256 KiB buffer (under many concurrent small uploads
                                // such buffers fragment the allocator's heap).
                                let left = end - written;
                                let room = content_length
                                    .map_or(left, |n| n.saturating_sub(written - start).min(left));
                                buf.reserve((PIECE as u64).min(room).max(1) as usize);
                            }
                            // Fill the piece's buffer without ever growing it (a copy); what
                            // does not fit starts the next one.
                            let fits = bytes.len().min(buf.capacity() - buf.len());
                            buf.extend_from_slice(&bytes.split_to(fits));
                            if buf.len() < buf.capacity() {
                                continue;
                            }
                            buf.split().freeze()
                        };
                        written += data.len() as u64;
                        write_batch(&mut sink, &mut pipe, &mut chunk, data).await?;
                        if check.is_none()
                            && written - session.offset >= CHECKPOINT
                            && !session.commits_at(written)
                        {
                            self.checkpoint(session, state, &mut sink, &mut pipe, written)
                                .await?;
                        }
                    }
                }
                Some(Err(e)) => break End::Interrupted(e.to_string()),
                None => break End::Complete,
            }
        };
        let keep = match &outcome {
            End::Complete => true,
            End::Interrupted(_) => check.is_none(),
            End::TooLong => false,
        };
        if !keep {
            // Nothing of this request counts beyond what it already acknowledged: an offset
            // never moves backwards (DESIGN.md), so a checkpoint taken on the way (an
            // over-long body without a checksum) stays, with the hasher state it recorded.
            // The bytes after it are cut off by the next append.
            if session.offset == start {
                *state = HashState {
                    offset: start,
                    hasher: Some(before),
                };
            }
            return Err(match outcome {
                End::TooLong => TusError::ExceedsLength,
                End::Interrupted(e) => TusError::Interrupted(e),
                End::Complete => unreachable!("a complete body is kept"),
            });
        }
        if !buf.is_empty() {
            let data = buf.split().freeze();
            written += data.len() as u64;
            write_batch(&mut sink, &mut pipe, &mut chunk, data).await?;
        }
        if let (Some(c), Some(h)) = (&check, chunk)
            && h.finish() != c.digest
        {
            *state = HashState {
                offset: start,
                hasher: Some(before),
            };
            return Err(TusError::ChecksumMismatch);
        }
        let mut settling = None;
        if session.commits_at(written) {
            // The tail syncs on while the hash workers finish the last pieces and the commit
            // runs its statements (`complete`): a final PATCH waits for the slowest of the
            // three, not for each in turn.
            let tail = self.0.store.settle_staging(sink);
            let whole = pipe.finish().await;
            // The final offset becomes visible with the file, in the commit's transaction
            // (`complete`): a crash before it leaves the last acknowledged offset, never a
            // "complete" upload without its file. A body broken off right at the end counts
            // for nothing; the client sends the rest again.
            if matches!(outcome, End::Complete) {
                session.offset = written;
                settling = Some(tail);
            }
            *state = HashState {
                offset: written,
                hasher: Some(whole.into()),
            };
        } else {
            // Any other PATCH answers once its bytes are durable: the workers finish the
            // last pieces meanwhile (MD5 keeps working while the answer travels and the next
            // PATCH arrives), and the next PATCH's workers continue from them.
            let next = HashState {
                offset: written,
                hasher: Some(pipe.finish_later()),
            };
            let staged = sink.sync().await?;
            drop(sink);
            let length = session.length;
            if written != session.offset
                && !self
                    .0
                    .store
                    .advance_staged(session, written, length, staged)
                    .await?
            {
                return Err(TusError::OffsetMismatch);
            }
            *state = next;
        }
        match outcome {
            End::Interrupted(e) => Err(TusError::Interrupted(e)),
            End::Complete | End::TooLong => Ok(settling),
        }
    }
}
