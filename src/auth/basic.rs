//! `Authorization: Basic` (RFC 7617) against the users table, with a short-lived cache of
//! verified credentials: argon2 costs 10+ ms per check, and clients send Basic credentials with
//! every chunk of an upload.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::AuthError;
use super::password::{hash_password, verify_password};
use crate::auth::Auth;
use crate::metrics::metrics;
use crate::spaces::{StoreError, User};

/// How long a verified user/password pair is trusted without running argon2 again.
const CACHE_TTL: Duration = Duration::from_secs(60);

/// Entries beyond which expired ones are pruned on insert.
const CACHE_SOFT_LIMIT: usize = 4096;

/// Decoded Basic credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The user name as sent.
    pub user: String,
    /// The password as sent.
    pub password: String,
}

impl BasicCredentials {
    /// Parse the part after `Basic `: base64 of `user:password` (the user contains no colon).
    pub fn parse(encoded: &str) -> Result<Self, AuthError> {
        let raw = STANDARD
            .decode(encoded.as_bytes())
            .map_err(|_| AuthError::Malformed)?;
        let text = String::from_utf8(raw).map_err(|_| AuthError::Malformed)?;
        let (user, password) = text.split_once(':').ok_or(AuthError::Malformed)?;
        if user.is_empty() {
            return Err(AuthError::Malformed);
        }
        Ok(BasicCredentials {
            user: user.to_string(),
            password: password.to_string(),
        })
    }
}

/// Recently verified credentials, keyed by a salted SHA-256 of the user id, the stored password
/// hash and the password sent. Because the stored hash is part of the key, changing a password
/// invalidates every entry for that user; the per-process salt keeps the keys useless outside
/// this process.
pub struct CredentialCache {
    salt: [u8; 32],
    verified: Mutex<HashMap<[u8; 32], Instant>>,
    /// Credentials being verified now, each with the lock its other requests wait on.
    gates: Mutex<HashMap<[u8; 32], Arc<tokio::sync::Mutex<()>>>>,
}

impl Default for CredentialCache {
    fn default() -> Self {
        CredentialCache {
            salt: rand::random(),
            verified: Mutex::new(HashMap::new()),
            gates: Mutex::new(HashMap::new()),
        }
    }
}

impl CredentialCache {
    fn key(&self, user: &User, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(user.id.0.as_bytes());
        h.update(user.password_hash.as_bytes());
        h.update([0]);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    fn hit(&self, key: &[u8; 32]) -> bool {
        let map = self.verified.lock().expect("credential cache lock");
        map.get(key).is_some_and(|t| t.elapsed() < CACHE_TTL)
    }

    /// A request's place among those verifying `key`: they take its lock in turn.
    fn turn(&self, key: [u8; 32]) -> Turn<'_> {
        let mut gates = self.gates.lock().expect("credential gates lock");
        let gate = gates.entry(key).or_default().clone();
        Turn {
            cache: self,
            key,
            gate,
        }
    }

    fn insert(&self, key: [u8; 32]) {
        let mut map = self.verified.lock().expect("credential cache lock");
        if map.len() >= CACHE_SOFT_LIMIT {
            map.retain(|_, t| t.elapsed() < CACHE_TTL);
            if map.len() >= CACHE_SOFT_LIMIT {
                map.clear();
            }
        }
        map.insert(key, Instant::now());
    }
}

/// See [`CredentialCache::turn`]. Dropped (answered, or cancelled by a client that went away
/// while waiting), the last one forgets the key's lock, so the map holds only keys in flight.
struct Turn<'a> {
    cache: &'a CredentialCache,
    key: [u8; 32],
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut gates = self.cache.gates.lock().expect("credential gates lock");
        // The map's handle and this one: no other request holds or waits for the lock.
        if Arc::strong_count(&self.gate) <= 2 {
            gates.remove(&self.key);
        }
    }
}

/// A hash to verify against when the user does not exist, so an unknown user costs the same
/// argon2 time as a wrong password (no user enumeration by timing).
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("spacedav decoy password"))
}

/// The slots argon2 runs in, one per core. Each verification holds argon2's working memory
/// (19 MiB with the default parameters) for about 10 ms: without a bound, a burst of requests
/// whose credentials are not cached (16 upload connections once the cache entry expired, or a
/// flood of wrong passwords) held 19 MiB per request at once (a 300 MiB peak for 16), and
/// more cores than the machine has bring no answer sooner.
async fn argon2_slot() -> tokio::sync::SemaphorePermit<'static> {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            tokio::sync::Semaphore::new(cores)
        })
        .acquire()
        .await
        .expect("the argon2 slots are never closed")
}

/// Runs argon2 on the blocking pool, in an [`argon2_slot`].
async fn argon2_verify(hash: String, password: String) -> bool {
    let _slot = argon2_slot().await;
    metrics().password_check();
    tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false)
}

/// The user named `name`; an unknown name costs the same argon2 time as a wrong password.
async fn lookup(state: &Auth, name: &str, password: &str) -> Result<User, AuthError> {
    match state.store().user_by_name(name).await {
        Ok(u) => Ok(u),
        Err(StoreError::NotFound) => {
            argon2_verify(decoy_hash().to_string(), password.to_string()).await;
            Err(AuthError::UnknownUser)
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether `password` is `user`'s password (cached, else argon2).
async fn password_matches(state: &Auth, user: &User, password: &str) -> Result<(), AuthError> {
    let cache = state.credentials();
    let key = cache.key(user, password);
    if cache.hit(&key) {
        return Ok(());
    }
    // Requests with the same credentials queue behind the one verifying them and find its
    // result in the cache: one argon2 run for a burst, not one per request.
    let turn = cache.turn(key);
    let _held = turn.gate.lock().await;
    if cache.hit(&key) {
        return Ok(());
    }
    if argon2_verify(user.password_hash.clone(), password.to_string()).await {
        cache.insert(key);
        Ok(())
    } else {
        Err(AuthError::WrongPassword)
    }
}

/// Check a user's own password (the provider's sign-in page; app tokens do not count there).
pub(crate) async fn check_password(
    state: &Auth,
    name: &str,
    password: &str,
) -> Result<User, AuthError> {
    let user = lookup(state, name, password).await?;
    password_matches(state, &user, password).await?;
    Ok(user)
}

/// Check Basic credentials (the password, or one of the user's app tokens); the user on
/// success.
pub(super) async fn verify(state: &Auth, creds: &BasicCredentials) -> Result<User, AuthError> {
    let user = lookup(state, &creds.user, &creds.password).await?;
    let cache = state.credentials();
    if cache.hit(&cache.key(&user, &creds.password)) {
        return Ok(user);
    }
    // App tokens are checked by their hash in the store on every request and never cached,
    // so a revoked one stops working at once.
    if super::app_tokens::valid(state, &user, &creds.password).await? {
        return Ok(user);
    }
    password_matches(state, &user, &creds.password).await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_parse_table() {
        let enc = |s: &str| STANDARD.encode(s);
        let ok = |u: &str, p: &str| {
            Some(BasicCredentials {
                user: u.into(),
                password: p.into(),
            })
        };
        let rows: Vec<(String, Option<BasicCredentials>)> = vec![
            (enc("alice:secret"), ok("alice", "secret")),
            (enc("alice:"), ok("alice", "")),
            (enc("alice:a:b"), ok("alice", "a:b")),
            (enc("ålice:pässword"), ok("ålice", "pässword")),
            (enc("alice"), None),
            (enc(":secret"), None),
            ("not base64!".into(), None),
            (STANDARD.encode([0xff, b':', b'x']), None),
        ];
        for (input, want) in rows {
            assert_eq!(BasicCredentials::parse(&input).ok(), want, "{input}");
        }
    }

    #[test]
    fn the_last_turn_of_a_key_forgets_its_lock_even_when_it_never_held_it() {
        let cache = CredentialCache::default();
        let in_flight = |c: &CredentialCache| c.gates.lock().unwrap().len();
        let holder = cache.turn([1; 32]);
        let waiter = cache.turn([1; 32]);
        let _other = cache.turn([2; 32]);
        assert_eq!(in_flight(&cache), 2);
        // A waiter whose client went away (its future dropped) leaves the lock to the holder.
        drop(waiter);
        assert_eq!(in_flight(&cache), 2);
        drop(holder);
        assert_eq!(in_flight(&cache), 1);
    }

    #[test]
    fn cache_key_changes_with_the_stored_hash() {
        let cache = CredentialCache::default();
        let mut user = User {
            id: crate::spaces::UserId(uuid::Uuid::new_v4()),
            name: "a".into(),
            display_name: "a".into(),
            email: None,
            password_hash: "h1".into(),
            is_admin: false,
        };
        let k1 = cache.key(&user, "pw");
        cache.insert(k1);
        assert!(cache.hit(&k1));
        user.password_hash = "h2".into();
        assert!(!cache.hit(&cache.key(&user, "pw")));
        assert_ne!(cache.key(&user, "pw"), cache.key(&user, "pw2"));
    }
}
