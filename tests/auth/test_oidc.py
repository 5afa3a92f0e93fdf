"""assistant/auth/oidc.py: OpenID Connect discovery against the fake provider on loopback.

The sign-in page asks :func:`get_provider_metadata` for the provider's endpoints, then hands
them to the OAuth client that builds the authorize URL and exchanges the code. Discovery must
give exactly the provider's endpoints, fetch them once per TTL, and refuse (``provider_unavailable``,
a plain sentence) whatever would send a user's code or token somewhere unsafe or wrong.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from httpx_oauth.oauth2 import GetAccessTokenError, OAuth2

from assistant.auth import AuthError, DiscoveryCache, clear_discovery_cache, get_provider_metadata, verify_id_token
from tests.auth.conftest import FakeClock
from tests.fixtures.fake_oidc import FakeOidcProvider

REDIRECT = "http://localhost:8501/"
SCOPES = ["openid", "email", "profile"]
UNREACHABLE = "The sign-in provider could not be reached."


class EditedProvider(FakeOidcProvider):
    """The fake provider, serving its discovery document with some fields changed.

    Args:
        document: Served instead of the discovery document when given (any JSON value).
        **changes: Fields to set; a None value removes the field.
    """

    def __init__(self, document: Any = None, **changes: Any) -> None:
        super().__init__()
        self.document = document
        self.changes = changes

    def discovery_document(self) -> Any:
        if self.document is not None:
            return self.document
        doc = super().discovery_document()
        for name, value in self.changes.items():
            if value is None:
                doc.pop(name, None)
            else:
                doc[name] = value
        return doc


@pytest.fixture(scope="module")
def edited_server() -> Iterator[EditedProvider]:
    provider = EditedProvider()
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def edited(edited_server: EditedProvider) -> EditedProvider:
    """One provider for the module (RSA keys are slow to make), its document reset for each test."""
    edited_server.document = None
    edited_server.changes = {}
    return edited_server


def _discovery_fetches(idp: FakeOidcProvider) -> int:
    return sum("openid-configuration" in line for line in idp.requests_log)


def _refusal(issuer: str) -> AuthError:
    with pytest.raises(AuthError) as info:
        DiscoveryCache(timeout_s=2).get(issuer)
    assert info.value.reason == "provider_unavailable"
    return info.value


@contextmanager
def _serving(status: int, body: bytes, content_type: str) -> Iterator[str]:
    """A loopback HTTP server answering every GET with one fixed response; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- discovery ---------------------------------------------------------------------------


def test_discovery_gives_the_providers_endpoints(idp: FakeOidcProvider) -> None:
    metadata = DiscoveryCache().get(idp.issuer)

    assert metadata.issuer == idp.issuer
    assert metadata.authorization_endpoint == idp.authorization_endpoint
    assert metadata.token_endpoint == idp.token_endpoint
    assert metadata.jwks_uri == idp.jwks_uri
    assert metadata.revocation_endpoint is None  # the fake provider publishes none


def test_issuer_with_a_trailing_slash_is_the_same_provider(idp: FakeOidcProvider) -> None:
    assert DiscoveryCache().get(idp.issuer + "/").token_endpoint == idp.token_endpoint


def test_revocation_endpoint_is_kept_when_published(edited: EditedProvider) -> None:
    edited.changes["revocation_endpoint"] = edited.issuer + "/revoke"

    assert DiscoveryCache().get(edited.issuer).revocation_endpoint == edited.issuer + "/revoke"


def test_a_non_text_revocation_endpoint_is_ignored(edited: EditedProvider) -> None:
    edited.changes["revocation_endpoint"] = 42

    assert DiscoveryCache().get(edited.issuer).revocation_endpoint is None


def test_https_endpoints_on_other_hosts_are_accepted(edited: EditedProvider) -> None:
    edited.changes.update(
        authorization_endpoint="https://accounts.example.com/o/oauth2/auth",
        token_endpoint="https://oauth2.example.com/token",
        jwks_uri="https://www.example.com/oauth2/v3/certs",
        revocation_endpoint="https://oauth2.example.com/revoke",
    )

    metadata = DiscoveryCache().get(edited.issuer)

    assert metadata.authorization_endpoint == "https://accounts.example.com/o/oauth2/auth"
    assert metadata.token_endpoint == "https://oauth2.example.com/token"
    assert metadata.jwks_uri == "https://www.example.com/oauth2/v3/certs"
    assert metadata.revocation_endpoint == "https://oauth2.example.com/revoke"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.8.9.10", "[::1]"])
def test_plain_http_is_accepted_on_this_machine_only(host: str, edited: EditedProvider) -> None:
    edited.changes["token_endpoint"] = f"http://{host}:9/token"

    assert DiscoveryCache().get(edited.issuer).token_endpoint == f"http://{host}:9/token"


# --- cache -------------------------------------------------------------------------------


def test_the_document_is_fetched_once_per_ttl(clock: FakeClock, edited: EditedProvider) -> None:
    before = _discovery_fetches(edited)
    cache = DiscoveryCache(ttl_s=60, clock=clock)
    cache.get(edited.issuer)
    clock.advance(59)
    cache.get(edited.issuer)
    assert _discovery_fetches(edited) - before == 1

    clock.advance(1)
    cache.get(edited.issuer)
    assert _discovery_fetches(edited) - before == 2


def test_a_refetch_after_the_ttl_picks_up_moved_endpoints(clock: FakeClock, edited: EditedProvider) -> None:
    cache = DiscoveryCache(ttl_s=60, clock=clock)
    assert cache.get(edited.issuer).token_endpoint == edited.token_endpoint
    edited.changes["token_endpoint"] = edited.issuer + "/v2/token"
    assert cache.get(edited.issuer).token_endpoint == edited.token_endpoint  # still cached

    clock.advance(60)
    assert cache.get(edited.issuer).token_endpoint == edited.issuer + "/v2/token"


def test_a_failed_fetch_is_not_cached(edited: EditedProvider) -> None:
    edited.changes["token_endpoint"] = None
    cache = DiscoveryCache()
    with pytest.raises(AuthError):
        cache.get(edited.issuer)
    edited.changes.clear()  # the provider is fixed

    assert cache.get(edited.issuer).token_endpoint == edited.token_endpoint


def test_clear_forgets_the_documents(edited: EditedProvider) -> None:
    before = _discovery_fetches(edited)
    cache = DiscoveryCache()
    cache.get(edited.issuer)
    cache.clear()
    cache.get(edited.issuer)
    assert _discovery_fetches(edited) - before == 2


def test_the_process_wide_cache_is_shared_until_cleared(edited: EditedProvider) -> None:
    before = _discovery_fetches(edited)
    first = get_provider_metadata(edited.issuer)
    assert get_provider_metadata(edited.issuer) is first
    assert _discovery_fetches(edited) - before == 1

    clear_discovery_cache()
    assert get_provider_metadata(edited.issuer) == first
    assert _discovery_fetches(edited) - before == 2


# --- refusals ----------------------------------------------------------------------------


def test_an_unreachable_provider_is_refused() -> None:
    with FakeOidcProvider() as idp:
        issuer = idp.issuer
    assert _refusal(issuer).message == UNREACHABLE


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (404, b"not found", "text/plain"),
        (500, b'{"error": "down"}', "application/json"),
        (200, b"<html>Sign in</html>", "text/html"),
    ],
    ids=["not-found", "server-error", "not-json"],
)
def test_a_provider_without_a_usable_document_is_refused(status: int, body: bytes, content_type: str) -> None:
    with _serving(status, body, content_type) as issuer:
        assert _refusal(issuer).message == UNREACHABLE


def test_a_document_that_is_not_an_object_is_refused(edited: EditedProvider) -> None:
    edited.document = ["not", "an", "object"]

    assert "not a JSON object" in _refusal(edited.issuer).message


def test_a_document_naming_another_issuer_is_refused(edited: EditedProvider, caplog: pytest.LogCaptureFixture) -> None:
    edited.changes["issuer"] = "https://accounts.google.com"

    with caplog.at_level(logging.WARNING):
        assert "names another issuer" in _refusal(edited.issuer).message
    assert "discovery document names another issuer" in caplog.text


@pytest.mark.parametrize("field", ["authorization_endpoint", "token_endpoint", "jwks_uri"])
@pytest.mark.parametrize("value", [None, ""], ids=["missing", "empty"])
def test_a_document_without_an_endpoint_is_refused(field: str, value: str | None, edited: EditedProvider) -> None:
    edited.changes[field] = value

    assert _refusal(edited.issuer).message == f"The provider's discovery document lacks '{field}'."


@pytest.mark.parametrize(
    "url",
    [
        "http://accounts.example.com/token",  # plain http to another host
        "http://127.0.0.1.evil.example/token",  # looks like loopback, is not
        "http://localhost.evil.example/token",
        "ftp://127.0.0.1/token",
        "//127.0.0.1/token",
    ],
)
@pytest.mark.parametrize("field", ["authorization_endpoint", "token_endpoint", "jwks_uri", "revocation_endpoint"])
def test_an_insecure_endpoint_is_refused(
    field: str, url: str, edited: EditedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    edited.changes[field] = url

    with caplog.at_level(logging.WARNING):
        assert _refusal(edited.issuer).message == f"The provider's '{field}' must use https."
    assert f"field=<{field}> | insecure endpoint in discovery document" in caplog.text


# --- the discovered endpoints carry a sign-in ----------------------------------------------


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorization_url(client: OAuth2, state: str, nonce: str, challenge: str) -> str:
    """The authorize URL as the sign-in page has it built (state, nonce, scopes, PKCE S256)."""
    extras = {"nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256", "login_hint": "alice-sub"}
    return asyncio.run(client.get_authorization_url(REDIRECT, state=state, scope=SCOPES, extras_params=extras))


def test_discovered_endpoints_carry_a_whole_sign_in(idp: FakeOidcProvider) -> None:
    metadata = DiscoveryCache().get(idp.issuer)
    client = OAuth2(idp.client_id, idp.client_secret, metadata.authorization_endpoint, metadata.token_endpoint)
    verifier, challenge = _pkce_pair()

    url = _authorization_url(client, "state-1", "nonce-1", challenge)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(metadata.authorization_endpoint + "?")
    assert query["state"] == "state-1" and query["nonce"] == "nonce-1"
    assert query["scope"] == "openid email profile" and query["redirect_uri"] == REDIRECT
    assert query["response_type"] == "code" and query["client_id"] == idp.client_id
    assert query["code_challenge"] == challenge and query["code_challenge_method"] == "S256"

    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    back = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert location.startswith(REDIRECT) and back["state"] == "state-1"
    token = asyncio.run(client.get_access_token(back["code"], REDIRECT, code_verifier=verifier))
    identity = verify_id_token(
        token["id_token"], client_id=idp.client_id, issuer=metadata.issuer, jwks_uri=metadata.jwks_uri, nonce="nonce-1"
    )
    assert identity.user_id == "alice-sub" and identity.email == "alice@example.com"


@pytest.mark.parametrize("mistake", ["replayed-code", "other-verifier", "other-redirect"])
def test_a_code_exchange_that_does_not_match_the_authorization_is_refused(mistake: str, idp: FakeOidcProvider) -> None:
    metadata = DiscoveryCache().get(idp.issuer)
    client = OAuth2(idp.client_id, idp.client_secret, metadata.authorization_endpoint, metadata.token_endpoint)
    verifier, challenge = _pkce_pair()
    location = requests.get(
        _authorization_url(client, "state-2", "nonce-2", challenge), allow_redirects=False, timeout=5
    ).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    before = idp.token_requests
    redirect = REDIRECT
    if mistake == "replayed-code":
        asyncio.run(client.get_access_token(code, REDIRECT, code_verifier=verifier))
    elif mistake == "other-verifier":
        verifier = _pkce_pair()[0]
    else:
        redirect = "http://localhost:8502/"

    with pytest.raises(GetAccessTokenError):
        asyncio.run(client.get_access_token(code, redirect, code_verifier=verifier))
    assert idp.token_requests - before == (2 if mistake == "replayed-code" else 1)
