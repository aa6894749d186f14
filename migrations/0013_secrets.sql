-- Secrets every node of one installation shares (issue 14): `token` (Bearer, app and
-- sign-in tokens), `transfer` (tus `/data/<jwt>` URLs) and the built-in OpenID Connect
-- provider's signing keys `oidc-signing-N` (base64 PKCS#8; the highest N signs). Each is
-- stored by the first node that starts (insert-if-absent, then read back), so that a token
-- signed on one node verifies on every other.
CREATE TABLE cluster_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
