//! Throttling of failed sign-ins at the built-in provider, per user name and per client
//! address: after [`USER_LIMIT`] (or [`ADDRESS_LIMIT`]) failures within [`WINDOW`], further
//! attempts are refused until the window has passed, without checking the password. Kept in
//! memory: it slows guessing down; losing it on restart loses nothing that matters.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures of one user name tolerated within a window.
pub const USER_LIMIT: u32 = 5;
/// Failures from one address tolerated within a window (several users may share a NAT).
pub const ADDRESS_LIMIT: u32 = 20;
/// The window that failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Tracked keys beyond which stale ones are dropped.
const SOFT_LIMIT: usize = 10_000;

struct Failures {
    first: Instant,
    count: u32,
}

/// See the module doc.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Failures>>,
}

fn keys(user: &str, addr: Option<IpAddr>) -> Vec<(String, u32)> {
    let mut out = vec![(format!("user:{}", user.to_lowercase()), USER_LIMIT)];
    if let Some(a) = addr {
        out.push((format!("addr:{a}"), ADDRESS_LIMIT));
    }
    out
}

impl Throttle {
    /// How long until `user` from `addr` may try again; `None` = now.
    pub fn wait(&self, user: &str, addr: Option<IpAddr>) -> Option<Duration> {
        let map = self.failures.lock().expect("throttle lock");
        keys(user, addr)
            .into_iter()
            .filter_map(|(k, limit)| {
                let f = map.get(&k)?;
                let left = WINDOW.checked_sub(f.first.elapsed())?;
                (f.count >= limit).then_some(left)
            })
            .max()
    }

    /// Count a failed sign-in.
    pub fn fail(&self, user: &str, addr: Option<IpAddr>) {
        let mut map = self.failures.lock().expect("throttle lock");
        if map.len() >= SOFT_LIMIT {
            map.retain(|_, f| f.first.elapsed() < WINDOW);
        }
        for (k, _) in keys(user, addr) {
            let f = map.entry(k).or_insert(Failures {
                first: Instant::now(),
                count: 0,
            });
            if f.first.elapsed() >= WINDOW {
                *f = Failures {
                    first: Instant::now(),
                    count: 0,
                };
            }
            f.count += 1;
        }
    }

    /// Forget the failures of `user` after a successful sign-in.
    pub fn succeed(&self, user: &str) {
        let mut map = self.failures.lock().expect("throttle lock");
        map.remove(&format!("user:{}", user.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_address_limits() {
        let t = Throttle::default();
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
