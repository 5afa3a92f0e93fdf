"""id token verification: one test per refused forgery, plus acceptance, leeway and JWKS caching."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import pytest

from assistant.auth import AuthError, Identity, JwksCache, verify_id_token
from tests.auth.conftest import FakeClock
from tests.fixtures.fake_oidc import FakeOidcProvider, FakeUser, new_rsa_key

ALICE = FakeUser(sub="alice-sub", email="Alice@Example.com", name="Alice", hd="example.com")


def _verify(idp: FakeOidcProvider, token: str, **kwargs: Any) -> Identity:
    params: dict[str, Any] = {"client_id": idp.client_id, "issuer": idp.issuer, "jwks_uri": idp.jwks_uri}
    params.update(kwargs)
    return verify_id_token(token, **params)


def _refused(idp: FakeOidcProvider, token: str, reason: str, **kwargs: Any) -> AuthError:
    with pytest.raises(AuthError) as info:
        _verify(idp, token, **kwargs)
    assert info.value.reason == reason, info.value
    return info.value


# --- accepted ------------------------------------------------------------------------


def test_valid_token_is_accepted(idp: FakeOidcProvider) -> None:
    identity = _verify(idp, idp.mint_id_token(ALICE))
    assert identity.user_id == "alice-sub"  # exactly the sub claim
    assert identity.email == "alice@example.com"
    assert identity.name == "Alice"
    assert identity.role == "user"
    assert identity.hosted_domain == "example.com"
    assert identity.is_dev is False
    assert abs(identity.issued_at - time.time()) < 5


def test_email_verified_as_string_true_is_accepted(idp: FakeOidcProvider) -> None:
    assert _verify(idp, idp.mint_id_token(ALICE, email_verified="true")).user_id == "alice-sub"


def test_name_falls_back_to_email(idp: FakeOidcProvider) -> None:
    assert _verify(idp, idp.mint_id_token(ALICE, drop=("name",))).name == "alice@example.com"


def test_google_issuer_spellings_are_both_accepted(idp: FakeOidcProvider) -> None:
    for iss in ("https://accounts.google.com", "accounts.google.com"):
        token = idp.mint_id_token(ALICE, iss=iss)
        assert _verify(idp, token, issuer="https://accounts.google.com").user_id == "alice-sub"


def test_nonce_is_checked_when_given(idp: FakeOidcProvider) -> None:
    assert _verify(idp, idp.mint_id_token(ALICE, nonce="n-1"), nonce="n-1").user_id == "alice-sub"
    _refused(idp, idp.mint_id_token(ALICE, nonce="n-2"), "nonce_mismatch", nonce="n-1")
    _refused(idp, idp.mint_id_token(ALICE), "nonce_mismatch", nonce="n-1")


# --- refused: one test per case ------------------------------------------------------


def test_bad_signature_is_refused(idp: FakeOidcProvider) -> None:
    # Signed by a foreign key that claims the provider's kid.
    token = idp.mint_id_token(ALICE, key=new_rsa_key(), kid=idp.active_key.kid)
    _refused(idp, token, "bad_signature")


def test_tampered_payload_is_refused(idp: FakeOidcProvider) -> None:
    header, payload, sig = idp.mint_id_token(ALICE).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    _refused(idp, f"{header}.{forged}.{sig}", "bad_signature")


def test_alg_none_is_refused(idp: FakeOidcProvider) -> None:
    cache = JwksCache(idp.jwks_uri)
    _refused(idp, idp.forge_alg_none(idp.claims_for(ALICE)), "alg_not_allowed", jwks_cache=cache)
    assert cache.fetch_count == 0  # refused before any key was looked up


def test_hs256_signed_with_public_key_is_refused(idp: FakeOidcProvider) -> None:
    cache = JwksCache(idp.jwks_uri)
    _refused(idp, idp.forge_hs256_with_public_key(idp.claims_for(ALICE)), "alg_not_allowed", jwks_cache=cache)
    assert cache.fetch_count == 0


def test_other_rsa_algorithm_is_refused(idp: FakeOidcProvider) -> None:
    import jwt

    token = jwt.encode(
        idp.claims_for(ALICE), idp.active_key.private_key, algorithm="PS256", headers={"kid": idp.active_key.kid}
    )
    _refused(idp, token, "alg_not_allowed")


def test_wrong_audience_is_refused(idp: FakeOidcProvider) -> None:
    _refused(idp, idp.mint_id_token(ALICE, aud="another-client"), "wrong_audience")


def test_multiple_audiences_without_our_azp_are_refused(idp: FakeOidcProvider) -> None:
    token = idp.mint_id_token(ALICE, aud=[idp.client_id, "other"], azp="other")
    _refused(idp, token, "wrong_audience")


def test_wrong_issuer_is_refused(idp: FakeOidcProvider) -> None:
    _refused(idp, idp.mint_id_token(ALICE, iss="https://evil.example.com"), "wrong_issuer")


def test_expired_token_is_refused(idp: FakeOidcProvider) -> None:
    past = time.time() - 7200
    _refused(idp, idp.mint_id_token(ALICE, now=past), "expired")


def test_not_yet_valid_token_is_refused(idp: FakeOidcProvider) -> None:
    future = time.time() + 3600
    _refused(idp, idp.mint_id_token(ALICE, now=future), "not_yet_valid")


def test_nbf_in_the_future_is_refused(idp: FakeOidcProvider) -> None:
    _refused(idp, idp.mint_id_token(ALICE, nbf=int(time.time()) + 600), "not_yet_valid")


def test_unverified_email_is_refused(idp: FakeOidcProvider) -> None:
    _refused(idp, idp.mint_id_token(ALICE, email_verified=False), "email_unverified")


def test_email_verified_string_false_is_refused(idp: FakeOidcProvider) -> None:
    _refused(idp, idp.mint_id_token(ALICE, email_verified="false"), "email_unverified")


def test_missing_email_verified_is_refused(idp: FakeOidcProvider) -> None:
    _refused(idp, idp.mint_id_token(ALICE, drop=("email_verified",)), "email_unverified")


def test_missing_email_is_refused(idp: FakeOidcProvider) -> None:
    _refused(idp, idp.mint_id_token(ALICE, drop=("email",)), "email_unverified")


def test_unknown_key_id_is_refused(idp: FakeOidcProvider) -> None:
    stranger = new_rsa_key()
    _refused(idp, idp.mint_id_token(ALICE, key=stranger), "unknown_key")


def test_missing_kid_is_refused(idp: FakeOidcProvider) -> None:
    import jwt

    token = jwt.encode(idp.claims_for(ALICE), idp.active_key.private_key, algorithm="RS256")
    _refused(idp, token, "malformed")


@pytest.mark.parametrize(
    "token",
    ["", "not-a-jwt", "a.b", "a.b.c", "a.b.c.d", "eyJhbGciOiJSUzI1NiJ9.%%%.sig", "x" * 20_000],
    ids=["empty", "garbage", "two-parts", "bad-base64", "four-parts", "bad-payload", "huge"],
)
def test_malformed_token_is_refused(idp: FakeOidcProvider, token: str) -> None:
    _refused(idp, token, "malformed")


def test_non_string_token_is_refused(idp: FakeOidcProvider) -> None:
    _refused(idp, None, "malformed")  # type: ignore[arg-type]


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "aud", "iss"])
def test_missing_required_claim_is_refused(idp: FakeOidcProvider, claim: str) -> None:
    err = _refused(idp, idp.mint_id_token(ALICE, drop=(claim,)), "malformed")
    assert claim in err.message


def test_non_numeric_exp_is_refused(idp: FakeOidcProvider) -> None:
    _refused(idp, idp.mint_id_token(ALICE, exp="tomorrow"), "malformed")


# --- leeway --------------------------------------------------------------------------


def test_expiry_leeway(idp: FakeOidcProvider) -> None:
    now = time.time()
    token = idp.mint_id_token(ALICE, now=now - idp.token_lifetime_s - 30)  # expired 30 s ago
    assert _verify(idp, token, now=now, leeway_s=60).user_id == "alice-sub"
    _refused(idp, token, "expired", now=now, leeway_s=10)


def test_clock_skew_leeway_for_iat(idp: FakeOidcProvider) -> None:
    now = time.time()
    token = idp.mint_id_token(ALICE, now=now + 30)  # provider clock 30 s ahead
    assert _verify(idp, token, now=now, leeway_s=60).user_id == "alice-sub"
    _refused(idp, token, "not_yet_valid", now=now, leeway_s=5)


# --- logging -------------------------------------------------------------------------


def test_refusal_is_logged_without_the_token(idp: FakeOidcProvider, caplog: pytest.LogCaptureFixture) -> None:
    token = idp.mint_id_token(ALICE, aud="another-client")
    with caplog.at_level(logging.WARNING, logger="assistant.auth"):
        _refused(idp, token, "wrong_audience")
    assert "reason=<wrong_audience>" in caplog.text
    assert token not in caplog.text
    assert token.split(".")[2] not in caplog.text


# --- JWKS cache ----------------------------------------------------------------------


def test_jwks_is_cached_between_verifications(clock: FakeClock) -> None:
    with FakeOidcProvider() as idp:
        cache = JwksCache(idp.jwks_uri, clock=clock)
        for _ in range(5):
            _verify(idp, idp.mint_id_token(ALICE), jwks_cache=cache)
        assert idp.jwks_requests == 1


def test_rotated_key_is_accepted_after_refresh(clock: FakeClock) -> None:
    with FakeOidcProvider() as idp:
        cache = JwksCache(idp.jwks_uri, clock=clock, min_refresh_interval_s=60)
        _verify(idp, idp.mint_id_token(ALICE), jwks_cache=cache)
        clock.advance(61)
        idp.rotate_key(keep_old=False)
        identity = _verify(idp, idp.mint_id_token(ALICE), jwks_cache=cache)  # unknown kid -> one refresh
        assert identity.user_id == "alice-sub"
        assert idp.jwks_requests == 2


def test_rotation_within_rate_limit_waits_for_next_refresh(clock: FakeClock) -> None:
    with FakeOidcProvider() as idp:
        cache = JwksCache(idp.jwks_uri, clock=clock, min_refresh_interval_s=60)
        _verify(idp, idp.mint_id_token(ALICE), jwks_cache=cache)
        idp.rotate_key()
        clock.advance(10)
        _refused(idp, idp.mint_id_token(ALICE), "unknown_key", jwks_cache=cache)
        clock.advance(60)
        assert _verify(idp, idp.mint_id_token(ALICE), jwks_cache=cache).user_id == "alice-sub"
        assert idp.jwks_requests == 2


def test_flood_of_random_kids_does_not_hammer_jwks(clock: FakeClock) -> None:
    with FakeOidcProvider() as idp:
        cache = JwksCache(idp.jwks_uri, clock=clock, min_refresh_interval_s=60)
        for i in range(50):
            token = idp.mint_id_token(ALICE, kid=f"random-{i}")
            _refused(idp, token, "unknown_key", jwks_cache=cache)
            clock.advance(1)
        assert idp.jwks_requests == 1  # 50 s of flood, one fetch
        # The real key still works throughout.
        assert _verify(idp, idp.mint_id_token(ALICE), jwks_cache=cache).user_id == "alice-sub"
        assert idp.jwks_requests == 1


def test_keys_are_refreshed_after_ttl(clock: FakeClock) -> None:
    with FakeOidcProvider() as idp:
        cache = JwksCache(idp.jwks_uri, clock=clock, ttl_s=3600)
        _verify(idp, idp.mint_id_token(ALICE), jwks_cache=cache)
        clock.advance(3601)
        _verify(idp, idp.mint_id_token(ALICE), jwks_cache=cache)
        assert idp.jwks_requests == 2


def test_unreachable_jwks_is_refused() -> None:
    with FakeOidcProvider() as idp:
        token = idp.mint_id_token(ALICE)
        issuer, jwks_uri = idp.issuer, idp.jwks_uri
    cache = JwksCache(jwks_uri, timeout_s=1)
    with pytest.raises(AuthError) as info:
        verify_id_token(token, client_id=idp.client_id, issuer=issuer, jwks_uri=jwks_uri, jwks_cache=cache)
    assert info.value.reason == "jwks_unavailable"


def test_default_cache_is_used_when_none_given(idp: FakeOidcProvider) -> None:
    before = idp.jwks_requests
    _verify(idp, idp.mint_id_token(ALICE))
    _verify(idp, idp.mint_id_token(ALICE))
    assert idp.jwks_requests == before + 1
