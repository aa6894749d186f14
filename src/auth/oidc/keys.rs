//! The built-in provider's signing keys (ES256, P-256) and their JWKS.
//!
//! Each key is a file `{data_root}/secrets/oidc-signing-*.key` (mode 0600) holding base64 of
//! its PKCS#8 document; `oidc-signing-1.key` is generated on first start. Every key file is
//! published in the JWKS and accepted when verifying; the one with the highest number signs. To
//! rotate: `spacedav token new-signing-key` adds the next file (after a restart new tokens are
//! signed with it, old ones still verify); remove the old file once the longest token lifetime
//! has passed.
//!
//! A server shares its keys with every node of the installation through the metadata
//! database ([`ProviderKeys::shared`], issue 14); the files then mirror the stored keys.
//! There, `spacedav token new-signing-key` stores the next key and `remove-signing-key N`
//! retires one; every node takes the change at its next start.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::secrets::{persisted, secrets_dir};
use crate::spaces::Store;

/// The one algorithm the built-in provider signs with.
pub const ALGORITHM: Algorithm = Algorithm::ES256;

/// File name of the key generated on first start.
const FIRST_KEY: &str = "oidc-signing-1.key";

/// The start of every key's name, in files and in the database.
const KEY_PREFIX: &str = "oidc-signing-";

struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Value,
}

/// The provider's keys: the newest signs, all verify.
pub struct ProviderKeys {
    /// Sorted by key number; the last signs.
    keys: Vec<SigningKey>,
    by_kid: HashMap<String, usize>,
}

impl std::fmt::Debug for ProviderKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("ProviderKeys").field("kids", &kids).finish()
    }
}

fn invalid(path: &Path, why: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {why}", path.display()),
    )
}

fn load(path: &Path, text: &str) -> io::Result<SigningKey> {
    let der = STANDARD
        .decode(text.trim())
        .map_err(|e| invalid(path, format!("not base64: {e}")))?;
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
            .map_err(|e| invalid(path, format!("not a P-256 PKCS#8 key: {e}")))?;
    // Uncompressed SEC1 point: 0x04 || X || Y.
    let point = pair.public_key().as_ref();
    let (x, y) = (
        URL_SAFE_NO_PAD.encode(&point[1..33]),
        URL_SAFE_NO_PAD.encode(&point[33..65]),
    );
    let kid = hex::encode(&Sha256::digest(point)[..8]);
    let decoding = DecodingKey::from_ec_components(&x, &y)
        .map_err(|e| invalid(path, format!("public key: {e}")))?;
    Ok(SigningKey {
        jwk: json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "use": "sig", "alg": "ES256"}),
        kid,
        encoding: EncodingKey::from_ec_der(&der),
        decoding,
    })
}

impl ProviderKeys {
    /// Load every key file under `{data_root}/secrets/`, generating the first one if there is
    /// none. Returns the keys and the path of a key generated now.
    pub fn open(data_root: &Path) -> io::Result<(ProviderKeys, Option<PathBuf>)> {
        let dir = secrets_dir(data_root);
        let generated = first_key(&dir)?;
        let mut keys = Vec::new();
        for path in list(&dir)? {
            let text = std::fs::read_to_string(&path)?;
            keys.push(load(&path, &text)?);
        }
        Ok((ProviderKeys::new(keys), generated))
    }

    /// The installation's keys, shared by every node through the metadata database (issue
    /// 14). When the database records none (the first node, or an installation from before
    /// it did), this node's key files are stored, the first one generated if there is none,
    /// so an existing installation keeps its keys. Then the stored keys are loaded and
    /// mirrored into the data root (a differing or retired file replaced or removed), where
    /// `spacedav token new-signing-key` numbers the next one. Returns the keys and the path of
    /// a key generated now.
    pub async fn shared(
        store: &Store,
        data_root: &Path,
    ) -> io::Result<(ProviderKeys, Option<PathBuf>)> {
        let dir = secrets_dir(data_root);
        let mut generated = None;
        let mut stored = stored_keys(store).await?;
        if stored.is_empty() {
            generated = first_key(&dir)?;
            for path in list(&dir)? {
                let text = std::fs::read_to_string(&path)?;
                claim(store, &stem(&path), text.trim()).await?;
            }
            stored = stored_keys(store).await?;
        }
        let mut keys = Vec::new();
        for (name, value) in &stored {
            let path = dir.join(format!("{name}.key"));
            let mirrored = std::fs::read_to_string(&path).ok();
            if mirrored.as_deref().map(str::trim) != Some(value.as_str()) {
                crate::spaces::secrets::save(&path, value)?;
            }
            keys.push(load(&path, value)?);
        }
        for path in list(&dir)? {
            if !stored.iter().any(|(name, _)| *name == stem(&path)) {
                std::fs::remove_file(&path)?;
            }
        }
        if keys.is_empty() {
            return Err(io::Error::other(
                "the metadata database records no signing key",
            ));
        }
        Ok((ProviderKeys::new(keys), generated))
    }

    fn new(keys: Vec<SigningKey>) -> ProviderKeys {
        let by_kid = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.kid.clone(), i))
            .collect();
        ProviderKeys { keys, by_kid }
    }

    /// Sign `claims` with the current key; `typ` goes into the header (`at+jwt` for access
    /// tokens, RFC 9068 §2.1, so an id token can never pass as one).
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> String {
        let key = self.keys.last().expect("at least one key is loaded");
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(key.kid.clone());
        header.typ = Some(typ.to_string());
        jsonwebtoken::encode(&header, claims, &key.encoding)
            .expect("ES256 signing of serialisable claims cannot fail")
    }

    /// The verification key with this `kid`.
    pub fn decoding(&self, kid: &str) -> Option<&DecodingKey> {
        self.by_kid.get(kid).map(|&i| &self.keys[i].decoding)
    }

    /// The public keys as a JWK Set (RFC 7517 §5).
    pub fn jwks(&self) -> Value {
        json!({"keys": self.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
    }
}

/// Generate a new signing key next to the existing ones, named to sort last so that it signs
/// from the next start on (`spacedav token new-signing-key`); its path.
pub fn add_key(data_root: &Path) -> io::Result<PathBuf> {
    let dir = secrets_dir(data_root);
    let next = list(&dir)?
        .iter()
        .filter_map(|p| number(p))
        .max()
        .unwrap_or(0)
        + 1;
    let path = dir.join(format!("oidc-signing-{next}.key"));
    let (_, provenance) = persisted(&path, 0o600, generate)?;
    match provenance {
        crate::config::secrets::Provenance::Generated(_) => Ok(path),
        crate::config::secrets::Provenance::Existing => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists", path.display()),
        )),
    }
}

/// Generates `oidc-signing-1.key` in `dir` if it holds no key file; its path if generated.
fn first_key(dir: &Path) -> io::Result<Option<PathBuf>> {
    if !list(dir)?.is_empty() {
        return Ok(None);
    }
    let path = dir.join(FIRST_KEY);
    let (_, provenance) = persisted(&path, 0o600, generate)?;
    Ok(matches!(provenance, crate::config::secrets::Provenance::Generated(_)).then_some(path))
}

/// A key's name: its file name without `.key` (`oidc-signing-2`), as the database stores it.
fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string()
}

/// The stored keys, by number (then name); the last one signs.
async fn stored_keys(store: &Store) -> io::Result<Vec<(String, String)>> {
    let mut stored = store
        .secrets_named(KEY_PREFIX)
        .await
        .map_err(io::Error::other)?;
    stored.sort_by_key(|(name, _)| (number(Path::new(name)), name.clone()));
    Ok(stored)
}

/// Stores key `name` unless one of that name is stored; whether `value` is the stored one.
async fn claim(store: &Store, name: &str, value: &str) -> io::Result<bool> {
    let stored = store
        .claim_secret(name, value)
        .await
        .map_err(io::Error::other)?;
    Ok(stored == value)
}

/// [`add_key`] for the whole installation: the new key is stored in the metadata database,
/// so every node publishes it (and signs with it) from its next start. `data_root` must
/// mirror the stored keys (the caller opened the state, [`ProviderKeys::shared`]).
pub async fn add_shared_key(store: &Store, data_root: &Path) -> io::Result<PathBuf> {
    let path = add_key(data_root)?;
    let text = std::fs::read_to_string(&path)?;
    if claim(store, &stem(&path), text.trim()).await? {
        return Ok(path);
    }
    std::fs::remove_file(&path)?;
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("another node stored {} meanwhile: try again", stem(&path)),
    ))
}

/// Retires key `number` from the installation (its row and this node's file); the other
/// nodes stop publishing and accepting it from their next start. The signing key stays.
pub async fn remove_shared_key(store: &Store, data_root: &Path, number: u64) -> io::Result<()> {
    let stored = stored_keys(store).await?;
    let name = format!("{KEY_PREFIX}{number}");
    let Some(at) = stored.iter().position(|(n, _)| *n == name) else {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no signing key {number}"),
        ));
    };
    if at + 1 == stored.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("key {number} signs: add a newer key and restart every node first"),
        ));
    }
    store.remove_secret(&name).await.map_err(io::Error::other)?;
    match std::fs::remove_file(secrets_dir(data_root).join(format!("{name}.key"))) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A new P-256 key as base64 of its PKCS#8 document.
fn generate() -> String {
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .expect("the system random source works");
    STANDARD.encode(doc.as_ref())
}

/// The number in `oidc-signing-N.key`.
fn number(path: &Path) -> Option<u64> {
    path.file_stem()?
        .to_str()?
        .strip_prefix("oidc-signing-")?
        .parse()
        .ok()
}

/// The key files in `dir`, by number (then name); the last one signs.
fn list(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("oidc-signing-") && n.ends_with(".key"))
        })
        .collect();
    out.sort_by_key(|p| (number(p), p.clone()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_persist_and_a_second_key_signs_while_the_first_still_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let (first, generated) = ProviderKeys::open(dir.path()).unwrap();
        assert!(generated.is_some());
        let (again, generated) = ProviderKeys::open(dir.path()).unwrap();
        assert!(generated.is_none());
        assert_eq!(first.jwks(), again.jwks());

        let second = add_key(dir.path()).unwrap();
        assert!(second.ends_with("oidc-signing-2.key"));
        for _ in 3..=10 {
            add_key(dir.path()).unwrap();
        }
        // Key 10 signs, not key 9 (numbers, not names, order the keys).
        let (many, _) = ProviderKeys::open(dir.path()).unwrap();
        let newest = many.sign("JWT", &json!({}));
        let path10 = secrets_dir(dir.path()).join("oidc-signing-10.key");
        let ten = load(&path10, &std::fs::read_to_string(&path10).unwrap()).unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&newest).unwrap().kid,
            Some(ten.kid)
        );
        std::fs::remove_file(secrets_dir(dir.path()).join("oidc-signing-10.key")).unwrap();
        for n in 3..=9 {
            std::fs::remove_file(secrets_dir(dir.path()).join(format!("oidc-signing-{n}.key")))
                .unwrap();
        }
        let (both, _) = ProviderKeys::open(dir.path()).unwrap();
        assert_eq!(both.jwks()["keys"].as_array().unwrap().len(), 2);
        let old_kid = first.keys[0].kid.clone();
        let token = both.sign("JWT", &json!({"sub": "x"}));
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_ne!(header.kid.as_deref(), Some(old_kid.as_str()));
        assert!(both.decoding(&old_kid).is_some());
    }
}
