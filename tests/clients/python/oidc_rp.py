"""An OpenID Connect relying party built on Authlib (OAuth2Session: authorization code with
PKCE S256, refresh) and joserfc (id token signature against the provider's JWKS, claims),
driving spacedav's built-in provider. The browser step (posting the sign-in form) is done with
requests, as a browser would. Prints one JSON object per step on stdout."""

import argparse
import json
import re
import sys
from html import unescape

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from joserfc import jwt
from joserfc.jwk import KeySet


def emit(step, **data):
    print(json.dumps({"step": step, **data}), flush=True)


def sign_in(url, user, password):
    """Open the sign-in page and submit it; the redirect back to the client."""
    browser = requests.Session()
    page = browser.get(url)
    page.raise_for_status()
    form = {
        unescape(name): unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.text
        )
    }
    form.update(username=user, password=password)
    action = re.search(r'<form method="post" action="([^"]*)"', page.text).group(1)
    done = browser.post(requests.compat.urljoin(url, action), data=form, allow_redirects=False)
    if done.status_code != 303:
        sys.exit(f"sign-in answered {done.status_code}")
    return done.headers["Location"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--issuer", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    a = p.parse_args()

    meta = requests.get(a.issuer + "/.well-known/openid-configuration").json()
    if meta["issuer"] != a.issuer:
        sys.exit(f"discovery names issuer {meta['issuer']}")
    emit("discovery", issuer=meta["issuer"])
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"]).json())

    redirect_uri = a.issuer + "/oidc-callback.html"
    client = OAuth2Session(
        client_id="web",
        scope="openid profile email offline_access",
        redirect_uri=redirect_uri,
        token_endpoint_auth_method="none",
        code_challenge_method="S256",
    )
    verifier = generate_token(64)
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier
    )
    callback = sign_in(url, a.user, a.password)
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    emit("token", token_type=token["token_type"], has_refresh="refresh_token" in token)

    id_token = jwt.decode(token["id_token"], keys, algorithms=["ES256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": a.issuer},
        aud={"essential": True, "value": "web"},
        sub={"essential": True},
        exp={"essential": True},
    ).validate(id_token.claims)
    emit("id_token", sub=id_token.claims["sub"], user=id_token.claims["preferred_username"],
         alg=id_token.header["alg"])

    who = requests.get(
        a.issuer + "/ocs/v2.php/cloud/user?format=json",
        headers={"Authorization": "Bearer " + token["access_token"]},
    )
    emit("api", status=who.status_code, id=who.json()["ocs"]["data"]["id"])

    first_refresh = token["refresh_token"]
    renewed = client.refresh_token(meta["token_endpoint"], refresh_token=first_refresh)
    emit("refresh", rotated=renewed["refresh_token"] != first_refresh,
         has_access="access_token" in renewed)
    try:
        client.refresh_token(meta["token_endpoint"], refresh_token=first_refresh)
        emit("reuse", error=None)
    except OAuthError as e:
        emit("reuse", error=e.error)
    try:
        client.refresh_token(meta["token_endpoint"], refresh_token=renewed["refresh_token"])
        emit("after_reuse", error=None)
    except OAuthError as e:
        emit("after_reuse", error=e.error)


if __name__ == "__main__":
    main()
