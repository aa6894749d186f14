//! OpenID Connect settings (`auth.oidc_*`): the external issuer, the lifetimes of what the
//! built-in provider issues, and the extra clients registered from config (the table-valued
//! key, parsed here).

use std::time::Duration;

use super::values::RawValue;

/// What is not a key (the keys' defaults are in the key table).
pub(crate) mod defaults {
    /// Lifetime of an authorization code, seconds (not a key; tests shorten it).
    pub const CODE_TTL: u64 = 60;
}

/// One client registered from config (`[[auth.oidc_clients]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcClientConfig {
    /// `client_id`.
    pub id: String,
    /// `client_secret`; `None` = a public client (PKCE required).
    pub secret: Option<String>,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Exact `post_logout_redirect_uri` values.
    pub post_logout_redirect_uris: Vec<String>,
}

/// Everything OpenID Connect, validated. `Default` is all empty; the keys' defaults come
/// from the key table.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct OidcConfig {
    /// An external issuer; when set the built-in provider is off.
    pub issuer: Option<url::Url>,
    /// Audiences accepted in tokens of the external issuer (`aud` or `azp`).
    pub audience: Vec<String>,
    /// The claim of an external token that names the user.
    pub user_claim: String,
    /// Create a user on the first valid token of the external issuer that names none.
    pub autoprovision: bool,
    /// Clients beyond the built-in ones.
    pub clients: Vec<OidcClientConfig>,
    /// Lifetime of access tokens (and id tokens) of the built-in provider.
    pub access_token_ttl: Duration,
    /// Lifetime of refresh tokens of the built-in provider.
    pub refresh_token_ttl: Duration,
    /// Lifetime of authorization codes.
    pub code_ttl: Duration,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let clients: Vec<&str> = self.clients.iter().map(|c| c.id.as_str()).collect();
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer.as_ref().map(url::Url::as_str))
            .field("audience", &self.audience)
            .field("user_claim", &self.user_claim)
            .field("autoprovision", &self.autoprovision)
            .field("clients", &clients)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("code_ttl", &self.code_ttl)
            .finish()
    }
}

/// Parses `auth.oidc_clients`: an array of tables in the file, the same written as a TOML
/// inline array in env (`[{id = "app", redirect_uris = ["https://app/cb"]}]`).
pub(crate) fn clients(v: &RawValue) -> Result<Vec<OidcClientConfig>, String> {
    let parsed;
    let items = match v {
        RawValue::Toml(toml::Value::Array(items)) => items,
        RawValue::Text(s) => {
            let table: toml::Table = format!("v = {s}")
                .parse()
                .map_err(|e: toml::de::Error| format!("not a TOML array: {}", e.message()))?;
            parsed = match table.get("v") {
                Some(toml::Value::Array(items)) => items.clone(),
                _ => return Err("expected a TOML array of tables".into()),
            };
            &parsed
        }
        RawValue::Toml(other) => {
            return Err(format!(
                "expected an array of tables, found {}",
                other.type_str()
            ));
        }
    };
    let mut out: Vec<OidcClientConfig> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let toml::Value::Table(t) = item else {
            return Err(format!("entry {i}: expected a table"));
        };
        let client = client(t).map_err(|why| format!("entry {i}: {why}"))?;
        if out.iter().any(|c| c.id == client.id) {
            return Err(format!(
                "entry {i}: client id {:?} appears twice",
                client.id
            ));
        }
        out.push(client);
    }
    Ok(out)
}

fn client(t: &toml::Table) -> Result<OidcClientConfig, String> {
    for key in t.keys() {
        if !["id", "secret", "redirect_uris", "post_logout_redirect_uris"].contains(&key.as_str()) {
            return Err(format!("unknown field {key:?}"));
        }
    }
    let string = |key: &str| -> Result<Option<String>, String> {
        match t.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(format!("{key} must be a non-empty string")),
        }
    };
    let uris = |key: &str| -> Result<Vec<String>, String> {
        let Some(value) = t.get(key) else {
            return Ok(Vec::new());
        };
        let toml::Value::Array(items) = value else {
            return Err(format!("{key} must be a list of URLs"));
        };
        items
            .iter()
            .map(|item| match item {
                toml::Value::String(s) => url::Url::parse(s)
                    .map(|_| s.clone())
                    .map_err(|e| format!("{key}: {s:?} is not a URL: {e}")),
                _ => Err(format!("{key} must be a list of URLs")),
            })
            .collect()
    };
    let id = string("id")?.ok_or("id is required")?;
    let redirect_uris = uris("redirect_uris")?;
    if redirect_uris.is_empty() {
        return Err("redirect_uris must name at least one URL".into());
    }
    Ok(OidcClientConfig {
        id,
        secret: string("secret")?,
        redirect_uris,
        post_logout_redirect_uris: uris("post_logout_redirect_uris")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_lists_from_file_and_env() {
        let file: toml::Table =
            r#"c = [{ id = "app", secret = "s", redirect_uris = ["https://app.example/cb"] }]"#
                .parse()
                .unwrap();
        let from_file = clients(&RawValue::Toml(file["c"].clone())).unwrap();
        let from_env = clients(&RawValue::Text(
            r#"[{ id = "app", secret = "s", redirect_uris = ["https://app.example/cb"] }]"#.into(),
        ))
        .unwrap();
        assert_eq!(from_file, from_env);
        assert_eq!(from_file[0].secret.as_deref(), Some("s"));
        let bad = [
            r#"[{ secret = "s", redirect_uris = ["https://a/cb"] }]"#,
            r#"[{ id = "a" }]"#,
            r#"[{ id = "a", redirect_uris = ["not a url"] }]"#,
            r#"[{ id = "a", redirect_uris = ["https://a/cb"], colour = "red" }]"#,
            r#"[{ id = "a", redirect_uris = ["https://a/cb"] }, { id = "a", redirect_uris = ["https://a/cb"] }]"#,
            r#""just a string""#,
        ];
        for text in bad {
            assert!(clients(&RawValue::Text(text.into())).is_err(), "{text}");
        }
    }
}
