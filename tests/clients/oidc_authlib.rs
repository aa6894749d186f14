//! Authlib (PyPI `authlib`, with `joserfc` for JOSE) as an OpenID Connect relying party of
//! the built-in provider (issue 10): discovery, authorization code with PKCE S256, the id token
//! verified against the JWKS by the library, the access token used on the API, refresh with
//! rotation, and a reused refresh token refused together with its successor. The script is
//! `python/oidc_rp.py`; it posts the sign-in form as a browser would.

use std::time::Duration;

use tokio::process::Command;

use crate::common::{ADMIN, ADMIN_PASSWORD, TestServer};
use crate::support::{events, python, run, script};

const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test]
#[ignore = "real client: needs authlib (venv); .ci/run runs it with --include-ignored"]
async fn authlib_signs_in_with_pkce_verifies_the_id_token_and_rotates_refresh_tokens() {
    let py = require!("authlib (venv python)", python());
    let probe = run(
        Command::new(&py).args(["-c", "import authlib, joserfc"]),
        LIMIT,
    )
    .await;
    assert!(
        probe.success(),
        "authlib is not installed in the venv (`.ci/run install`): {}",
        probe.text()
    );
    let srv = TestServer::start().await;
    let out = run(
        Command::new(&py)
            .arg(script("python/oidc_rp.py"))
            .args(["--issuer", &srv.base])
            .args(["--user", ADMIN, "--password", ADMIN_PASSWORD]),
        LIMIT,
    )
    .await;
    out.assert_success("authlib relying party");
    let ev = events(&out.text());
    let step = |name: &str| {
        ev.iter()
            .find(|e| e["step"] == name)
            .unwrap_or_else(|| panic!("no {name} step in\n{}", out.text()))
            .clone()
    };
    assert_eq!(step("discovery")["issuer"], srv.base);
    assert_eq!(step("token")["token_type"], "Bearer");
    assert_eq!(step("token")["has_refresh"], true);
    let id = step("id_token");
    assert_eq!(id["user"], "admin");
    assert_eq!(id["alg"], "ES256");
    assert_eq!(step("api")["status"], 200);
    assert_eq!(step("api")["id"], "admin");
    assert_eq!(step("refresh")["rotated"], true);
    assert_eq!(step("reuse")["error"], "invalid_grant");
    assert_eq!(
        step("after_reuse")["error"],
        "invalid_grant",
        "reusing a refresh token revokes the whole grant"
    );
}
