"""Google Calendar consent against the fake Google (OAuth) on loopback: the consent address, code
exchange, the signed state, revoking a grant, and no secret in logs (reading events:
test_google_events.py)."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from assistant.auth import Identity
from assistant.config import Settings
from assistant.context import google
from assistant.context.google import (
    CALENDAR_SCOPE,
    GoogleConnectError,
    authorization_url,
    can_connect,
    check_state,
    exchange_code,
    is_calendar_state,
    new_state,
    revoke,
)
from assistant.context.google_events import GoogleCalendarSource
from assistant.context.sources import CalendarAuthError, CalendarSourceError
from tests.fixtures.fake_calendar_api import (
    SIGN_IN_SCOPES,
    FakeGoogleCalendar,
    sample_events,
)
from tests.fixtures.google_setup import (
    LABEL,
    NEW_YORK,
    REDIRECT,
    USER,
    WINDOW,
    closed_port_url,
    make_settings,
)


@pytest.fixture
def settings(tmp_path: Path, fake_calendar_api: FakeGoogleCalendar) -> Settings:
    return make_settings(tmp_path, fake_calendar_api)


@pytest.fixture
def fake(fake_calendar_api: FakeGoogleCalendar) -> FakeGoogleCalendar:
    fake_calendar_api.set_events(sample_events())
    return fake_calendar_api


# --- consent and code exchange ----------------------------------------------------------


def test_authorization_url_asks_for_read_only_calendar_on_top_of_the_sign_in(
    settings: Settings, fake_calendar_api: FakeGoogleCalendar
) -> None:
    state = new_state(settings, USER)
    url = authorization_url(settings, state, "ada@example.com")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == settings.google_auth_url
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["scope"] == CALENDAR_SCOPE
    assert query["access_type"] == "offline"
    assert query["include_granted_scopes"] == "true"
    assert query["prompt"] == "consent"
    assert query["redirect_uri"] == REDIRECT
    assert query["client_id"] == fake_calendar_api.client_id
    assert query["response_type"] == "code"
    assert query["login_hint"] == "ada@example.com"
    assert query["state"] == state
    assert query["code_challenge_method"] == "S256"
    assert "login_hint" not in parse_qs(urlsplit(authorization_url(settings, state, None)).query)


def test_exchange_code_returns_the_refresh_token_account_and_scopes(
    settings: Settings, fake_calendar_api: FakeGoogleCalendar
) -> None:
    state = new_state(settings, USER)
    back = fake_calendar_api.authorize(authorization_url(settings, state, "ada@example.com"))
    assert back["state"] == state
    check_state(settings, back["state"], USER)

    grant = exchange_code(settings, back["code"], back["state"], account="fallback@example.com")

    assert grant.account == "ada@example.com"  # from the id token Google returns with the sign-in scopes
    assert CALENDAR_SCOPE in grant.scopes and "openid" in grant.scopes
    assert not fake_calendar_api.is_revoked(grant.refresh_token)
    assert grant.refresh_token not in repr(grant)
    source = GoogleCalendarSource(settings, refresh_token=grant.refresh_token, label=LABEL)
    assert source.fetch(*WINDOW, NEW_YORK) == []  # the token reads the calendar


def test_exchange_code_without_an_id_token_uses_the_account_given(
    settings: Settings, fake_calendar_api: FakeGoogleCalendar
) -> None:
    fake_calendar_api.granted_scopes = (CALENDAR_SCOPE,)
    state = new_state(settings, USER)
    back = fake_calendar_api.authorize(authorization_url(settings, state, None))

    grant = exchange_code(settings, back["code"], state, account="ada@example.com")

    assert grant.account == "ada@example.com"
    assert grant.scopes == (CALENDAR_SCOPE,)


def test_exchange_code_refuses_when_the_calendar_box_was_unticked(
    settings: Settings, fake_calendar_api: FakeGoogleCalendar
) -> None:
    fake_calendar_api.granted_scopes = SIGN_IN_SCOPES
    state = new_state(settings, USER)
    back = fake_calendar_api.authorize(authorization_url(settings, state, "ada@example.com"))

    with pytest.raises(GoogleConnectError) as info:
        exchange_code(settings, back["code"], state)
    assert str(info.value) == google.SCOPE_NOT_GRANTED_MESSAGE


def test_exchange_code_refuses_without_a_refresh_token(
    settings: Settings, fake_calendar_api: FakeGoogleCalendar
) -> None:
    fake_calendar_api.issue_refresh_tokens = False
    state = new_state(settings, USER)
    back = fake_calendar_api.authorize(authorization_url(settings, state, "ada@example.com"))

    with pytest.raises(GoogleConnectError) as info:
        exchange_code(settings, back["code"], state)
    assert str(info.value) == google.NO_LASTING_ACCESS_MESSAGE


def test_a_code_works_once_and_only_with_its_own_state(
    settings: Settings, fake_calendar_api: FakeGoogleCalendar
) -> None:
    state = new_state(settings, USER)
    back = fake_calendar_api.authorize(authorization_url(settings, state, "ada@example.com"))
    other_state = new_state(settings, USER)

    with pytest.raises(GoogleConnectError) as info:  # another state derives another PKCE verifier
        exchange_code(settings, back["code"], other_state)
    assert str(info.value) == google.CODE_MESSAGE

    back = fake_calendar_api.authorize(authorization_url(settings, state, "ada@example.com"))
    exchange_code(settings, back["code"], state)
    with pytest.raises(GoogleConnectError) as info:
        exchange_code(settings, back["code"], state)
    assert str(info.value) == google.CODE_MESSAGE


def test_exchange_code_when_google_is_unreachable(tmp_path: Path, fake_calendar_api: FakeGoogleCalendar) -> None:
    settings = make_settings(tmp_path, fake_calendar_api, google_token_url=closed_port_url() + "/token")
    state = new_state(settings, USER)
    back = fake_calendar_api.authorize(authorization_url(settings, state, "ada@example.com"))

    with pytest.raises(GoogleConnectError) as info:
        exchange_code(settings, back["code"], state)
    assert str(info.value) == google.UNREACHABLE_MESSAGE


# --- the signed state ------------------------------------------------------------------------


def test_state_is_bound_to_the_user_and_expires(settings: Settings) -> None:
    state = new_state(settings, USER, now=1_000_000)
    assert is_calendar_state(state)
    assert not is_calendar_state("abc123") and not is_calendar_state(None)

    check_state(settings, state, USER, now=1_000_000 + 60)
    with pytest.raises(GoogleConnectError):
        check_state(settings, state, "someone-else", now=1_000_000 + 60)
    with pytest.raises(GoogleConnectError):
        check_state(settings, state, USER, now=1_000_000 + google.STATE_MAX_AGE_S + 1)
    issued, nonce, mac = state[len(google.STATE_PREFIX) :].split(".")
    for forged in (
        f"cal.{int(issued) + 1}.{nonce}.{mac}",
        f"cal.{issued}.{nonce}x.{mac}",
        f"cal.{issued}.{nonce}.{mac[:-1]}",
        "cal.",
        "cal.1.2",
        "sign-in-state",
    ):
        with pytest.raises(GoogleConnectError):
            check_state(settings, forged, USER, now=1_000_000 + 60)


def test_state_signed_under_another_client_secret_is_refused(
    tmp_path: Path, settings: Settings, fake_calendar_api: FakeGoogleCalendar
) -> None:
    other = make_settings(tmp_path, fake_calendar_api, google_client_secret="another-secret")
    with pytest.raises(GoogleConnectError):
        check_state(settings, new_state(other, USER), USER)


def test_connect_is_offered_to_google_identities_with_a_configured_client(settings: Settings) -> None:
    google_user = Identity(user_id=USER, email="ada@example.com", name="Ada")
    dev = Identity(user_id="test-user-123", email="exec@example.com", name="Dev", is_dev=True)
    assert can_connect(settings, google_user)
    assert not can_connect(settings, dev)
    assert not can_connect(Settings(env="local"), google_user)


# --- revoke and secrets -----------------------------------------------------------------------


def test_revoke_is_best_effort(tmp_path: Path, settings: Settings, fake: FakeGoogleCalendar) -> None:
    token = fake.issue_refresh_token()
    assert revoke(settings, token)
    assert fake.is_revoked(token)
    assert revoke(settings, token)  # already invalid: nothing left to do
    unreachable = make_settings(tmp_path, fake, google_revoke_url=closed_port_url() + "/revoke")
    assert not revoke(unreachable, fake.issue_refresh_token())


def test_tokens_never_reach_the_logs_or_a_repr(
    settings: Settings, fake: FakeGoogleCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    state = new_state(settings, USER)
    back = fake.authorize(authorization_url(settings, state, "ada@example.com"))
    grant = exchange_code(settings, back["code"], state)
    source = GoogleCalendarSource(settings, refresh_token=grant.refresh_token, label=LABEL)
    source.fetch(*WINDOW, NEW_YORK)
    fake.expire_access_tokens()
    source.fetch(*WINDOW, NEW_YORK)
    fake.fail_next(500)
    with pytest.raises(CalendarSourceError) as failed:
        source.fetch(*WINDOW, NEW_YORK)
    fake.revoke_token(grant.refresh_token)
    fake.expire_access_tokens()
    with pytest.raises(CalendarAuthError) as revoked:
        source.fetch(*WINDOW, NEW_YORK)
    revoke(settings, grant.refresh_token)

    secrets = [grant.refresh_token, back["code"], str(settings.google_client_secret.get_secret_value())]  # type: ignore[union-attr]
    shown = caplog.text + repr(source) + str(source) + repr(grant) + str(failed.value) + str(revoked.value)
    assert caplog.records  # the module did log
    for secret in secrets:
        assert secret not in shown
    assert "ya29." not in shown  # no access token either
