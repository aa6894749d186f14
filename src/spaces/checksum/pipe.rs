//! The hash pipe: SHA1 (with ADLER32) and MD5 of one stream on worker threads of their own
//! that give way to other threads between slices ([`SLICE`]), fed by the receive and write
//! path through bounded queues, and the hand-over of their state from one request's pipe to
//! the next.

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::Sha256;
use simd_adler32::Adler32;

use super::Hasher;

/// Hashes a stream on two helper threads (MD5 on one; SHA1, ADLER32 and SHA256 on the other)
/// while the caller receives and writes the bytes. MD5 is the slowest digest we record
/// (~720 MiB/s on one core here); off the I/O path and beside the others, a single stream is
/// bounded by MD5 alone instead of by the sum of all digests.
///
/// A pipe borrows a [`Hasher`]'s state and hands it back at [`HashPipe::finish`], so an upload
/// can hash request after request (tus PATCHes) into one whole-file digest.
pub struct HashPipe(Pipe);

enum Pipe {
    /// Hashing on two helper threads.
    Threads {
        md5_tx: tokio::sync::mpsc::Sender<bytes::Bytes>,
        rest_tx: tokio::sync::mpsc::Sender<bytes::Bytes>,
        md5_job: tokio::task::JoinHandle<Md5>,
        rest_job: tokio::task::JoinHandle<Rest>,
    },
    /// Hashing on the caller's task: for small bodies the thread hand-offs cost more than
    /// the hashing.
    Inline(Box<Hasher>),
}

/// Bytes a writer gathers before it feeds them to a [`HashPipe`] (and to its blob writer,
/// which writes in larger batches of its own): hyper delivers frames of 16–400 KiB, and
/// hashing a piece while the next one arrives keeps the hashing left at a body's end short
/// (the final PATCH waits for it) without waking the workers per frame.
pub const PIECE: usize = 256 << 10;

/// Bodies below this size are hashed inline by [`HashPipe::for_length`].
pub const INLINE_HASH_LIMIT: u64 = 1 << 20;

/// Pieces in flight per worker before `feed` waits. Writers feed pieces of [`PIECE`] (256 KiB)
/// or hyper's frames as they are (at most its 408 KiB read buffer), and both workers share
/// the same pieces, so at most ~1 MiB (1.6 MiB of whole frames) waits per pipe, twice that
/// while a PATCH's pipe queues behind the previous one's last pieces: the bound of a stream's
/// hashing memory (the write batch holds some of the same pieces). That is ~2 ms of MD5 here:
/// enough that a 1 MiB body (a final PATCH, 3-5 pieces) is received and written without
/// waiting long for the hashing, which then overlaps the sync, and that MD5 keeps working
/// through the stalls of the receive and write path (the depth of 2 it replaces let a 1 MiB
/// PATCH's write wait ~2.7 ms behind MD5, and its sync behind that).
const PIPE_DEPTH: usize = 4;

/// Bytes a hash worker hashes before it gives way to any other runnable thread (~0.4 ms of
/// MD5). On a machine with few cores a stream's two workers keep every core busy, and the
/// request's own task (the next frame of the body, the write after it, a PROPFIND beside the
/// upload) then waited out a worker's time slice each time it woke: a final PATCH's 1 MiB
/// body took 1.8-3 ms to arrive instead of ~1, its sync started that much later, and the
/// PATCH took 5.6-7.6 ms; with a yield per slice, 4.3-4.5 ms. The workers stay at normal
/// priority, so they keep a share of the CPU when other processes keep it busy: beside two
/// CPU-bound processes a 1 GiB upload ran at 115 MiB/s (163 without the yields; a slice of
/// 64 KiB gave 39, and the idle scheduling class, as fast as this when the machine is idle,
/// stopped uploads altogether). A higher `nice` value did not help the latency at all.
const SLICE: usize = 256 << 10;

/// Feed `data` to `hash` slice by slice, giving way after each ([`SLICE`]).
fn in_slices(data: &[u8], mut hash: impl FnMut(&[u8])) {
    for slice in data.chunks(SLICE) {
        hash(slice);
        std::thread::yield_now();
    }
}

/// What the SHA1 worker carries: SHA1, ADLER32 (too cheap for a thread of its own: ~0.03 CPU
/// s/GiB against SHA1's ~0.6 and MD5's ~2) and SHA256 when asked for.
type Rest = (Sha1, Adler32, Option<Sha256>);

/// A part of a [`PendingHasher`]: the state a worker hands over once it hashed its queue.
type Part<T> = Shared<BoxFuture<'static, T>>;

/// A whole-file hasher that may still be hashing what an earlier request fed it (a tus PATCH
/// is answered once its bytes are durable, before its last pieces are hashed). Cheap to
/// clone; the next pipe's workers continue from it as soon as their own part is ready
/// ([`HashPipe::start_after`]), so MD5 never waits for the answer and the next request.
#[derive(Clone)]
pub struct PendingHasher {
    md5: Part<Md5>,
    rest: Part<Rest>,
    blind: bool,
}

impl From<Hasher> for PendingHasher {
    fn from(h: Hasher) -> Self {
        PendingHasher {
            md5: futures::future::ready(h.md5).boxed().shared(),
            rest: futures::future::ready((h.sha1, h.adler, h.sha256))
                .boxed()
                .shared(),
            blind: h.blind,
        }
    }
}

impl PendingHasher {
    /// The hasher, once every piece fed to it is hashed.
    pub async fn hasher(self) -> Hasher {
        let (md5, (sha1, adler, sha256)) = futures::join!(self.md5, self.rest);
        Hasher {
            sha1,
            md5,
            adler,
            sha256,
            blind: self.blind,
        }
    }
}

impl HashPipe {
    /// Start hashing on from `hasher`'s state.
    pub fn start(hasher: Hasher) -> HashPipe {
        if hasher.blind {
            return Self::inline(hasher);
        }
        Self::start_after(hasher.into())
    }

    /// Start hashing on from a state that may still be in the making: each worker first
    /// takes its part of `prev` (waiting for the previous worker to finish its queue), while
    /// the new pieces queue up behind it.
    pub fn start_after(prev: PendingHasher) -> HashPipe {
        if prev.blind {
            // A blind hasher never has workers, so its parts are ready.
            let hasher = prev.hasher().now_or_never();
            return Self::inline(hasher.expect("a blind hasher is never pending"));
        }
        let (md5_tx, mut md5_rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(PIPE_DEPTH);
        let (rest_tx, mut rest_rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(PIPE_DEPTH);
        let PendingHasher { md5, rest, .. } = prev;
        let md5_job = tokio::task::spawn_blocking(move || {
            let mut md5 = futures::executor::block_on(md5);
            while let Some(b) = md5_rx.blocking_recv() {
                in_slices(&b, |s| md5.update(s));
            }
            md5
        });
        let rest_job = tokio::task::spawn_blocking(move || {
            let (mut sha1, mut adler, mut sha256) = futures::executor::block_on(rest);
            while let Some(b) = rest_rx.blocking_recv() {
                in_slices(&b, |s| {
                    sha1.update(s);
                    adler.write(s);
                    if let Some(h) = &mut sha256 {
                        h.update(s);
                    }
                });
            }
            (sha1, adler, sha256)
        });
        HashPipe(Pipe::Threads {
            md5_tx,
            rest_tx,
            md5_job,
            rest_job,
        })
    }

    /// Hash on the caller's task (no helper threads).
    pub fn inline(hasher: Hasher) -> HashPipe {
        HashPipe(Pipe::Inline(Box::new(hasher)))
    }

    /// Inline for a body known to be smaller than [`INLINE_HASH_LIMIT`], else on threads.
    pub fn for_length(hasher: Hasher, length: Option<u64>) -> HashPipe {
        match length {
            Some(n) if n < INLINE_HASH_LIMIT => Self::inline(hasher),
            _ => Self::start(hasher),
        }
    }

    /// [`HashPipe::for_length`] from a state that may still be in the making: a small body
    /// waits for it, a large one queues behind it.
    pub async fn for_length_after(prev: PendingHasher, length: Option<u64>) -> HashPipe {
        match length {
            Some(n) if n < INLINE_HASH_LIMIT => Self::inline(prev.hasher().await),
            _ => Self::start_after(prev),
        }
    }

    /// Hash `data` (after everything fed before). Waits only when the workers fall behind.
    pub async fn feed(&mut self, data: bytes::Bytes) {
        match &mut self.0 {
            Pipe::Threads {
                md5_tx, rest_tx, ..
            } => {
                // The workers only stop when the senders are dropped, so sending cannot fail.
                let _ = md5_tx.send(data.clone()).await;
                let _ = rest_tx.send(data).await;
            }
            Pipe::Inline(h) => h.update(&data),
        }
    }

    /// Stop feeding without waiting: the workers hash what they were given and hand over
    /// their state through the returned hasher.
    pub fn finish_later(self) -> PendingHasher {
        match self.0 {
            Pipe::Inline(h) => (*h).into(),
            Pipe::Threads {
                md5_tx,
                rest_tx,
                md5_job,
                rest_job,
            } => {
                drop(md5_tx);
                drop(rest_tx);
                PendingHasher {
                    md5: async { md5_job.await.expect("md5 worker does not panic") }
                        .boxed()
                        .shared(),
                    rest: async { rest_job.await.expect("hash worker does not panic") }
                        .boxed()
                        .shared(),
                    blind: false,
                }
            }
        }
    }

    /// Wait for the workers and return the hasher with everything fed so far.
    pub async fn finish(self) -> Hasher {
        self.finish_later().hasher().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pipe_continues_a_hasher_and_matches_the_serial_digests() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut serial = Hasher::new(true);
        serial.update(&data);
        let want = serial.finish();

        let mut first = Hasher::new(true);
        first.update(&data[..1000]);
        let mut pipe = HashPipe::start(first);
        for chunk in data[1000..2_000_000].chunks(65536) {
            pipe.feed(bytes::Bytes::copy_from_slice(chunk)).await;
        }
        let resumed = pipe.finish().await;
        let mut pipe = HashPipe::start(resumed);
        pipe.feed(bytes::Bytes::copy_from_slice(&data[2_000_000..]))
            .await;
        assert_eq!(pipe.finish().await.finish(), want);
    }

    #[tokio::test]
    async fn a_pipe_started_after_an_unfinished_one_continues_its_digests() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 241) as u8).collect();
        let mut serial = Hasher::new(true);
        serial.update(&data);
        let want = serial.finish();

        let mut first = HashPipe::start(Hasher::new(true));
        for chunk in data[..1_500_001].chunks(262_144) {
            first.feed(bytes::Bytes::copy_from_slice(chunk)).await;
        }
        // Not waited for: the next pipe queues behind it, and a retry can start from it too.
        let pending = first.finish_later();
        for _ in 0..2 {
            let mut next = HashPipe::start_after(pending.clone());
            for chunk in data[1_500_001..].chunks(300_000) {
                next.feed(bytes::Bytes::copy_from_slice(chunk)).await;
            }
            assert_eq!(next.finish().await.finish(), want);
        }
        let small = HashPipe::for_length_after(pending, Some(10)).await;
        assert!(matches!(small.0, Pipe::Inline(_)));
    }
}
