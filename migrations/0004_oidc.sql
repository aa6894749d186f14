-- OpenID Connect provider state and app tokens (issue 10). Portable SQL. Times here are unix
-- seconds (the JWT NumericDate of the tokens they back). Secrets are never stored: codes,
-- refresh tokens, session ids and app tokens are kept as hex SHA-256 of their 256-bit values.

-- A browser's sign-in at the built-in provider (the provider session cookie names one).
CREATE TABLE oidc_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    auth_time  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- What one authorization code was exchanged for: the refresh tokens of one client's sign-in.
-- Revoking it (a reused code or refresh token) refuses every refresh token it holds.
CREATE TABLE oidc_grants (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    nonce      TEXT,
    auth_time  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX oidc_grants_user ON oidc_grants(user_id);

-- Authorization codes: single use; `used_at` is set by compare-and-set, `grant_id` once the
-- exchange created its grant (so a second use can revoke it).
CREATE TABLE oidc_codes (
    code_hash      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    auth_time      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    grant_id       TEXT
);

-- Refresh tokens, rotated on every use: a used one stays (with `used_at`) so that its reuse
-- is recognised and revokes the grant.
CREATE TABLE oidc_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES oidc_grants(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX oidc_refresh_tokens_grant ON oidc_refresh_tokens(grant_id);

-- App tokens (oCIS auth-app): a password for Basic auth that the user can revoke.
CREATE TABLE app_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX app_tokens_user ON app_tokens(user_id);
