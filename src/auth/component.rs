//! [`Auth`]: the authentication component. It owns what checking a credential needs (the
//! user store, the configuration, the verified-credential and token caches, the OpenID Connect
//! provider or external issuer) and nothing else, so that handlers reach authentication
//! without the whole application state: `Auth` holds one and lends it through
//! `AsRef<Auth>`, which is all [`super::authenticate`] and the [`super::Principal`] extractor
//! ask for. The provider's and app tokens' routes run with it as their state.

use std::sync::Arc;

use url::Url;

use super::oidc::Oidc;
use super::{CredentialCache, TokenCache};
use crate::config::Config;
use crate::spaces::Store;

/// The authentication component; cheap to clone.
#[derive(Clone)]
pub struct Auth(Arc<Inner>);

struct Inner {
    config: Arc<Config>,
    store: Store,
    credentials: CredentialCache,
    tokens: TokenCache,
    oidc: Oidc,
}

impl Auth {
    /// The component over `store`, configured by `config`, with `oidc` as its token issuer.
    pub fn new(config: Arc<Config>, store: Store, oidc: Oidc) -> Auth {
        Auth(Arc::new(Inner {
            config,
            store,
            credentials: CredentialCache::default(),
            tokens: TokenCache::default(),
            oidc,
        }))
    }

    /// The configuration this process runs with.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The storage core (users, app tokens, OpenID Connect sessions and codes).
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// Recently verified Basic credentials (argon2 is too slow to run on every chunk of an
    /// upload).
    pub fn credentials(&self) -> &CredentialCache {
        &self.0.credentials
    }

    /// Verified Bearer tokens until they expire.
    pub fn tokens(&self) -> &TokenCache {
        &self.0.tokens
    }

    /// The built-in OpenID Connect provider, or the external issuer's verifier.
    pub fn oidc(&self) -> &Oidc {
        &self.0.oidc
    }
}

impl AsRef<Auth> for Auth {
    fn as_ref(&self) -> &Auth {
        self
    }
}

impl crate::http::PublicUrl for Auth {
    fn public_url(&self) -> Option<&Url> {
        self.config().public_url.as_ref()
    }
}
