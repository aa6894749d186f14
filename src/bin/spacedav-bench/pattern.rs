//! The payload: one pseudo-random buffer generated once at start-up and sent as cheap `Bytes`
//! slices, so the client never copies or generates data while it is timing a server.
//!
//! Byte `p` of every upload is `buf[p % PERIOD]`. The period is odd, so chunk boundaries never
//! line up with it and a chunk stored at the wrong offset is caught by `Pattern::matches`.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Length of the repeating buffer (32 MiB + 4093 bytes).
const PERIOD: u64 = (32 << 20) + 4093;
/// Largest slice handed to hyper per body frame: big enough to keep syscalls rare.
const FRAME: u64 = 512 << 10;

/// The shared payload buffer. Cloning is a reference-count increment.
#[derive(Clone)]
pub struct Pattern {
    buf: Bytes,
}

impl Pattern {
    /// Fills the buffer from a fixed-seed xorshift generator (about 30 ms).
    pub fn new() -> Self {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut buf = Vec::with_capacity(PERIOD as usize + 8);
        while (buf.len() as u64) < PERIOD {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            buf.extend_from_slice(&state.to_le_bytes());
        }
        buf.truncate(PERIOD as usize);
        Self { buf: buf.into() }
    }

    /// A request body carrying the upload bytes `[start, start + len)`.
    pub fn body(&self, start: u64, len: u64) -> PatternBody {
        PatternBody {
            buf: self.buf.clone(),
            pos: start,
            end: start + len,
        }
    }

    /// The bytes `[start, start + len)` as one contiguous buffer (for small bodies and digests).
    pub fn to_vec(&self, start: u64, len: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(len as usize);
        let mut body = self.body(start, len);
        while let Some(slice) = body.next_slice() {
            out.extend_from_slice(&slice);
        }
        out
    }

    /// Whether `data` equals the upload bytes starting at `pos`.
    pub fn matches(&self, pos: u64, data: &[u8]) -> bool {
        let mut body = self.body(pos, data.len() as u64);
        let mut at = 0;
        while let Some(slice) = body.next_slice() {
            if data[at..at + slice.len()] != slice[..] {
                return false;
            }
            at += slice.len();
        }
        true
    }
}

/// A streaming body over a range of the pattern; see [`Pattern::body`].
pub struct PatternBody {
    buf: Bytes,
    pos: u64,
    end: u64,
}

impl PatternBody {
    fn next_slice(&mut self) -> Option<Bytes> {
        if self.pos >= self.end {
            return None;
        }
        let off = self.pos % PERIOD;
        let n = (self.end - self.pos).min(FRAME).min(PERIOD - off);
        self.pos += n;
        Some(self.buf.slice(off as usize..(off + n) as usize))
    }
}

impl Body for PatternBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().next_slice().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.pos >= self.end
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.end - self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_concatenate_to_the_same_stream() {
        let p = Pattern::new();
        let whole = p.to_vec(PERIOD - 100, 3 * FRAME);
        let a = p.to_vec(PERIOD - 100, FRAME + 7);
        let b = p.to_vec(PERIOD - 100 + FRAME + 7, 2 * FRAME - 7);
        assert_eq!(whole, [a, b].concat());
        assert!(p.matches(PERIOD - 100, &whole));
    }

    #[test]
    fn shifted_data_does_not_match() {
        let p = Pattern::new();
        let data = p.to_vec(10, 4096);
        assert!(!p.matches(11, &data));
        assert!(!p.matches(10 + PERIOD / 2, &data));
    }

    #[test]
    fn frames_respect_the_limit_and_the_period() {
        let p = Pattern::new();
        let mut body = p.body(PERIOD - 10, 2 * FRAME);
        let sizes: Vec<usize> = std::iter::from_fn(|| body.next_slice().map(|b| b.len())).collect();
        assert_eq!(sizes.iter().sum::<usize>() as u64, 2 * FRAME);
        assert_eq!(sizes[0], 10, "first frame stops at the end of the buffer");
        assert!(sizes.iter().all(|&n| n as u64 <= FRAME));
    }
}
