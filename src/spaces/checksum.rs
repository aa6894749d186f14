//! Content checksums: the streaming hasher every write path feeds, and the recorded values.
//!
//! spacedav records SHA1, MD5 and ADLER32 for every file (the ownCloud clients and rclone
//! compare them); SHA256 is computed only when a client asks for it (tus `checksum` metadata).
//! A stream is hashed on worker threads by the pipe of `checksum/pipe.rs`.

use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::Sha256;
use simd_adler32::Adler32;

mod pipe;
pub use pipe::{HashPipe, INLINE_HASH_LIMIT, PIECE, PendingHasher};

/// A checksum algorithm spacedav can compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// SHA-1 (`SHA1`).
    Sha1,
    /// MD5 (`MD5`).
    Md5,
    /// Adler-32 (`ADLER32`).
    Adler32,
    /// SHA-256 (`SHA256`).
    Sha256,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Adler32,
        Algorithm::Sha256,
    ];

    /// Parse a name case-insensitively (`sha1`, `SHA1`, `md5`, `adler32`, `sha256`).
    pub fn parse(s: &str) -> Option<Algorithm> {
        match s.to_ascii_lowercase().as_str() {
            "sha1" => Some(Algorithm::Sha1),
            "md5" => Some(Algorithm::Md5),
            "adler32" => Some(Algorithm::Adler32),
            "sha256" => Some(Algorithm::Sha256),
            _ => None,
        }
    }

    /// Lower-case name as in `Tus-Checksum-Algorithm`.
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Md5 => "md5",
            Algorithm::Adler32 => "adler32",
            Algorithm::Sha256 => "sha256",
        }
    }

    /// Upper-case name as in `OC-Checksum` and `oc:checksums`.
    pub fn oc_name(&self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Md5 => "MD5",
            Algorithm::Adler32 => "ADLER32",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(&self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Md5 => 16,
            Algorithm::Adler32 => 4,
            Algorithm::Sha256 => 32,
        }
    }
}

/// The checksums recorded for a file, as lower-case hex.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checksums {
    /// SHA-1 hex.
    pub sha1: Option<String>,
    /// MD5 hex.
    pub md5: Option<String>,
    /// Adler-32 hex (8 digits).
    pub adler32: Option<String>,
}

impl Checksums {
    /// The `oc:checksum` text: `SHA1:<hex> MD5:<hex> ADLER32:<hex>`.
    pub fn oc_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = &self.sha1 {
            parts.push(format!("SHA1:{v}"));
        }
        if let Some(v) = &self.md5 {
            parts.push(format!("MD5:{v}"));
        }
        if let Some(v) = &self.adler32 {
            parts.push(format!("ADLER32:{v}"));
        }
        parts.join(" ")
    }

    /// The recorded hex digest for one algorithm (SHA256 is never recorded).
    pub fn get(&self, alg: Algorithm) -> Option<&str> {
        match alg {
            Algorithm::Sha1 => self.sha1.as_deref(),
            Algorithm::Md5 => self.md5.as_deref(),
            Algorithm::Adler32 => self.adler32.as_deref(),
            Algorithm::Sha256 => None,
        }
    }
}

/// All digests of one stream, finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// The values recorded on the node.
    pub recorded: Checksums,
    /// SHA-256 hex, when it was requested.
    pub sha256: Option<String>,
}

impl Digests {
    /// The hex digest for `alg`, if computed.
    pub fn hex(&self, alg: Algorithm) -> Option<&str> {
        match alg {
            Algorithm::Sha256 => self.sha256.as_deref(),
            other => self.recorded.get(other),
        }
    }
}

/// Streaming hasher for SHA1, MD5, ADLER32 and optionally SHA256.
#[derive(Clone)]
pub struct Hasher {
    sha1: Sha1,
    md5: Md5,
    adler: Adler32,
    sha256: Option<Sha256>,
    /// It missed the bytes before it: staged bytes that a blob store cannot read back before
    /// they are sealed (an S3 multipart upload). It hashes nothing; the digests are taken
    /// from the sealed blob instead (`Store::seal_upload`).
    blind: bool,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new(false)
    }
}

impl Hasher {
    /// A fresh hasher; `with_sha256` adds SHA-256.
    pub fn new(with_sha256: bool) -> Self {
        Hasher {
            sha1: Sha1::new(),
            md5: Md5::new(),
            adler: Adler32::new(),
            sha256: with_sha256.then(Sha256::new),
            blind: false,
        }
    }

    /// A hasher for an upload whose earlier bytes cannot be read back (see `blind`).
    pub fn blind(with_sha256: bool) -> Self {
        Hasher {
            blind: true,
            ..Self::new(with_sha256)
        }
    }

    /// Whether it missed earlier bytes, so that its digests are not the whole content's.
    pub fn is_blind(&self) -> bool {
        self.blind
    }

    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        if self.blind {
            return;
        }
        self.sha1.update(data);
        self.md5.update(data);
        self.adler.write(data);
        if let Some(s) = &mut self.sha256 {
            s.update(data);
        }
    }

    /// Finish all digests.
    pub fn finish(self) -> Digests {
        Digests {
            recorded: Checksums {
                sha1: Some(hex::encode(self.sha1.finalize())),
                md5: Some(hex::encode(self.md5.finalize())),
                adler32: Some(format!("{:08x}", self.adler.finish())),
            },
            sha256: self.sha256.map(|s| hex::encode(s.finalize())),
        }
    }
}

/// One-shot digest of a single algorithm (for per-chunk verification), as raw bytes.
pub fn digest(alg: Algorithm, data: &[u8]) -> Vec<u8> {
    match alg {
        Algorithm::Sha1 => Sha1::digest(data).to_vec(),
        Algorithm::Md5 => Md5::digest(data).to_vec(),
        Algorithm::Sha256 => Sha256::digest(data).to_vec(),
        Algorithm::Adler32 => simd_adler32::adler32(&data).to_be_bytes().to_vec(),
    }
}

/// Incremental single-algorithm hasher (for per-request `Upload-Checksum` over a stream).
#[derive(Clone)]
pub enum SingleHasher {
    /// SHA-1.
    Sha1(Sha1),
    /// MD5.
    Md5(Md5),
    /// Adler-32.
    Adler32(Adler32),
    /// SHA-256.
    Sha256(Sha256),
}

impl SingleHasher {
    /// A fresh hasher for `alg`.
    pub fn new(alg: Algorithm) -> Self {
        match alg {
            Algorithm::Sha1 => SingleHasher::Sha1(Sha1::new()),
            Algorithm::Md5 => SingleHasher::Md5(Md5::new()),
            Algorithm::Adler32 => SingleHasher::Adler32(Adler32::new()),
            Algorithm::Sha256 => SingleHasher::Sha256(Sha256::new()),
        }
    }

    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            SingleHasher::Sha1(h) => h.update(data),
            SingleHasher::Md5(h) => h.update(data),
            SingleHasher::Adler32(h) => h.write(data),
            SingleHasher::Sha256(h) => h.update(data),
        }
    }

    /// The raw digest.
    pub fn finish(self) -> Vec<u8> {
        match self {
            SingleHasher::Sha1(h) => h.finalize().to_vec(),
            SingleHasher::Md5(h) => h.finalize().to_vec(),
            SingleHasher::Adler32(h) => h.finish().to_be_bytes().to_vec(),
            SingleHasher::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let mut h = Hasher::new(true);
        h.update(b"hello ");
        h.update(b"world");
        let d = h.finish();
        assert_eq!(
            d.recorded.sha1.as_deref(),
            Some("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")
        );
        assert_eq!(
            d.recorded.md5.as_deref(),
            Some("5eb63bbbe01eeed093cb22bb8f5acdc3")
        );
        assert_eq!(d.recorded.adler32.as_deref(), Some("1a0b045d"));
        assert_eq!(
            d.sha256.as_deref(),
            Some("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(
            hex::encode(digest(Algorithm::Adler32, b"hello world")),
            "1a0b045d"
        );
        assert_eq!(
            d.recorded.oc_string(),
            "SHA1:2aae6c35c94fcfb415dbe95f408b9ce91ee846ed MD5:5eb63bbbe01eeed093cb22bb8f5acdc3 ADLER32:1a0b045d"
        );
    }
}
