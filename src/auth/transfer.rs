//! Transfer tokens: the capability in a tus upload URL `/data/{token}` (SPEC §4).
//!
//! An HS256 JWT signed with `config.transfer_secret` (never the user-token secret) naming the
//! upload session, its space and `exp` = the session's expiry. Verification pins HS256, so
//! `alg: none` and every other algorithm are refused; no leeway is granted on `exp`.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The audience of every transfer token, so no other token of this server passes as one.
pub const TRANSFER_AUDIENCE: &str = "spacedav-transfer";

/// What a transfer token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferClaims {
    /// The upload session id.
    pub upl: Uuid,
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
}

impl std::fmt::Debug for TransferKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransferKeys(<redacted>)")
    }
}

impl TransferKeys {
    /// Keys for `secret`.
    pub fn new(secret: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 0;
        validation.set_audience(&[TRANSFER_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud"]);
        TransferKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }
    }

    /// A token for upload `upload` in space `space`, valid until `expires` (unix seconds).
    pub fn issue(&self, upload: Uuid, space: Uuid, expires: i64) -> String {
        let claims = TransferClaims {
            upl: upload,
            spc: space,
            exp: expires,
            iat: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
            aud: TRANSFER_AUDIENCE.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// Verify a token: signature first, then expiry.
    pub fn verify(&self, token: &str) -> Result<TransferClaims, TransferError> {
        match jsonwebtoken::decode::<TransferClaims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            // jsonwebtoken checks the signature before the claims, so an expired token was
            // genuinely ours.
            Err(e) if *e.kind() == ErrorKind::ExpiredSignature => Err(TransferError::Expired),
            Err(_) => Err(TransferError::Invalid),
        }
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
        let keys = TransferKeys::new("secret-one");
        let (upl, spc) = (Uuid::new_v4(), Uuid::new_v4());
        let token = keys.issue(upl, spc, now() + 60);
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.upl, claims.spc), (upl, spc));

        assert_eq!(
            TransferKeys::new("other").verify(&token),
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
}
