//! Verified Bearer tokens, remembered until they expire, so that a PROPFIND or a tus PATCH with
//! a JWT costs one hash and one map lookup instead of a signature check. Keyed by a salted
//! SHA-256 of the token; bounded in size.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::spaces::UserId;

/// Entries beyond which expired ones are pruned on insert (and, if still full, all dropped).
const SOFT_LIMIT: usize = 16384;

/// See the module doc.
pub struct TokenCache {
    salt: [u8; 32],
    verified: Mutex<HashMap<[u8; 32], (UserId, u64)>>,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache {
            salt: rand::random(),
            verified: Mutex::new(HashMap::new()),
        }
    }
}

impl TokenCache {
    /// The cache key of `token`.
    pub fn key(&self, token: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(token.as_bytes());
        h.finalize().into()
    }

    /// The user of a token verified before and not yet expired at `now` (unix s).
    pub fn get(&self, key: &[u8; 32], now: u64) -> Option<UserId> {
        let map = self.verified.lock().expect("token cache lock");
        map.get(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(user, _)| *user)
    }

    /// Remember a verified token of `user` that expires at `exp` (unix s).
    pub fn insert(&self, key: [u8; 32], user: UserId, exp: u64, now: u64) {
        let mut map = self.verified.lock().expect("token cache lock");
        if map.len() >= SOFT_LIMIT {
            map.retain(|_, (_, e)| *e > now);
            if map.len() >= SOFT_LIMIT {
                map.clear();
            }
        }
        map.insert(key, (user, exp));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_until_their_expiry() {
        let cache = TokenCache::default();
        let user = UserId(uuid::Uuid::new_v4());
        let k = cache.key("a.b.c");
        cache.insert(k, user, 100, 50);
        assert_eq!(cache.get(&k, 99), Some(user));
        assert_eq!(cache.get(&k, 100), None);
        assert_eq!(cache.get(&cache.key("a.b.d"), 50), None);
    }
}
