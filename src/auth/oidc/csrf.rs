//! CSRF protection of the sign-in form: a double-submit cookie plus a signed form token.
//!
//! The browser gets a random cookie value; the form carries `{exp}.{HMAC(key, cookie, request
//! digest, exp)}`. A cross-site page can neither read the cookie nor forge the MAC, and a token
//! minted for one authorization request (client, redirect URI, state, PKCE challenge, scope,
//! nonce) is useless for another. The key is derived from the server's token secret, so any
//! process of an installation accepts the form another one rendered.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// How long a rendered form stays valid, seconds.
pub const FORM_TTL: u64 = 3600;

/// The MAC key, derived from the installation's token secret.
pub fn key(token_secret: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"spacedav oidc sign-in form\0");
    h.update(token_secret.as_bytes());
    h.finalize().into()
}

/// A digest of the request fields a form token is bound to.
pub fn request_digest(fields: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for f in fields {
        h.update(f.as_bytes());
        h.update([0]);
    }
    h.finalize().into()
}

fn mac(key: &[u8; 32], cookie: &str, digest: &[u8; 32], exp: u64) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    m.update(cookie.as_bytes());
    m.update(&[0]);
    m.update(digest);
    m.update(&exp.to_be_bytes());
    m
}

/// The form token for `cookie` and the request `digest`, valid until `now + FORM_TTL`.
pub fn form_token(key: &[u8; 32], cookie: &str, digest: &[u8; 32], now: u64) -> String {
    let exp = now + FORM_TTL;
    let tag = mac(key, cookie, digest, exp).finalize().into_bytes();
    format!("{exp}.{}", hex::encode(tag))
}

/// Whether `token` was minted for `cookie` and `digest` and has not expired (constant time).
pub fn check(key: &[u8; 32], cookie: &str, digest: &[u8; 32], token: &str, now: u64) -> bool {
    let Some((exp, tag)) = token.split_once('.') else {
        return false;
    };
    let (Ok(exp), Ok(tag)) = (exp.parse::<u64>(), hex::decode(tag)) else {
        return false;
    };
    exp > now && mac(key, cookie, digest, exp).verify_slice(&tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_binds_cookie_request_and_time() {
        let k = key("secret-secret-secret");
        let d = request_digest(&["web", "http://h/cb", "state"]);
        let t = form_token(&k, "cookie", &d, 1000);
        assert!(check(&k, "cookie", &d, &t, 1000));
        assert!(!check(&k, "other-cookie", &d, &t, 1000));
        let d2 = request_digest(&["web", "http://h/cb", "other-state"]);
        assert!(!check(&k, "cookie", &d2, &t, 1000));
        assert!(!check(&k, "cookie", &d, &t, 1000 + FORM_TTL));
        assert!(!check(&key("another-secret-x"), "cookie", &d, &t, 1000));
        assert!(!check(&k, "cookie", &d, "garbage", 1000));
        let forged_exp = t.replacen(&(1000 + FORM_TTL).to_string(), "99999999", 1);
        assert!(!check(&k, "cookie", &d, &forged_exp, 1000));
    }
}
