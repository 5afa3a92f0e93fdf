"""The fake provider itself and the full authorization-code + PKCE flow against it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from httpx_oauth.oauth2 import GetAccessTokenError, OAuth2

from assistant.auth import AuthError, DiscoveryCache, check_access, get_provider_metadata, verify_id_token
from tests.auth.test_policy import Policy
from tests.fixtures.fake_oidc import FakeOidcProvider

REDIRECT = "http://localhost:8501/"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(idp: FakeOidcProvider, challenge: str | None, **extra: str) -> dict[str, str]:
    params = {
        "client_id": idp.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid email profile",
        "state": "st-1",
        **extra,
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    response = requests.get(idp.authorization_endpoint + "?" + urlencode(params), allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(idp: FakeOidcProvider, code: str, verifier: str | None, **extra: str) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra}
    if verifier is not None:
        form["code_verifier"] = verifier
    return requests.post(idp.token_endpoint, data=form, auth=(idp.client_id, idp.client_secret), timeout=5)


def test_discovery_document_is_served_and_parsed(idp: FakeOidcProvider) -> None:
    metadata = get_provider_metadata(idp.issuer)
    assert metadata.issuer == idp.issuer
    assert metadata.authorization_endpoint == idp.authorization_endpoint
    assert metadata.token_endpoint == idp.token_endpoint
    assert metadata.jwks_uri == idp.jwks_uri


def test_discovery_is_cached() -> None:
    with FakeOidcProvider() as idp:
        cache = DiscoveryCache()
        cache.get(idp.issuer)
        cache.get(idp.issuer)
        assert sum("openid-configuration" in line for line in idp.requests_log) == 1


def test_discovery_refuses_issuer_mismatch(idp: FakeOidcProvider) -> None:
    with pytest.raises(AuthError) as info:
        DiscoveryCache().get(idp.issuer.replace("127.0.0.1", "localhost"))
    assert info.value.reason == "provider_unavailable"


def test_discovery_unreachable_provider() -> None:
    with FakeOidcProvider() as idp:
        issuer = idp.issuer
    with pytest.raises(AuthError) as info:
        DiscoveryCache(timeout_s=1).get(issuer)
    assert info.value.reason == "provider_unavailable"


def test_jwks_publishes_rsa_keys(idp: FakeOidcProvider) -> None:
    keys = requests.get(idp.jwks_uri, timeout=5).json()["keys"]
    assert keys and all(k["kty"] == "RSA" and k["alg"] == "RS256" and "d" not in k for k in keys)


def test_code_flow_with_pkce_yields_verifiable_token(idp: FakeOidcProvider) -> None:
    verifier, challenge = pkce_pair()
    params = authorize(idp, challenge, login_hint="alice-sub", nonce="nonce-1")
    assert params["state"] == "st-1"
    response = exchange(idp, params["code"], verifier)
    assert response.status_code == 200, response.text
    identity = verify_id_token(
        response.json()["id_token"],
        client_id=idp.client_id,
        issuer=idp.issuer,
        jwks_uri=idp.jwks_uri,
        nonce="nonce-1",
    )
    assert identity.user_id == "alice-sub" and identity.hosted_domain == "example.com"


def test_next_user_preset_selects_the_user(idp: FakeOidcProvider) -> None:
    idp.next_user = "bob-sub"
    try:
        verifier, challenge = pkce_pair()
        params = authorize(idp, challenge)
        token = exchange(idp, params["code"], verifier).json()["id_token"]
    finally:
        idp.next_user = None
    identity = verify_id_token(token, client_id=idp.client_id, issuer=idp.issuer, jwks_uri=idp.jwks_uri)
    assert identity.email == "bob@gmail.com"
    with pytest.raises(AuthError):
        check_access(identity, Policy(allowed_email_domains=["example.com"]))


def test_unknown_user_is_denied(idp: FakeOidcProvider) -> None:
    params = authorize(idp, pkce_pair()[1], login_hint="nobody")
    assert params == {"error": "access_denied", "state": "st-1"}


def test_wrong_code_verifier_is_rejected(idp: FakeOidcProvider) -> None:
    _, challenge = pkce_pair()
    params = authorize(idp, challenge, login_hint="alice-sub")
    response = exchange(idp, params["code"], "not-the-verifier")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_missing_code_verifier_is_rejected(idp: FakeOidcProvider) -> None:
    params = authorize(idp, pkce_pair()[1], login_hint="alice-sub")
    assert exchange(idp, params["code"], None).status_code == 400


def test_authorize_without_pkce_is_rejected(idp: FakeOidcProvider) -> None:
    url = (
        idp.authorization_endpoint
        + "?"
        + urlencode({"client_id": idp.client_id, "redirect_uri": REDIRECT, "response_type": "code", "state": "s"})
    )
    assert requests.get(url, allow_redirects=False, timeout=5).status_code == 400


def test_code_is_single_use(idp: FakeOidcProvider) -> None:
    verifier, challenge = pkce_pair()
    params = authorize(idp, challenge, login_hint="alice-sub")
    assert exchange(idp, params["code"], verifier).status_code == 200
    assert exchange(idp, params["code"], verifier).status_code == 400


def test_wrong_client_secret_is_rejected(idp: FakeOidcProvider) -> None:
    verifier, challenge = pkce_pair()
    params = authorize(idp, challenge, login_hint="alice-sub")
    form = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT}
    form["code_verifier"] = verifier
    response = requests.post(idp.token_endpoint, data=form, auth=(idp.client_id, "wrong"), timeout=5)
    assert response.status_code == 401


def test_httpx_oauth_client_used_by_streamlit_oauth_works_against_fake(idp: FakeOidcProvider) -> None:
    """The same client library (and default client_secret_basic auth) streamlit-oauth uses."""
    client = OAuth2(idp.client_id, idp.client_secret, idp.authorization_endpoint, idp.token_endpoint)
    verifier, challenge = pkce_pair()
    url = asyncio.run(
        client.get_authorization_url(
            REDIRECT,
            state="st-2",
            scope=["openid", "email", "profile"],
            extras_params={"code_challenge": challenge, "code_challenge_method": "S256", "login_hint": "alice-sub"},
        )
    )
    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert params["state"] == "st-2"
    token = asyncio.run(client.get_access_token(params["code"], REDIRECT, code_verifier=verifier))
    identity = verify_id_token(token["id_token"], client_id=idp.client_id, issuer=idp.issuer, jwks_uri=idp.jwks_uri)
    assert identity.user_id == "alice-sub"
    with pytest.raises(GetAccessTokenError):
        asyncio.run(client.get_access_token(params["code"], REDIRECT, code_verifier=verifier))
