"""CalendarService: the demo fallback, a connected calendar through the shared cache, failures
that keep the last good copy, reconnect, secrets at rest, and one user never seeing another's."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select

from assistant.config import Settings, load_settings
from assistant.context.calendar import DEMO_LABEL, CalendarService
from assistant.context.calendar_rows import StoredConnection
from assistant.context.meetings import Meeting
from assistant.context.secrets import TokenCipher
from assistant.context.sources import CalendarAuthError, CalendarInputError, CalendarSource, CalendarSourceError
from assistant.db import calendar_cache, calendar_connections

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday

WEEKLY_ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Test//Calendar//EN\r
BEGIN:VEVENT\r
UID:weekly-staff@example.com\r
DTSTAMP:20260101T000000Z\r
DTSTART:20260202T150000Z\r
DTEND:20260202T160000Z\r
RRULE:FREQ=WEEKLY;COUNT=20\r
EXDATE:20260309T150000Z\r
SUMMARY:Staff meeting\r
ATTENDEE;CN=Ada Lovelace;PARTSTAT=ACCEPTED:mailto:ada@example.com\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly-staff@example.com\r
DTSTAMP:20260101T000000Z\r
RECURRENCE-ID:20260316T150000Z\r
DTSTART:20260316T170000Z\r
DTEND:20260316T180000Z\r
SUMMARY:Staff meeting (moved)\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:acme-call@example.com\r
DTSTAMP:20260101T000000Z\r
DTSTART:20260303T100000Z\r
DTEND:20260303T103000Z\r
SUMMARY:Call with Acme\r
ATTENDEE;CN=Wile Coyote;PARTSTAT=NEEDS-ACTION:mailto:wile@acme.test\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:cancelled@example.com\r
DTSTAMP:20260101T000000Z\r
DTSTART:20260304T100000Z\r
DTEND:20260304T110000Z\r
STATUS:CANCELLED\r
SUMMARY:Cancelled sync\r
END:VEVENT\r
END:VCALENDAR\r
"""


class Clock:
    """A clock the test moves forward."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FlakySource:
    """A CalendarSource whose next answers the test decides (meetings, or an error to raise)."""

    kind = "ics_url"

    def __init__(self, label: str) -> None:
        self.label = label
        self.calls = 0
        self.answer: list[Meeting] | Exception = []

    def fetch(self, start: datetime, end: datetime, tz: tzinfo) -> list[Meeting]:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return [m for m in self.answer if m.end > start and m.start < end]


def _meeting(mid: str, title: str, start: datetime) -> Meeting:
    return Meeting(
        id=mid,
        title=title,
        start=start,
        end=start + timedelta(minutes=30),
        duration_minutes=30,
        attendees=[],
        type="other",
        location="",
        description="",
        source="ics_url",
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(calendar_cache_minutes=15)


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher(Fernet.generate_key())


@pytest.fixture
def make_service(any_engine: Engine, settings: Settings, cipher: TokenCipher) -> Callable[..., CalendarService]:
    def make(clock: Clock | None = None, source: CalendarSource | None = None) -> CalendarService:
        factory = (lambda stored: source) if source is not None else None
        return CalendarService(any_engine, settings, clock=clock or Clock(NOW), cipher=cipher, source_factory=factory)

    return make


def test_a_user_with_nothing_connected_sees_the_demo_calendar(make_service: Callable[..., CalendarService]) -> None:
    view = make_service().view("alice", days_ahead=7, now=NOW)
    assert view.is_demo and view.label == DEMO_LABEL
    assert view.meetings and all(m.source == "demo" for m in view.meetings)
    assert view.warning is None


def test_an_uploaded_ics_replaces_the_demo_and_lists_occurrences_one_by_one(
    make_service: Callable[..., CalendarService],
) -> None:
    service = make_service()
    connection = service.connect_ics_file("alice", WEEKLY_ICS, "work.ics")
    assert (connection.kind, connection.label, connection.status) == ("ics_file", "work.ics", "ok")

    view = service.view("alice", days_ahead=21, now=NOW)
    assert not view.is_demo
    first = view.meetings[0]
    assert (first.title, first.start.astimezone(UTC)) == ("Staff meeting", datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    starts = [m.start.astimezone(UTC) for m in view.meetings]
    assert datetime(2026, 3, 9, 15, 0, tzinfo=UTC) not in starts  # EXDATE
    assert datetime(2026, 3, 16, 17, 0, tzinfo=UTC) in starts  # the moved occurrence, at its new time
    assert datetime(2026, 3, 16, 15, 0, tzinfo=UTC) not in starts
    assert "Cancelled sync" not in [m.title for m in view.meetings]
    assert "Call with Acme" in [m.title for m in view.meetings]
    assert starts == sorted(starts)
    # occurrences of the series share its series id and have ids of their own
    staff = [m for m in view.meetings if m.title.startswith("Staff meeting")]
    assert len({m.series_id for m in staff}) == 1 and len({m.id for m in staff}) == len(staff)


def test_a_connect_counts_the_meetings_ahead_so_a_calendar_of_past_months_can_be_told(
    make_service: Callable[..., CalendarService], settings: Settings
) -> None:
    """The page and the CLI warn when a connected calendar has nothing in the next CALENDAR_DAYS_AHEAD
    days; the connect itself says so, from the meetings it has just read."""
    connection = make_service().connect_ics_file("alice", WEEKLY_ICS, "work.ics")
    ahead = make_service().view("alice", days_ahead=settings.calendar_days_ahead, now=NOW).meetings
    assert connection.meetings_ahead == len(ahead) > 0

    a_year_on = make_service(clock=Clock(NOW + timedelta(days=365)))
    assert a_year_on.connect_ics_file("bob", WEEKLY_ICS, "last-year.ics").meetings_ahead == 0
    assert a_year_on.connection("bob") is not None
    assert a_year_on.connection("bob").meetings_ahead is None  # a status read counts nothing


def test_bad_files_are_refused_and_change_nothing(make_service: Callable[..., CalendarService]) -> None:
    service = make_service()
    for data in (b"<html><body>Sign in</body></html>", b"", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", b"\x00\xff" * 10):
        with pytest.raises(CalendarInputError):
            service.connect_ics_file("alice", data, "bad.ics")
    assert service.connection("alice") is None
    assert service.view("alice", now=NOW).is_demo


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


HOLIDAYS_ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
    b"X-WR-CALNAME:Holidays in United States\r\nBEGIN:VEVENT\r\nUID:20260525_holiday@google.com\r\n"
    b"DTSTART;VALUE=DATE:20260525\r\nDTEND;VALUE=DATE:20260526\r\nSUMMARY:Memorial Day\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_google_calendars_export_zip_is_connected_as_the_users_own_calendar(
    make_service: Callable[..., CalendarService],
) -> None:
    """Google's Settings → Import & export → Export downloads a .zip of one .ics per calendar; the
    upload refused it ("This file is not text"), and the page's picker did not even offer it."""
    service = make_service()
    own = WEEKLY_ICS.replace(b"PRODID:-//Test//Calendar//EN\r\n", b"PRODID:x\r\nX-WR-CALNAME:ada@example.com\r\n")
    export = _zip(
        {
            "ada@example.com.ics": own,
            "Holidays in United States_en.usa#holiday@group.v.calendar.google.com.ics": HOLIDAYS_ICS,
        }
    )
    connection = service.connect_ics_file("alice", export, "ada@example.com.ical.zip")
    assert (connection.kind, connection.label) == ("ics_file", "ada@example.com.ics")
    assert "Call with Acme" in [m.title for m in service.view("alice", days_ahead=21, now=NOW).meetings]
    # exporting one calendar gives a zip of one
    service.connect_ics_file("alice", _zip({"Team_c_123@group.calendar.google.com.ics": WEEKLY_ICS}), "team.zip")
    assert service.connection("alice").label == "Team_c_123@group.calendar.google.com.ics"  # type: ignore[union-attr]
    # several calendars, none named after an address: refused, naming them; nothing changes
    with pytest.raises(CalendarInputError) as caught:
        service.connect_ics_file("alice", _zip({"Work.ics": WEEKLY_ICS, "Holidays.ics": HOLIDAYS_ICS}), "export.zip")
    assert str(caught.value) == (
        "This .zip holds 2 calendars (Work.ics, Holidays.ics); unzip it and upload the one with your meetings "
        "(Google names it after your address)."
    )
    with pytest.raises(CalendarInputError, match="holds no calendar"):
        service.connect_ics_file("alice", _zip({"notes.txt": b"hello"}), "export.zip")
    assert service.connection("alice").label == "Team_c_123@group.calendar.google.com.ics"  # type: ignore[union-attr]


MINUTELY_ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:m@x\r\n"
    b"DTSTART:20260301T000000Z\r\nDTEND:20260301T000100Z\r\nRRULE:FREQ=MINUTELY\r\nSUMMARY:Ping\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_a_calendar_repeating_every_minute_is_connected_with_a_warning_that_stays(
    any_engine: Engine, make_service: Callable[..., CalendarService]
) -> None:
    clock = Clock(NOW)
    service = make_service(clock)
    service.connect_ics_file("alice", MINUTELY_ICS, "minutely.ics")
    with any_engine.connect() as conn:
        stored = conn.execute(select(calendar_cache.c.events_json, calendar_cache.c.notice)).one()
    assert stored.events_json == "[]"  # not ~88,000 meetings
    view = service.view("alice", days_ahead=14, now=NOW)  # served from the copy
    assert view.meetings == [] and view.warning is not None
    assert "“Ping” repeats more often than the assistant can follow" in view.warning
    clock.now = NOW + timedelta(hours=1)  # the copy is stale: read again, the warning stays
    assert "“Ping”" in (service.view("alice", days_ahead=14, now=clock.now).warning or "")


def test_a_file_cut_short_is_refused_in_plain_words_and_the_stored_calendar_stays(
    any_engine: Engine, make_service: Callable[..., CalendarService]
) -> None:
    service = make_service()
    service.connect_ics_file("alice", WEEKLY_ICS, "work.ics")
    with any_engine.connect() as conn:
        before = conn.execute(select(calendar_cache)).all(), conn.execute(select(calendar_connections)).all()
    with pytest.raises(CalendarInputError) as caught:
        service.connect_ics_file("alice", WEEKLY_ICS[: len(WEEKLY_ICS) // 2], "work-cut.ics")
    assert str(caught.value).startswith("This is not a valid iCalendar (.ics) file: it stops before its end")
    assert "Found no components" not in str(caught.value) and "BEGIN:" not in str(caught.value)
    with any_engine.connect() as conn:
        after = conn.execute(select(calendar_cache)).all(), conn.execute(select(calendar_connections)).all()
    assert after == before
    assert service.connection("alice").label == "work.ics"  # type: ignore[union-attr]


def test_clock_times_without_a_known_zone_are_the_readers_own_clock_times(
    make_service: Callable[..., CalendarService],
) -> None:
    """A floating time (no zone) and a zone nobody knows were read in UTC and kept there, so a
    10:00 meeting showed at 05:00 in New York while the page said "shown at their clock times in
    your own time zone"."""
    service = make_service()
    service.connect_ics_file(
        "alice",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
        b"BEGIN:VEVENT\r\nUID:f@x\r\nDTSTART:20260303T100000\r\nDTEND:20260303T110000\r\nSUMMARY:Floating\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:m@x\r\nDTSTART;TZID=Mars/Olympus:20260304T100000\r\n"
        b"DTEND;TZID=Mars/Olympus:20260304T110000\r\nSUMMARY:Mars\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:u@x\r\nDTSTART:20260305T100000Z\r\nDTEND:20260305T110000Z\r\nSUMMARY:UTC\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n",
        "floating.ics",
    )
    for zone in ("America/New_York", "Asia/Tokyo"):
        tz = ZoneInfo(zone)
        view = service.view("alice", days_ahead=7, tz=tz, now=NOW)  # the second reads the cached copy
        starts = {m.title: m.start.astimezone(tz) for m in view.meetings}
        assert starts["Floating"] == datetime(2026, 3, 3, 10, 0, tzinfo=tz)
        assert starts["Mars"] == datetime(2026, 3, 4, 10, 0, tzinfo=tz)
        assert starts["UTC"] == datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # a zoned time stays the same instant
        found = service.find("alice", next(m.id for m in view.meetings if m.title == "Floating"), tz=tz, now=NOW)
        assert (found.start.astimezone(tz).hour, found.end.astimezone(tz).hour) == (10, 11)


def test_two_users_never_see_each_others_calendar(make_service: Callable[..., CalendarService]) -> None:
    service = make_service()
    service.connect_ics_file("alice", WEEKLY_ICS, "alice.ics")
    assert service.view("bob", days_ahead=7, now=NOW).is_demo
    assert service.connection("bob") is None
    alice_ids = {m.id for m in service.view("alice", days_ahead=7, now=NOW).meetings}
    with pytest.raises(ValueError, match="No meeting with id"):
        service.find("bob", sorted(alice_ids)[0], now=NOW)


def test_a_failing_source_keeps_serving_the_last_good_copy_with_a_warning(
    make_service: Callable[..., CalendarService], any_engine: Engine
) -> None:
    clock = Clock(NOW)
    source = FlakySource("iCal address on cal.example.com")
    source.answer = [_meeting("m1", "Board dinner", NOW + timedelta(hours=5))]
    service = make_service(clock, source)
    service.connect_ics_url("alice", "https://cal.example.com/secret-token-123/basic.ics")

    first = service.view("alice", now=clock.now)
    assert [m.title for m in first.meetings] == ["Board dinner"] and first.warning is None
    calls = source.calls
    service.view("alice", now=clock.now + timedelta(minutes=5))
    assert source.calls == calls, "a fresh copy is served from the shared cache"

    clock.now += timedelta(minutes=30)
    source.answer = CalendarSourceError(source.label, "The calendar server failed (HTTP 503).")
    stale = service.view("alice", now=clock.now)
    assert [m.title for m in stale.meetings] == ["Board dinner"]
    assert stale.warning is not None and "iCal address on cal.example.com" in stale.warning
    assert "503" in stale.warning and "Showing the copy read 30 min ago" in stale.warning
    with any_engine.connect() as conn:
        assert "503" in conn.execute(select(calendar_cache.c.last_error)).scalar_one()

    source.answer = [_meeting("m2", "Investor call", clock.now + timedelta(hours=2))]
    fixed = service.view("alice", now=clock.now, refresh=True)
    assert [m.title for m in fixed.meetings] == ["Investor call"] and fixed.warning is None


def test_a_revoked_grant_asks_to_reconnect_instead_of_failing(make_service: Callable[..., CalendarService]) -> None:
    clock = Clock(NOW)
    source = FlakySource("Google Calendar (ada@example.com)")
    source.answer = [_meeting("m1", "Ops review", NOW + timedelta(hours=3))]
    service = make_service(clock, source)
    service.connect_ics_url("alice", "https://cal.example.com/x.ics")
    service.view("alice", now=clock.now)

    clock.now += timedelta(hours=1)
    source.answer = CalendarAuthError(source.label, "Google Calendar access was revoked or expired. Reconnect it.")
    view = service.view("alice", now=clock.now)
    assert view.needs_reconnect and view.warning and "Reconnect" in view.warning
    assert [m.title for m in view.meetings] == ["Ops review"]
    connection = service.connection("alice")
    assert connection is not None and connection.status == "reconnect"


def test_secrets_are_encrypted_at_rest_and_never_shown(
    make_service: Callable[..., CalendarService], any_engine: Engine
) -> None:
    source = FlakySource("x")
    service = make_service(source=source)
    secret_url = "https://cal.example.com/private-abcdef123456/basic.ics"
    connection = service.connect_ics_url("alice", secret_url)
    assert "private-abcdef123456" not in connection.label
    service.connect_google("bob", "1//refresh-token-very-secret", "bob@example.com")
    with any_engine.connect() as conn:
        stored = [row.secret_enc for row in conn.execute(select(calendar_connections))]
    assert all(s and "private-abcdef" not in s and "very-secret" not in s for s in stored)
    assert "very-secret" not in repr(
        StoredConnection(user_id="bob", kind="google", label="g", secret="very-secret", ics_data=None)
    )


def test_without_an_encryption_key_secret_sources_cannot_be_connected(any_engine: Engine) -> None:
    settings = load_settings(env="local")
    service = CalendarService(any_engine, settings, cipher=None)
    service._cipher_ready = True  # as on a deployment without CALENDAR_ENCRYPTION_KEY
    service._cipher_given = None
    assert not service.can_connect
    with pytest.raises(CalendarInputError, match="CALENDAR_ENCRYPTION_KEY"):
        service.connect_ics_url("alice", "https://cal.example.com/x.ics")
    assert service.connection("alice") is None


def test_disconnect_returns_to_the_demo_calendar(make_service: Callable[..., CalendarService]) -> None:
    service = make_service()
    service.connect_ics_file("alice", WEEKLY_ICS, "work.ics")
    stored = service.disconnect("alice")
    assert stored is not None and stored.kind == "ics_file"
    assert service.connection("alice") is None
    assert service.view("alice", now=NOW).is_demo
