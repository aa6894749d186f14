//! Throttling of wrong guesses, in memory: failures are counted per key (a user name, a client
//! address, a public link's token) within a window; once a key reaches its limit, further
//! attempts are refused until the window has passed, without checking the secret. One type
//! serves the sign-in form of the built-in provider ([`SignInThrottle`]: per user name and per
//! address) and public-link passwords ([`link_passwords`]: per token, used by `sharing::public`). Losing the counts on
//! restart costs an attacker a restart per window, nothing that matters.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Tracked keys beyond which the ones whose window has passed are dropped.
const SOFT_LIMIT: usize = 10_000;

struct Failures {
    first: Instant,
    count: u32,
}

/// Failures per key within one window.
pub struct Throttle {
    window: Duration,
    failures: Mutex<HashMap<String, Failures>>,
}

impl Throttle {
    /// A throttle counting failures within `window`.
    pub fn new(window: Duration) -> Throttle {
        Throttle {
            window,
            failures: Mutex::default(),
        }
    }

    fn map(&self) -> MutexGuard<'_, HashMap<String, Failures>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long until `key` may be tried again, when it has `limit` failures in the current
    /// window; `None` = now.
    pub fn wait(&self, key: &str, limit: u32) -> Option<Duration> {
        let map = self.map();
        let f = map.get(key)?;
        let left = self.window.checked_sub(f.first.elapsed())?;
        (f.count >= limit && !left.is_zero()).then_some(left)
    }

    /// Count a failure of `key`.
    pub fn fail(&self, key: &str) {
        let mut map = self.map();
        if map.len() >= SOFT_LIMIT {
            map.retain(|_, f| f.first.elapsed() < self.window);
        }
        let f = map.entry(key.to_string()).or_insert(Failures {
            first: Instant::now(),
            count: 0,
        });
        if f.first.elapsed() >= self.window {
            *f = Failures {
                first: Instant::now(),
                count: 0,
            };
        }
        f.count += 1;
    }

    /// Forget the failures of `key` (after a success).
    pub fn forget(&self, key: &str) {
        self.map().remove(key);
    }
}

/// Wrong passwords tolerated per public link token within [`LINK_WINDOW`].
pub const LINK_FAILURES: u32 = 5;
/// The window that wrong link passwords are counted in.
pub const LINK_WINDOW: Duration = Duration::from_secs(60);

/// The throttle of wrong public-link passwords, keyed by token: [`LINK_FAILURES`] within
/// [`LINK_WINDOW`].
pub fn link_passwords() -> Throttle {
    Throttle::new(LINK_WINDOW)
}

/// Failed sign-ins of one user name tolerated within a window.
pub const USER_LIMIT: u32 = 5;
/// Failed sign-ins from one address tolerated within a window (several users may share a NAT).
pub const ADDRESS_LIMIT: u32 = 20;
/// The window that failed sign-ins are counted in.
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The sign-in form's throttle: a user name after [`USER_LIMIT`] failures, an address after
/// [`ADDRESS_LIMIT`], within [`SIGN_IN_WINDOW`].
pub struct SignInThrottle(Throttle);

impl Default for SignInThrottle {
    fn default() -> Self {
        SignInThrottle(Throttle::new(SIGN_IN_WINDOW))
    }
}

fn user_key(user: &str) -> String {
    format!("user:{}", user.to_lowercase())
}

fn keys(user: &str, addr: Option<IpAddr>) -> Vec<(String, u32)> {
    let mut out = vec![(user_key(user), USER_LIMIT)];
    if let Some(a) = addr {
        out.push((format!("addr:{a}"), ADDRESS_LIMIT));
    }
    out
}

impl SignInThrottle {
    /// How long until `user` from `addr` may try again; `None` = now.
    pub fn wait(&self, user: &str, addr: Option<IpAddr>) -> Option<Duration> {
        keys(user, addr)
            .iter()
            .filter_map(|(k, limit)| self.0.wait(k, *limit))
            .max()
    }

    /// Count a failed sign-in.
    pub fn fail(&self, user: &str, addr: Option<IpAddr>) {
        for (k, _) in keys(user, addr) {
            self.0.fail(&k);
        }
    }

    /// Forget the failures of `user` after a successful sign-in.
    pub fn succeed(&self, user: &str) {
        self.0.forget(&user_key(user));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_refused_once_it_reaches_its_limit() {
        let t = Throttle::new(Duration::from_secs(60));
        for _ in 0..4 {
            t.fail("tok");
        }
        assert_eq!(t.wait("tok", 5), None);
        t.fail("tok");
        assert!(t.wait("tok", 5).is_some());
        assert_eq!(t.wait("other", 5), None);
        t.forget("tok");
        assert_eq!(t.wait("tok", 5), None);
    }

    #[test]
    fn sign_ins_are_limited_per_user_and_per_address() {
        let t = SignInThrottle::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..USER_LIMIT {
            assert!(t.wait("Alice", Some(a)).is_none());
            t.fail("alice", Some(a));
        }
        assert!(t.wait("ALICE", None).is_some());
        assert!(t.wait("bob", Some(a)).is_none());
        t.succeed("alice");
        assert!(t.wait("alice", None).is_none());
        for i in 0..ADDRESS_LIMIT {
            t.fail(&format!("user{i}"), Some(a));
        }
        assert!(t.wait("carol", Some(a)).is_some());
        assert!(t.wait("carol", Some("10.0.0.2".parse().unwrap())).is_none());
    }
}
