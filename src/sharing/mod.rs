//! Sharing (issue 12): shares with users and groups and public links. This module owns what a
//! share's OCS permission bits allow, link tokens, the password check of a public link with its
//! throttle, and the OCS `files_sharing` API ([`ocs`]). The rows live in the storage core
//! (`spaces::shares`); WebDAV (`dav::resolve`) asks [`access`] and [`public`] who may do what.

pub mod access;
pub mod dates;
pub mod mounts;
pub mod ocs;
mod ocs_view;
pub mod policy;
pub mod public;

use axum::Router;

use crate::state::AppState;

pub use access::{ALL, Access, CREATE, DELETE, READ, SHARE, UPDATE};
pub use mounts::{Mount, SHARE_JAIL};

/// The folder received shares appear under in a user's view (OCS paths, the legacy roots).
pub const SHARES_FOLDER: &str = "Shares";

/// The sharing routes (OCS `files_sharing`).
pub fn routes() -> Router<AppState> {
    ocs::routes()
}

/// A fresh link token: 160 random bits, as 32 URL-safe base32-ish characters (letters and
/// digits, so it survives any URL or header unescaped).
pub fn new_token() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    // 62^27 > 2^160.
    (0..27)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_distinct_and_url_safe() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 27);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
