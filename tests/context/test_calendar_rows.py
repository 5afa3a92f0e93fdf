"""The calendar tables: one connection per user (a new one replaces it and its copy of events),
the copy kept with its window and notice, errors noted on it; a database that fails on a read or
a save is a sentence for the page, and failing to keep a copy or a status is only logged."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine, select

from assistant.context.calendar_rows import (
    CalendarStorageError,
    StoredConnection,
    cache_row,
    connection_row,
    delete_connection,
    record_error,
    save_connection,
    set_status,
    write_cache,
)
from assistant.context.meetings import Attendee, Meeting
from assistant.db import calendar_cache

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = StoredConnection(user_id="alice", kind="ics_file", label="work.ics", secret=None, ics_data=b"BEGIN:VCALENDAR")


def meeting(title: str, start: datetime) -> Meeting:
    return Meeting(
        id="a1b2c3d4e5",
        title=title,
        start=start,
        end=start + timedelta(hours=1),
        duration_minutes=60,
        attendees=[Attendee(name="Zoë Ñúñez", email="zoe@example.com")],
        type="other",
        location="",
        description="",
        source="ics_file",
    )


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_a_new_connection_replaces_the_old_one_and_its_copy(any_engine: Engine) -> None:
    save_connection(any_engine, ALICE, secret_enc=None, now=NOW)
    write_cache(any_engine, ALICE, [meeting("Board", NOW)], NOW, NOW + timedelta(days=7), now=NOW)
    google = StoredConnection(user_id="alice", kind="google", label="Google Calendar", secret="t", ics_data=None)
    save_connection(any_engine, google, secret_enc="encrypted-token", now=NOW + timedelta(hours=1))
    row = connection_row(any_engine, "alice")
    assert (row.kind, row.label, row.secret_enc, row.ics_data, row.status) == (
        "google",
        "Google Calendar",
        "encrypted-token",
        None,
        "ok",
    )
    assert cache_row(any_engine, "alice") is None  # the old calendar's events are not the new one's
    assert connection_row(any_engine, "bob") is None


def test_the_copy_keeps_each_meeting_as_read_with_its_window_and_notice(any_engine: Engine) -> None:
    from assistant.context.meeting_zone import in_zone

    save_connection(any_engine, ALICE, secret_enc=None, now=NOW)
    tokyo = datetime(2026, 3, 3, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    write_cache(
        any_engine, ALICE, [meeting("Réunion «Q2» 🚀", tokyo)], NOW, NOW + timedelta(days=7), now=NOW, notice="n"
    )
    row = cache_row(any_engine, "alice")
    [back] = [Meeting.model_validate(m) for m in json.loads(row.events_json)]
    assert back.title == "Réunion «Q2» 🚀" and back.attendees[0].name == "Zoë Ñúñez"
    assert back.start == tokyo  # the same instant, whatever zone it was read in
    assert in_zone([back], ZoneInfo("Asia/Tokyo"))[0].start.hour == 9
    assert (aware(row.window_start), aware(row.window_end), row.notice) == (NOW, NOW + timedelta(days=7), "n")


def test_an_error_is_noted_on_the_copy_cut_to_a_thousand_characters(any_engine: Engine) -> None:
    save_connection(any_engine, ALICE, secret_enc=None, now=NOW)
    write_cache(any_engine, ALICE, [], NOW, NOW + timedelta(days=7), now=NOW)
    record_error(any_engine, "alice", "The calendar server failed (HTTP 503). " * 100, NOW + timedelta(hours=1))
    row = cache_row(any_engine, "alice")
    assert len(row.last_error) == 1000 and row.last_error.startswith("The calendar server failed (HTTP 503).")
    assert aware(row.last_error_at) == NOW + timedelta(hours=1)
    set_status(any_engine, "alice", "reconnect")
    assert connection_row(any_engine, "alice").status == "reconnect"
    write_cache(any_engine, ALICE, [], NOW, NOW + timedelta(days=7), now=NOW + timedelta(hours=2))
    assert cache_row(any_engine, "alice").last_error is None  # a good read clears it


def test_disconnecting_forgets_the_connection_and_its_copy_and_nobody_elses(any_engine: Engine) -> None:
    bob = StoredConnection(user_id="bob", kind="ics_file", label="bob.ics", secret=None, ics_data=b"x")
    for stored in (ALICE, bob):
        save_connection(any_engine, stored, secret_enc=None, now=NOW)
        write_cache(any_engine, stored, [], NOW, NOW + timedelta(days=7), now=NOW)
    delete_connection(any_engine, "alice")
    assert connection_row(any_engine, "alice") is None and cache_row(any_engine, "alice") is None
    assert connection_row(any_engine, "bob") is not None and cache_row(any_engine, "bob") is not None
    with any_engine.connect() as conn:
        assert [r.user_id for r in conn.execute(select(calendar_cache.c.user_id))] == ["bob"]


def test_a_database_that_fails_is_a_sentence_on_reads_and_saves_and_only_logged_for_the_copy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A database without the tables (never migrated) stands for one that is down."""
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    for call, words in [
        (lambda: connection_row(engine, "alice"), "The calendar settings could not be read"),
        (lambda: cache_row(engine, "alice"), "The calendar copy could not be read"),
        (lambda: save_connection(engine, ALICE, secret_enc=None, now=NOW), "The calendar could not be saved"),
        (lambda: delete_connection(engine, "alice"), "The calendar could not be disconnected"),
    ]:
        with pytest.raises(CalendarStorageError) as caught:
            call()
        assert str(caught.value) == f"{words}: the database is unavailable."
    caplog.set_level(logging.WARNING)
    write_cache(engine, ALICE, [], NOW, NOW + timedelta(days=7), now=NOW)
    record_error(engine, "alice", "boom", NOW)
    set_status(engine, "alice", "reconnect")
    assert [r.getMessage() for r in caplog.records] == [
        "user_id=<alice>, error=<OperationalError> | calendar cache not written",
        "user_id=<alice> | calendar error not recorded",
        "user_id=<alice>, status=<reconnect> | calendar status not recorded",
    ]
    engine.dispose()


def test_a_stored_connection_never_prints_its_secret_or_file() -> None:
    stored = StoredConnection(
        user_id="bob", kind="ics_url", label="Outlook", secret="https://x/private-abc", ics_data=b"SECRET"
    )
    shown = repr(stored) + str(stored) + f"{stored}"
    assert "private-abc" not in shown and "SECRET" not in shown and "Outlook" in shown
