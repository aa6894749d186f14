//! Opening a public link: the token names an unexpired link, and a password-protected link
//! needs its password the way oCIS accepts it (Basic `public:<password>`; the legacy
//! `public.php/webdav` root sends Basic `<token>:<password>`). Wrong guesses are throttled
//! per token (the application state's link throttle, `auth::throttle`): after [`LINK_FAILURES`]
//! within [`LINK_WINDOW`](crate::auth::throttle::LINK_WINDOW), every attempt is refused until
//! the window has passed, so a password cannot be guessed faster than that.

use http::{HeaderMap, header};

use crate::auth::throttle::LINK_FAILURES;
use crate::auth::{BasicCredentials, verify_password};
use crate::spaces::{Share, ShareKind, StoreError};
use crate::state::AppState;

/// The user name oCIS expects in a link's Basic credentials.
pub const PUBLIC_USER: &str = "public";

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
    if let Some(wait) = throttle.wait(token, LINK_FAILURES) {
        return Err(LinkError::Throttled(wait.as_secs().max(1)));
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
        let t = crate::auth::throttle::link_passwords();
        for _ in 0..LINK_FAILURES - 1 {
            t.fail("tok");
        }
        assert_eq!(t.wait("tok", LINK_FAILURES), None);
        t.fail("tok");
        let wait = t.wait("tok", LINK_FAILURES).expect("blocked");
        assert!(wait <= crate::auth::throttle::LINK_WINDOW);
        assert_eq!(t.wait("other", LINK_FAILURES), None);
    }
}
