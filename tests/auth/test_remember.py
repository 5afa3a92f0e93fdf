"""The remembered sign-in cookie: what it accepts, what it refuses, and sign-out everywhere.

Runs on SQLite and Postgres (the revocation list is shared by every replica).
"""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from sqlalchemy import Engine, func, select

from assistant.auth import AuthError, Identity
from assistant.auth.remember import AUDIENCE, ISSUER, SignInMemory, derive_key
from assistant.db import revoked_sign_ins

KEY = derive_key("google-client-secret")
T0 = 1_800_000_000.0
ALICE = Identity(
    user_id="alice-sub", email="alice@example.com", name="Alice", issued_at=T0, hosted_domain="example.com"
)


def memory(engine: Engine, key: bytes = KEY, hours: float = 12) -> SignInMemory:
    return SignInMemory(engine, key, max_age_hours=hours)


def claims(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice-sub",
        "email": "alice@example.com",
        "name": "Alice",
        "auth_time": int(T0),
        "iat": int(T0),
        "exp": int(T0 + 3600),
        "jti": "j-1",
    }
    base.update(overrides)
    return base


def refused(engine: Engine, value: str, reason: str, now: float = T0 + 60) -> None:
    with pytest.raises(AuthError) as info:
        memory(engine).read(value, now=now)
    assert info.value.reason == reason


def test_issued_cookie_reads_back_the_same_identity(any_engine: Engine) -> None:
    issued = memory(any_engine).issue(ALICE, now=T0 + 10)
    assert issued is not None
    assert issued.max_age_s == 12 * 3600 - 10  # never outlives the Google sign-in
    back = memory(any_engine).read(issued.value, now=T0 + 3600)
    assert back.identity.user_id == "alice-sub"
    assert back.identity.email == "alice@example.com"
    assert back.identity.hosted_domain == "example.com"
    assert back.identity.issued_at == T0  # the lifetime still counts from the Google sign-in
    assert back.token_id == issued.token_id


def test_cookie_expires_with_the_sign_in(any_engine: Engine) -> None:
    issued = memory(any_engine).issue(ALICE, now=T0)
    assert issued is not None
    refused(any_engine, issued.value, "expired", now=T0 + 12 * 3600 + 1)


def test_shorter_lifetime_after_a_config_change_applies_to_old_cookies(any_engine: Engine) -> None:
    issued = memory(any_engine, hours=12).issue(ALICE, now=T0)
    assert issued is not None
    with pytest.raises(AuthError) as info:
        memory(any_engine, hours=1).read(issued.value, now=T0 + 2 * 3600)
    assert info.value.reason == "expired"


def test_nothing_issued_for_a_dev_login_or_a_stale_sign_in(any_engine: Engine) -> None:
    dev = Identity(user_id="test-user-123", email="exec@example.com", name="Dev", issued_at=T0, is_dev=True)
    assert memory(any_engine).issue(dev, now=T0) is None
    assert memory(any_engine).issue(ALICE, now=T0 + 12 * 3600) is None


def test_signed_out_cookie_is_refused_everywhere(any_engine: Engine) -> None:
    tab_one, other_replica = memory(any_engine), memory(any_engine)
    issued = tab_one.issue(ALICE, now=T0)
    assert issued is not None
    assert tab_one.revoke(issued.token_id, T0 + 12 * 3600, user_id="alice-sub", now=T0 + 5)
    assert tab_one.revoke(issued.token_id, T0 + 12 * 3600, user_id="alice-sub", now=T0 + 6)  # second tab: fine
    with pytest.raises(AuthError) as info:
        other_replica.read(issued.value, now=T0 + 10)
    assert info.value.reason == "revoked"


def test_expired_revocations_are_forgotten(any_engine: Engine) -> None:
    m = memory(any_engine)
    m.revoke("old", T0 + 100, user_id="alice-sub", now=T0)
    m.revoke("new", T0 + 99_999, user_id="alice-sub", now=T0 + 1000)
    with any_engine.connect() as conn:
        ids = set(conn.execute(select(revoked_sign_ins.c.token_id)).scalars())
        assert ids == {"new"}
        assert conn.execute(select(func.count()).select_from(revoked_sign_ins)).scalar_one() == 1


def test_cookie_of_another_deployment_sharing_the_secret_is_refused(any_engine: Engine) -> None:
    dev = SignInMemory(any_engine, KEY, max_age_hours=12, deployment="https://dev.example.com/")
    prod = SignInMemory(any_engine, KEY, max_age_hours=12, deployment="https://assistant.example.com/")
    issued = dev.issue(ALICE, now=T0)
    assert issued is not None
    assert dev.read(issued.value, now=T0 + 1).identity.user_id == "alice-sub"
    with pytest.raises(AuthError) as info:
        prod.read(issued.value, now=T0 + 1)
    assert info.value.reason == "wrong_audience"


def test_other_key_is_refused(any_engine: Engine) -> None:
    forged = jwt.encode(claims(), derive_key("another-secret"), algorithm="HS256")
    refused(any_engine, forged, "bad_signature")


def test_alg_none_is_refused(any_engine: Engine) -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=").decode()
    refused(any_engine, f"{header}.{body}.", "alg_not_allowed")


def test_google_id_token_is_not_a_session_cookie(any_engine: Engine) -> None:
    # Same key, but audience/issuer of an id token: never accepted as our cookie.
    token = jwt.encode(claims(aud="client-id"), KEY, algorithm="HS256")
    refused(any_engine, token, "wrong_audience")
    token = jwt.encode(claims(iss="https://accounts.google.com"), KEY, algorithm="HS256")
    refused(any_engine, token, "wrong_issuer")


def test_missing_claims_and_garbage_are_malformed(any_engine: Engine) -> None:
    no_jti = claims()
    del no_jti["jti"]
    refused(any_engine, jwt.encode(no_jti, KEY, algorithm="HS256"), "malformed")
    refused(any_engine, jwt.encode(claims(email=""), KEY, algorithm="HS256"), "malformed")
    refused(any_engine, "not-a-jwt", "malformed")
    refused(any_engine, "", "malformed")
    refused(any_engine, "a" * 5000, "malformed")


def test_tampered_claims_break_the_signature(any_engine: Engine) -> None:
    issued = memory(any_engine).issue(ALICE, now=T0)
    assert issued is not None
    header, body, sig = issued.value.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["sub"] = "bob-sub"
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    refused(any_engine, f"{header}.{forged_body}.{sig}", "bad_signature")
