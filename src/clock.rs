//! The time source of everything that expires: tus upload sessions, WebDAV locks, OpenID
//! Connect codes and tokens, app tokens and user tokens (STYLE habit 16). The storage core
//! carries one [`Clock`] ([`crate::spaces::Store::clock`]), so every layer reads the same
//! time. A server runs on the system clock; tests start theirs adjustable and move it forward
//! instead of sleeping for time to pass.
//!
//! Durations measured for logs, metrics and connection timeouts (`Instant`) are not expiry and
//! stay on the monotonic clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A wall clock: the system's, or the system's plus an offset that only [`Clock::advance`]
/// moves (tests). Cheap to clone; clones share the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: nanoseconds added to it.
    offset: Option<Arc<AtomicU64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that runs with the system clock and that [`Clock::advance`] moves forward.
    pub fn adjustable() -> Clock {
        Clock {
            offset: Some(Arc::new(AtomicU64::new(0))),
        }
    }

    /// Move an adjustable clock forward by `by`. Panics on the system clock, which no one may
    /// move.
    pub fn advance(&self, by: Duration) {
        let offset = self
            .offset
            .as_ref()
            .expect("only an adjustable clock can be advanced");
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        offset.fetch_add(by, Ordering::SeqCst);
    }

    /// The current time.
    pub fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        match &self.offset {
            None => now,
            Some(offset) => now + Duration::from_nanos(offset.load(Ordering::SeqCst)),
        }
    }

    /// The current time as unix nanoseconds (the store's timestamps).
    pub fn now_ns(&self) -> i64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }

    /// The current time as unix seconds (JWT `iat` and `exp`, token rows).
    pub fn unix_secs(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adjustable_clock_moves_forward_by_what_it_is_advanced_and_clones_share_it() {
        let clock = Clock::adjustable();
        let copy = clock.clone();
        let before = clock.unix_secs();
        clock.advance(Duration::from_secs(3600));
        let after = copy.unix_secs();
        assert!((3600..3700).contains(&(after - before)), "{before} {after}");
    }

    #[test]
    #[should_panic(expected = "only an adjustable clock")]
    fn the_system_clock_cannot_be_advanced() {
        Clock::system().advance(Duration::from_secs(1));
    }
}
