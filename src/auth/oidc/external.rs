//! An external OpenID Connect issuer (`auth.oidc_issuer`): its discovery document and JWKS
//! are fetched on first use and cached; an unknown `kid` triggers one refetch (at most one
//! per [`REFETCH_INTERVAL`], so a flood of forged tokens cannot make us hammer the issuer).
//! Only asymmetric algorithms that the issuer's keys declare are accepted; `iss`, `aud` (or
//! `azp`), `exp` and `nbf` are checked with [`LEEWAY`], on the store's clock (as every expiry).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde_json::Value;

use crate::auth::Auth;
use crate::auth::AuthError;
use crate::config::OidcConfig;
use crate::spaces::{NewUser, StoreError, User};

/// Clock skew tolerated on `exp` and `nbf` of external tokens.
pub const LEEWAY: u64 = 60;
/// Least time between two JWKS fetches triggered by unknown key ids.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// Timeout of one request to the issuer.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// One verification key of the issuer and the algorithms it may be used with.
struct IssuerKey {
    kid: Option<String>,
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

/// See the module doc.
pub struct External {
    issuer: String,
    audience: Vec<String>,
    user_claim: String,
    autoprovision: bool,
    http: reqwest::Client,
    keys: RwLock<Option<Arc<Vec<IssuerKey>>>>,
    /// The issuer's discovery document as last fetched with its keys; served again at our own
    /// origin, where the desktop client re-reads it when it refreshes (web-and-oidc.md §6.12).
    document: RwLock<Option<Arc<Value>>>,
    /// Serialises fetches; holds when the last one started.
    fetching: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for External {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("External")
            .field("issuer", &self.issuer)
            .finish()
    }
}

/// The algorithms a JWK may verify: its `alg` if it names one, else what its key type allows.
/// Symmetric keys and encryption keys verify nothing.
fn algorithms(jwk: &Jwk) -> Vec<Algorithm> {
    if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
        return Vec::new();
    }
    let by_type = match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => Vec::new(),
        },
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::OctetKeyPair(_) => vec![Algorithm::EdDSA],
        AlgorithmParameters::OctetKey(_) => Vec::new(),
    };
    match jwk.common.key_algorithm {
        None => by_type,
        Some(KeyAlgorithm::ES256) => keep(by_type, Algorithm::ES256),
        Some(KeyAlgorithm::ES384) => keep(by_type, Algorithm::ES384),
        Some(KeyAlgorithm::RS256) => keep(by_type, Algorithm::RS256),
        Some(KeyAlgorithm::RS384) => keep(by_type, Algorithm::RS384),
        Some(KeyAlgorithm::RS512) => keep(by_type, Algorithm::RS512),
        Some(KeyAlgorithm::PS256) => keep(by_type, Algorithm::PS256),
        Some(KeyAlgorithm::PS384) => keep(by_type, Algorithm::PS384),
        Some(KeyAlgorithm::PS512) => keep(by_type, Algorithm::PS512),
        Some(KeyAlgorithm::EdDSA) => keep(by_type, Algorithm::EdDSA),
        Some(_) => Vec::new(),
    }
}

fn keep(allowed: Vec<Algorithm>, alg: Algorithm) -> Vec<Algorithm> {
    allowed.into_iter().filter(|a| *a == alg).collect()
}

/// The usable keys of a JWK Set document; keys this server cannot use are skipped.
fn parse_jwks(doc: &Value) -> Vec<IssuerKey> {
    let Some(keys) = doc.get("keys").and_then(Value::as_array) else {
        return Vec::new();
    };
    keys.iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .filter_map(|jwk| {
            let algorithms = algorithms(&jwk);
            let key = DecodingKey::from_jwk(&jwk).ok()?;
            (!algorithms.is_empty()).then(|| IssuerKey {
                kid: jwk.common.key_id.clone(),
                key,
                algorithms,
            })
        })
        .collect()
}

/// Whether a token's `aud` (string or list) or `azp` names one of `accepted`.
fn audience_ok(claims: &Value, accepted: &[String]) -> bool {
    let names = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        }
    };
    names(claims.get("aud"))
        .into_iter()
        .chain(names(claims.get("azp")))
        .any(|n| accepted.contains(&n))
}

impl External {
    /// The verifier for `config.issuer` (which must be set).
    pub fn new(config: &OidcConfig, issuer: &url::Url) -> External {
        External {
            issuer: crate::auth::issuer_string(issuer),
            audience: config.audience.clone(),
            user_claim: config.user_claim.clone(),
            autoprovision: config.autoprovision,
            http: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .expect("an HTTP client with default TLS settings"),
            keys: RwLock::new(None),
            document: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(None),
        }
    }

    /// The issuer as tokens name it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    async fn fetch(&self) -> Result<Vec<IssuerKey>, String> {
        let discovery = format!("{}/.well-known/openid-configuration", self.issuer);
        let get = |url: String| async move {
            let res = self
                .http
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if !res.status().is_success() {
                return Err(format!("{url}: HTTP {}", res.status()));
            }
            res.json::<Value>()
                .await
                .map_err(|e| format!("{url}: not JSON: {e}"))
        };
        let doc = get(discovery.clone()).await?;
        if doc
            .get("issuer")
            .and_then(Value::as_str)
            .map(|s| s.trim_end_matches('/'))
            != Some(self.issuer.trim_end_matches('/'))
        {
            return Err(format!("{discovery}: names another issuer"));
        }
        let jwks_uri = doc
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{discovery}: no jwks_uri"))?;
        let keys = parse_jwks(&get(jwks_uri.to_string()).await?);
        *self.document.write().expect("issuer document lock") = Some(Arc::new(doc));
        Ok(keys)
    }

    /// The issuer's discovery document, fetched (with its keys) when none is cached yet.
    pub async fn discovery_document(&self) -> Option<Arc<Value>> {
        let cached = self.document.read().expect("issuer document lock").clone();
        if cached.is_some() {
            return cached;
        }
        // A failed fetch is logged there; the caller answers that the document is unavailable.
        let _ = self.keys(false).await;
        self.document.read().expect("issuer document lock").clone()
    }

    /// The cached keys; fetched when there are none yet, or refetched (rate limited) when
    /// `refresh` says the cached ones lack a key.
    async fn keys(&self, refresh: bool) -> Result<Arc<Vec<IssuerKey>>, AuthError> {
        let cached = self.keys.read().expect("issuer keys lock").clone();
        if let Some(keys) = &cached {
            if !refresh {
                return Ok(keys.clone());
            }
        }
        let mut last = self.fetching.lock().await;
        // Another request may have fetched while this one waited.
        let now_cached = self.keys.read().expect("issuer keys lock").clone();
        if let (Some(now), Some(before)) = (&now_cached, &cached) {
            if !Arc::ptr_eq(now, before) {
                return Ok(now.clone());
            }
        }
        if let (Some(keys), Some(at)) = (&now_cached, *last) {
            if at.elapsed() < REFETCH_INTERVAL {
                return Ok(keys.clone());
            }
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                *self.keys.write().expect("issuer keys lock") = Some(keys.clone());
                tracing::info!(issuer = %self.issuer, keys = keys.len(), "fetched the issuer's keys");
                Ok(keys)
            }
            Err(why) => {
                tracing::warn!(issuer = %self.issuer, error = %why, "cannot fetch the issuer's keys");
                now_cached.ok_or_else(|| AuthError::InvalidToken("issuer keys unavailable".into()))
            }
        }
    }

    /// Verify a token of the issuer; its user (created first with autoprovisioning) and
    /// expiry on success.
    pub async fn verify(
        &self,
        state: &Auth,
        header: &Header,
        token: &str,
    ) -> Result<(User, u64), AuthError> {
        let invalid = |why: &str| AuthError::InvalidToken(why.into());
        let pick = |keys: &Arc<Vec<IssuerKey>>| -> Option<usize> {
            keys.iter().position(|k| match (&header.kid, &k.kid) {
                (Some(want), Some(have)) => want == have,
                (None, _) => k.algorithms.contains(&header.alg),
                (Some(_), None) => false,
            })
        };
        let mut keys = self.keys(false).await?;
        if pick(&keys).is_none() {
            keys = self.keys(true).await?;
        }
        let key = pick(&keys)
            .map(|i| &keys[i])
            .ok_or_else(|| invalid("unknown signing key"))?;
        if !key.algorithms.contains(&header.alg) {
            return Err(invalid("algorithm not declared for the key"));
        }
        let mut v = Validation::new(header.alg);
        // `exp` and `nbf` are checked below against the store's clock, not the system's.
        v.validate_exp = false;
        v.validate_nbf = false;
        v.validate_aud = false;
        v.set_issuer(&[self.issuer.clone(), format!("{}/", self.issuer)]);
        v.set_required_spec_claims(&["exp", "iss"]);
        let data =
            jsonwebtoken::decode::<Value>(token, &key.key, &v).map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::ExpiredToken,
                _ => AuthError::InvalidToken(e.to_string()),
            })?;
        let claims = data.claims;
        if !audience_ok(&claims, &self.audience) {
            return Err(invalid("audience not accepted"));
        }
        let exp = claims
            .get("exp")
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid("exp is not a number"))?;
        let now = state.store().clock().unix_secs();
        if exp.saturating_add(LEEWAY) < now {
            return Err(AuthError::ExpiredToken);
        }
        match claims.get("nbf").map(Value::as_u64) {
            Some(None) => return Err(invalid("nbf is not a number")),
            Some(Some(nbf)) if nbf > now.saturating_add(LEEWAY) => {
                return Err(invalid("not valid yet (nbf)"));
            }
            _ => {}
        }
        let name = claims
            .get(&self.user_claim)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid("the user claim is missing"))?;
        let user = match state.store().user_by_name(name).await {
            Ok(u) => u,
            Err(StoreError::NotFound) if self.autoprovision => {
                self.provision(state, name, &claims).await?
            }
            Err(StoreError::NotFound) => return Err(AuthError::UnknownUser),
            Err(e) => return Err(e.into()),
        };
        Ok((user, exp))
    }

    /// Create the user a valid token names (display name and email from its claims). Its
    /// password is unusable: it signs in through the issuer.
    async fn provision(&self, state: &Auth, name: &str, claims: &Value) -> Result<User, AuthError> {
        let text = |k: &str| claims.get(k).and_then(Value::as_str).map(String::from);
        let new = NewUser {
            name: name.to_string(),
            display_name: text("name").unwrap_or_else(|| name.to_string()),
            email: text("email"),
            // Not a PHC string: no password ever matches it.
            password_hash: "!external".into(),
            is_admin: false,
        };
        match state.store().create_user(new).await {
            Ok(u) => {
                tracing::info!(user = %name, issuer = %self.issuer, "provisioned a user from the external issuer");
                Ok(u)
            }
            // Another request provisioned the same user first.
            Err(StoreError::NameTaken(_)) => Ok(state.store().user_by_name(name).await?),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_asymmetric_signing_keys_are_used() {
        let doc = json!({"keys": [
            {"kty": "EC", "crv": "P-256", "kid": "a", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "crv": "P-256", "kid": "b", "use": "enc", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "oct", "kid": "c", "k": "c2VjcmV0"},
            {"kty": "EC", "crv": "P-256", "kid": "d", "alg": "HS256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "weird", "kid": "e"}
        ]});
        let keys = parse_jwks(&doc);
        let kids: Vec<_> = keys.iter().map(|k| k.kid.clone().unwrap()).collect();
        assert_eq!(kids, ["a"]);
        assert_eq!(keys[0].algorithms, [Algorithm::ES256]);
    }

    #[test]
    fn audience_or_authorized_party_must_match() {
        let accepted = vec!["web".to_string()];
        assert!(audience_ok(&json!({"aud": "web"}), &accepted));
        assert!(audience_ok(&json!({"aud": ["x", "web"]}), &accepted));
        assert!(audience_ok(
            &json!({"aud": "account", "azp": "web"}),
            &accepted
        ));
        assert!(!audience_ok(&json!({"aud": "other"}), &accepted));
        assert!(!audience_ok(&json!({}), &accepted));
    }
}
