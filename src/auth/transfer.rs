//! Transfer tokens: the capability in a tus upload URL `/data/{token}` (SPEC §4).
//!
//! An HS256 JWT signed with `config.transfer_secret` (never the user-token secret) naming the
//! upload session, its space and `exp` = the session's expiry. Verification pins HS256, so
//! `alg: none` and every other algorithm are refused; no leeway is granted on `exp`. `iat` and
//! the expiry check read the store's [`Clock`], the same time the session's expiry is kept on.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Clock;
use crate::spaces::UploadId;

/// The audience of every transfer token, so no other token of this server passes as one.
pub const TRANSFER_AUDIENCE: &str = "spacedav-transfer";

/// What a transfer token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferClaims {
    /// The upload session id.
    pub upl: UploadId,
    /// The space the upload belongs to.
    pub spc: Uuid,
    /// Expiry, unix seconds (= the session's expiry).
    pub exp: i64,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Always [`TRANSFER_AUDIENCE`].
    pub aud: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// Malformed, tampered with, wrong algorithm or audience.
    #[error("invalid transfer token")]
    Invalid,
    /// Correctly signed but past its `exp`: the session it names has expired.
    #[error("transfer token expired")]
    Expired,
}

/// Signs and verifies transfer tokens with one secret.
#[derive(Clone)]
pub struct TransferKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    clock: Clock,
}

impl std::fmt::Debug for TransferKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransferKeys(<redacted>)")
    }
}

impl TransferKeys {
    /// Keys for `secret`, issuing and checking expiry on `clock`.
    pub fn new(secret: &str, clock: Clock) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        // Expiry is checked in `verify` against `clock`, not the library's system time.
        validation.validate_exp = false;
        validation.set_audience(&[TRANSFER_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud"]);
        TransferKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            clock,
        }
    }

    /// A token for upload `upload` in space `space`, valid until `expires` (unix seconds).
    pub fn issue(&self, upload: UploadId, space: Uuid, expires: i64) -> String {
        let claims = TransferClaims {
            upl: upload,
            spc: space,
            exp: expires,
            iat: i64::try_from(self.clock.unix_secs()).unwrap_or(i64::MAX),
            aud: TRANSFER_AUDIENCE.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// Verify a token: signature first, then expiry.
    pub fn verify(&self, token: &str) -> Result<TransferClaims, TransferError> {
        let claims =
            jsonwebtoken::decode::<TransferClaims>(token, &self.decoding, &self.validation)
                .map_err(|_| TransferError::Invalid)?
                .claims;
        // The signature was checked above, so an expired token was genuinely ours. As
        // jsonwebtoken without leeway: expired once `exp` lies in the past.
        let now = i64::try_from(self.clock.unix_secs()).unwrap_or(i64::MAX);
        if claims.exp < now {
            return Err(TransferError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    #[test]
    fn round_trip_and_refusals() {
        let keys = TransferKeys::new("secret-one", Clock::system());
        let (upl, spc) = (UploadId::new(), Uuid::new_v4());
        let token = keys.issue(upl, spc, now() + 60);
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.upl, claims.spc), (upl, spc));

        assert_eq!(
            TransferKeys::new("other", Clock::system()).verify(&token),
            Err(TransferError::Invalid)
        );
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut payload = URL_SAFE_NO_PAD.decode(&parts[1]).unwrap();
        let upl_text = upl.to_string();
        let pos = payload
            .windows(upl_text.len())
            .position(|w| w == upl_text.as_bytes())
            .unwrap();
        payload[pos] = if payload[pos] == b'a' { b'b' } else { b'a' };
        parts[1] = URL_SAFE_NO_PAD.encode(&payload);
        assert_eq!(keys.verify(&parts.join(".")), Err(TransferError::Invalid));

        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert_eq!(keys.verify(&unsigned), Err(TransferError::Invalid));
        assert_eq!(keys.verify("garbage"), Err(TransferError::Invalid));

        let expired = keys.issue(upl, spc, now() - 5);
        assert_eq!(keys.verify(&expired), Err(TransferError::Expired));
    }

    #[test]
    fn a_token_expires_when_the_clock_passes_its_exp_and_carries_the_clocks_iat() {
        let clock = Clock::adjustable();
        let keys = TransferKeys::new("secret-one", clock.clone());
        let (upl, spc) = (UploadId::new(), Uuid::new_v4());
        clock.advance(std::time::Duration::from_secs(7200));
        let exp = now() + 7200 + 60;
        let token = keys.issue(upl, spc, exp);
        let claims = keys.verify(&token).unwrap();
        assert!(
            claims.iat >= now() + 7200,
            "iat {} on the moved clock",
            claims.iat
        );
        clock.advance(std::time::Duration::from_secs(61));
        assert_eq!(keys.verify(&token), Err(TransferError::Expired));
    }
}
