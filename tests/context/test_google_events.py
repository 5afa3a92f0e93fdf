"""GoogleCalendarSource against the fake Google Calendar API on loopback: events read as meetings
(their rules, text and pages), the access token refreshed and reused, a revoked grant asking to
reconnect, and every failure of the API as a plain sentence."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.context import google, google_events
from assistant.context.google import RECONNECT_MESSAGE
from assistant.context.google_events import GoogleCalendarSource
from assistant.context.ics_fields import MAX_ATTENDEES
from assistant.context.meetings import is_meeting_id, make_meeting_id, series_id_for
from assistant.context.sources import CalendarAuthError, CalendarSourceError
from tests.fixtures.fake_calendar_api import EVENTS_PATH, FakeGoogleCalendar, sample_events, shift_events
from tests.fixtures.google_setup import (
    LABEL,
    NEW_YORK,
    WINDOW,
    by_title,
    closed_port_url,
    make_settings,
    source_for,
)


@pytest.fixture
def settings(tmp_path: Path, fake_calendar_api: FakeGoogleCalendar) -> Settings:
    return make_settings(tmp_path, fake_calendar_api)


@pytest.fixture
def fake(fake_calendar_api: FakeGoogleCalendar) -> FakeGoogleCalendar:
    fake_calendar_api.set_events(sample_events())
    return fake_calendar_api


def test_fetch_maps_google_events_to_meetings(settings: Settings, fake: FakeGoogleCalendar) -> None:
    source, _ = source_for(settings, fake)
    assert source.kind == "google" and source.label == LABEL

    meetings = source.fetch(*WINDOW, NEW_YORK)

    titles = by_title(meetings)
    assert set(titles) == {
        "Weekly staff",
        "Leadership offsite",
        "Tokyo sync",
        "Acme renewal call",
        "Board prep",
        "Budget review now",  # the whole colour code is gone, not only its escape character
    }  # no cancelled instance, no cancelled one-off, no declined event
    assert [m.start for m in meetings] == sorted(m.start for m in meetings)
    assert all(m.source == "google" and m.start.tzinfo == NEW_YORK and is_meeting_id(m.id) for m in meetings)

    first, moved = titles["Weekly staff"]
    assert first.id == make_meeting_id("staff001", datetime(2030, 6, 3, 8, 0, tzinfo=UTC))
    assert moved.id == make_meeting_id("staff001", datetime(2030, 6, 10, 8, 0, tzinfo=UTC))  # keeps its id
    assert moved.start == datetime(2030, 6, 11, 5, 0, tzinfo=NEW_YORK)  # 10:00 London, moved to Tuesday
    assert first.series_id == moved.series_id == series_id_for("staff001")
    assert first.duration_minutes == 30
    assert [(a.name, a.email, a.response) for a in first.attendees] == [
        ("Bob Builder", "bob@example.com", "accepted"),
        ("carol@example.com", "carol@example.com", "needs_action"),
    ]  # not the user, not the room
    assert first.organizer == "ada@example.com"

    (offsite,) = titles["Leadership offsite"]
    assert offsite.all_day
    assert offsite.start == datetime(2030, 6, 5, tzinfo=NEW_YORK)
    assert offsite.end == datetime(2030, 6, 6, tzinfo=NEW_YORK)
    assert offsite.duration_minutes == 24 * 60
    assert offsite.id == make_meeting_id("offsite1") and offsite.series_id is None

    (tokyo,) = titles["Tokyo sync"]
    assert tokyo.start == datetime(2030, 6, 5, 20, 0, tzinfo=NEW_YORK)  # 09:00 in Tokyo
    assert tokyo.organizer == "Kenji"
    assert [(a.name, a.organizer) for a in tokyo.attendees] == [("Kenji", True)]

    (acme,) = titles["Acme renewal call"]
    assert acme.conference_url == "https://meet.google.com/abc-defg-hij"
    assert acme.location == "Google Meet"
    assert acme.description == "Renewal terms.\nBring the usage numbers."
    assert [(a.name, a.response) for a in acme.attendees] == [("Jane Doe", "tentative"), ("Raj", "declined")]

    (board,) = titles["Board prep"]
    assert board.conference_url == "https://zoom.us/j/123456789"
    assert board.organizer == "Chief Financial Officer"
    assert board.attendees == []

    (noisy,) = titles["Budget review now"]
    assert "\x00" not in noisy.title and "\x1b" not in noisy.title
    assert len(noisy.description) <= google.DESCRIPTION_MAX
    assert [(a.name, a.response) for a in noisy.attendees] == [("Eve Ops", "unknown")]  # no bidi override either

    (request,) = fake.requests_to(EVENTS_PATH)
    assert request.params["singleEvents"] == "true"
    assert request.params["orderBy"] == "startTime"
    assert request.params["maxResults"] == "250"
    assert request.params["timeMin"] == "2030-06-03T00:00:00Z"
    assert request.params["timeMax"] == "2030-06-17T00:00:00Z"


def test_fetch_keeps_only_the_window(settings: Settings, fake: FakeGoogleCalendar) -> None:
    source, _ = source_for(settings, fake)
    start = datetime(2030, 6, 5, tzinfo=NEW_YORK)
    meetings = source.fetch(start, start + timedelta(days=1), NEW_YORK)
    assert [m.title for m in meetings] == ["Leadership offsite", "Tokyo sync"]


def test_a_description_written_in_googles_editor_reads_as_text(settings: Settings, fake: FakeGoogleCalendar) -> None:
    """Google keeps a formatted description as HTML: the agent quoted '<b>Agenda</b><br>…' as typed."""
    fake.set_events(
        [
            {
                "id": "html1",
                "status": "confirmed",
                "summary": "Acme QBR",
                "description": "<html-blob><b>Agenda</b><br><ul><li>Renewal &amp; pricing</li></ul>"
                '<a href="https://acme.zoom.us/j/9">Join</a></html-blob>',
                "start": {"dateTime": "2030-06-04T10:00:00Z"},
                "end": {"dateTime": "2030-06-04T11:00:00Z"},
            }
        ]
    )
    source, _ = source_for(settings, fake)
    [meeting] = source.fetch(*WINDOW, NEW_YORK)
    assert meeting.description == "Agenda\n\n- Renewal & pricing\nJoin (https://acme.zoom.us/j/9)"


def test_an_invitation_with_thousands_of_guests_keeps_as_many_as_an_ics_file(
    settings: Settings, fake: FakeGoogleCalendar
) -> None:
    """An outsider's invitation with 5,000 guests was read whole: the agenda the agent got for it was
    563k characters (~140k tokens), so preparing that meeting failed or cost as much. An .ics file's
    events keep their first 200 guests (ics_fields.MAX_ATTENDEES); Google's now do too."""
    guests = [{"email": f"guest{i}@outside.test", "displayName": f"Guest {i}"} for i in range(5000)]
    fake.set_events(
        [
            {
                "id": "crowd1",
                "status": "confirmed",
                "summary": "All hands",
                "attendees": [{"email": "ada@example.com", "self": True, "responseStatus": "accepted"}, *guests],
                "start": {"dateTime": "2030-06-04T10:00:00Z"},
                "end": {"dateTime": "2030-06-04T11:00:00Z"},
            }
        ]
    )
    source, _ = source_for(settings, fake)
    [meeting] = source.fetch(*WINDOW, NEW_YORK)
    assert len(meeting.attendees) == MAX_ATTENDEES
    assert meeting.attendees[0].email == "guest0@outside.test"


def test_a_teams_invitation_in_google_calendar_keeps_its_link_not_its_join_block(
    settings: Settings, fake: FakeGoogleCalendar
) -> None:
    """A Teams invitation accepted into Google Calendar carries its join block in the description
    (no conferenceData): the chat's "About:" read "Contract review. \\_\\_\\_... Microsoft Teams
    meeting Join on your computer ... Meeting ID: ..." and the meeting had no call link."""
    teams = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0"
    fake.set_events(
        [
            {
                "id": "teams1",
                "status": "confirmed",
                "summary": "Vendor review",
                "description": "Contract review.\n\n" + "_" * 80 + "\nMicrosoft Teams meeting\n"
                f"Click here to join the meeting<{teams}>\nMeeting ID: 123 456 789\n" + "_" * 80,
                "start": {"dateTime": "2030-06-04T10:00:00Z"},
                "end": {"dateTime": "2030-06-04T11:00:00Z"},
            }
        ]
    )
    source, _ = source_for(settings, fake)
    [meeting] = source.fetch(*WINDOW, NEW_YORK)
    assert meeting.description == "Contract review."
    assert meeting.conference_url == teams


def test_shifted_samples_keep_their_shape(settings: Settings, fake: FakeGoogleCalendar) -> None:
    source, _ = source_for(settings, fake)
    before = source.fetch(*WINDOW, NEW_YORK)
    fake.set_events(shift_events(sample_events(), 28))

    after = source.fetch(WINDOW[0] + timedelta(days=28), WINDOW[1] + timedelta(days=28), NEW_YORK)

    assert [m.title for m in after] == [m.title for m in before]
    assert [m.start - timedelta(days=28) for m in after if not m.all_day] == [m.start for m in before if not m.all_day]


def test_fetch_follows_next_page_tokens(settings: Settings, fake: FakeGoogleCalendar) -> None:
    source, _ = source_for(settings, fake)
    expected = source.fetch(*WINDOW, NEW_YORK)
    fake.requests.clear()
    fake.page_size = 2

    assert source.fetch(*WINDOW, NEW_YORK) == expected
    pages = fake.requests_to(EVENTS_PATH)
    assert len(pages) == 5  # 9 events in the window (two of them dropped after reading), 2 a page
    assert [p.params.get("pageToken") for p in pages] == [None, "2", "4", "6", "8"]


def test_fetch_stops_after_the_page_cap(
    settings: Settings, fake: FakeGoogleCalendar, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(google_events, "MAX_PAGES", 3)
    fake.page_size = 1
    source, _ = source_for(settings, fake)

    with caplog.at_level(logging.WARNING, logger="assistant.context.google"):
        meetings = source.fetch(*WINDOW, NEW_YORK)

    assert len(fake.requests_to(EVENTS_PATH)) == 3
    assert [m.title for m in meetings] == ["Weekly staff", "Leadership offsite"]  # the declined one was read too
    assert "list truncated" in caplog.text


def test_access_token_is_refreshed_once_then_reused(settings: Settings, fake: FakeGoogleCalendar) -> None:
    source, token = source_for(settings, fake)

    source.fetch(*WINDOW, NEW_YORK)
    assert fake.refresh_count == 1  # no access token yet
    source.fetch(*WINDOW, NEW_YORK)
    assert fake.refresh_count == 1  # reused

    fake.expire_access_tokens()  # the API now answers 401: refreshed once, request retried
    assert len(source.fetch(*WINDOW, NEW_YORK)) == 7
    assert fake.refresh_count == 2
    source.fetch(*WINDOW, NEW_YORK)
    assert fake.refresh_count == 2
    assert source.refresh_token == token


@pytest.mark.parametrize("why", ["revoked", "expired"])
def test_a_revoked_or_expired_grant_asks_to_reconnect(settings: Settings, fake: FakeGoogleCalendar, why: str) -> None:
    source, token = source_for(settings, fake)
    source.fetch(*WINDOW, NEW_YORK)
    fake.revoke_token(token, why=why)
    fake.expire_access_tokens()

    with pytest.raises(CalendarAuthError) as info:
        source.fetch(*WINDOW, NEW_YORK)
    assert str(info.value) == RECONNECT_MESSAGE
    assert info.value.source == LABEL

    fresh = GoogleCalendarSource(settings, refresh_token=token, label=LABEL)
    with pytest.raises(CalendarAuthError):
        fresh.fetch(*WINDOW, NEW_YORK)


def test_an_unreadable_stored_token_asks_to_reconnect_without_calling_google(
    settings: Settings, fake: FakeGoogleCalendar
) -> None:
    source = GoogleCalendarSource(settings, refresh_token="", label=LABEL)  # what the service passes then
    with pytest.raises(CalendarAuthError) as info:
        source.fetch(*WINDOW, NEW_YORK)
    assert str(info.value) == RECONNECT_MESSAGE
    assert fake.requests == []


def test_a_refused_oauth_client_is_not_a_reconnect(tmp_path: Path, fake: FakeGoogleCalendar) -> None:
    settings = make_settings(tmp_path, fake, google_client_secret="wrong-secret")
    source = GoogleCalendarSource(settings, refresh_token=fake.issue_refresh_token(), label=LABEL)

    with pytest.raises(CalendarSourceError) as info:
        source.fetch(*WINDOW, NEW_YORK)
    assert not isinstance(info.value, CalendarAuthError)
    assert str(info.value) == google.CLIENT_REFUSED_MESSAGE


@pytest.mark.parametrize(
    ("status", "reason", "message"),
    [
        (500, "backendError", google.UNAVAILABLE_MESSAGE),
        (503, None, google.UNAVAILABLE_MESSAGE),
        (403, "rateLimitExceeded", google.RATE_LIMITED_MESSAGE),
        (403, "userRateLimitExceeded", google.RATE_LIMITED_MESSAGE),
        (429, "rateLimitExceeded", google.RATE_LIMITED_MESSAGE),
        (403, "accessNotConfigured", google.API_DISABLED_MESSAGE),
        (404, "notFound", "Google Calendar refused the request (HTTP 404). Try again later."),
    ],
)
def test_api_errors_become_plain_source_errors(
    settings: Settings, fake: FakeGoogleCalendar, status: int, reason: str | None, message: str
) -> None:
    source, _ = source_for(settings, fake)
    fake.fail_next(status, reason)

    with pytest.raises(CalendarSourceError) as info:
        source.fetch(*WINDOW, NEW_YORK)
    assert not isinstance(info.value, CalendarAuthError)
    assert str(info.value) == message
    assert len(source.fetch(*WINDOW, NEW_YORK)) == 7  # the next try works


@pytest.mark.parametrize("reason", ["forbidden", "insufficientPermissions"])
def test_forbidden_asks_to_reconnect(settings: Settings, fake: FakeGoogleCalendar, reason: str) -> None:
    source, _ = source_for(settings, fake)
    fake.fail_next(403, reason)
    with pytest.raises(CalendarAuthError) as info:
        source.fetch(*WINDOW, NEW_YORK)
    assert str(info.value) == RECONNECT_MESSAGE


def test_persistent_401_asks_to_reconnect(settings: Settings, fake: FakeGoogleCalendar) -> None:
    source, _ = source_for(settings, fake)
    fake.fail_next(401, "authError", count=10)
    with pytest.raises(CalendarAuthError):
        source.fetch(*WINDOW, NEW_YORK)


def test_unreachable_api_and_token_endpoint(tmp_path: Path, fake: FakeGoogleCalendar) -> None:
    no_api = make_settings(tmp_path, fake, google_calendar_api_url=closed_port_url() + "/calendar/v3")
    source = GoogleCalendarSource(no_api, refresh_token=fake.issue_refresh_token(), label=LABEL)
    with pytest.raises(CalendarSourceError) as info:
        source.fetch(*WINDOW, NEW_YORK)
    assert str(info.value) == google.UNREACHABLE_MESSAGE

    no_token = make_settings(tmp_path, fake, google_token_url=closed_port_url() + "/token")
    source = GoogleCalendarSource(no_token, refresh_token=fake.issue_refresh_token(), label=LABEL)
    with pytest.raises(CalendarSourceError) as info:
        source.fetch(*WINDOW, NEW_YORK)
    assert not isinstance(info.value, CalendarAuthError)
    assert str(info.value) == google.UNREACHABLE_MESSAGE


def test_a_slow_api_times_out(settings: Settings, fake: FakeGoogleCalendar, monkeypatch: pytest.MonkeyPatch) -> None:
    source, _ = source_for(settings, fake)
    source.fetch(*WINDOW, NEW_YORK)
    monkeypatch.setattr(google_events, "REQUEST_TIMEOUT_S", 0.2)
    fake.delay_s = 1.0

    with pytest.raises(CalendarSourceError) as info:
        source.fetch(*WINDOW, NEW_YORK)
    assert "took too long" in str(info.value)
