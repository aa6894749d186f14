//! Opening a public link: the token names an unexpired link, and a password-protected link
//! needs its password the way oCIS accepts it (Basic `public:<password>`; the legacy
//! `public.php/webdav` root sends Basic `<token>:<password>`). Wrong guesses are throttled
//! per token: after [`MAX_FAILURES`] within [`WINDOW`], every attempt is refused until the
//! window has passed, so a password cannot be guessed faster than that.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::{HeaderMap, header};

use crate::auth::{BasicCredentials, verify_password};
use crate::spaces::{Share, ShareKind, StoreError};
use crate::state::AppState;

/// Wrong passwords tolerated per token within [`WINDOW`].
pub const MAX_FAILURES: u32 = 5;
/// The throttle window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// The user name oCIS expects in a link's Basic credentials.
pub const PUBLIC_USER: &str = "public";

/// Recent wrong passwords per link token (process memory: a restart forgets them, which
/// costs an attacker a restart per window).
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Seconds until `token` may be tried again, if it is blocked now.
    pub fn blocked(&self, token: &str) -> Option<u64> {
        let mut map = self.lock();
        let (count, since) = *map.get(token)?;
        let elapsed = since.elapsed();
        if elapsed >= WINDOW {
            map.remove(token);
            return None;
        }
        (count >= MAX_FAILURES).then(|| (WINDOW - elapsed).as_secs().max(1))
    }

    /// Count a wrong password.
    pub fn fail(&self, token: &str) {
        let mut map = self.lock();
        let entry = map.entry(token.to_string()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
        // Bound memory: forget windows that have passed.
        if map.len() > 10_000 {
            map.retain(|_, (_, t)| t.elapsed() < WINDOW);
        }
    }
}

/// Why a link cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No such token, not a link, or expired.
    #[error("no such link")]
    NotFound,
    /// The link has a password and none was sent.
    #[error("this link needs a password")]
    PasswordRequired,
    /// The password is wrong.
    #[error("wrong link password")]
    WrongPassword,
    /// Too many wrong passwords: try again after this many seconds.
    #[error("too many wrong passwords; try again later")]
    Throttled(u64),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The password a request offers for link `token`: Basic `public:<pw>` or `<token>:<pw>`.
fn offered_password(headers: &HeaderMap, token: &str) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let creds = BasicCredentials::parse(rest.trim()).ok()?;
    (creds.user == PUBLIC_USER || creds.user == token).then_some(creds.password)
}

/// The unexpired link with this token (no password check).
pub async fn lookup(state: &AppState, token: &str) -> Result<Share, LinkError> {
    let link = match state.store().share_by_token(token).await {
        Ok(l) => l,
        Err(StoreError::NotFound) => return Err(LinkError::NotFound),
        Err(e) => return Err(e.into()),
    };
    if link.kind != ShareKind::Link || link.expired(state.clock().now_ns()) {
        return Err(LinkError::NotFound);
    }
    Ok(link)
}

/// Look up link `token` and check the request's password against it.
pub async fn open(state: &AppState, token: &str, headers: &HeaderMap) -> Result<Share, LinkError> {
    let link = lookup(state, token).await?;
    let Some(hash) = link.password_hash.clone() else {
        return Ok(link);
    };
    let throttle = state.link_throttle();
    if let Some(secs) = throttle.blocked(token) {
        return Err(LinkError::Throttled(secs));
    }
    let password = offered_password(headers, token).ok_or(LinkError::PasswordRequired)?;
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    if ok {
        Ok(link)
    } else {
        throttle.fail(token);
        Err(LinkError::WrongPassword)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_blocks_after_the_allowed_failures() {
        let t = Throttle::default();
        for _ in 0..MAX_FAILURES - 1 {
            t.fail("tok");
        }
        assert_eq!(t.blocked("tok"), None);
        t.fail("tok");
        assert!(t.blocked("tok").is_some());
        assert_eq!(t.blocked("other"), None);
    }
}
