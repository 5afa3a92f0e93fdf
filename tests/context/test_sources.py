"""The calendar source interface and its errors: what a page can tell the user from each (which
source failed, whether to reconnect, that nothing was saved), and every source keeping to it."""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta

import pytest

from assistant.context.google_events import GoogleCalendarSource
from assistant.context.ics import IcsFileSource, IcsUrlSource
from assistant.context.meetings import SourceKind
from assistant.context.sources import CalendarAuthError, CalendarInputError, CalendarSource, CalendarSourceError

START = datetime(2026, 3, 2, tzinfo=UTC)


def test_a_source_error_names_its_source_apart_from_its_sentence() -> None:
    error = CalendarSourceError("Google Calendar (ada@example.com)", "The calendar server failed (HTTP 503).")
    assert str(error) == "The calendar server failed (HTTP 503)."
    assert error.source == "Google Calendar (ada@example.com)"


def test_a_revoked_grant_is_a_source_error_that_asks_to_reconnect() -> None:
    """Code that keeps the last good copy on any source error keeps it on a revoked grant too."""
    with pytest.raises(CalendarSourceError) as caught:
        raise CalendarAuthError("Google Calendar", "Reconnect it.")
    assert isinstance(caught.value, CalendarAuthError) and caught.value.source == "Google Calendar"


def test_bad_input_is_a_value_error_so_a_tool_returns_it_to_the_model() -> None:
    """strands turns a tool's ValueError into an error result the model reads; anything else fails the turn."""
    assert issubclass(CalendarInputError, ValueError)
    assert not issubclass(CalendarInputError, CalendarSourceError)


@pytest.mark.parametrize("source", [IcsFileSource, IcsUrlSource, GoogleCalendarSource])
def test_every_source_has_a_kind_a_meeting_can_carry_and_a_fetch_like_the_interface(source: type) -> None:
    assert source.kind in typing.get_args(SourceKind)
    assert callable(source.fetch)
    wanted = list(typing.get_type_hints(CalendarSource.fetch))
    assert list(typing.get_type_hints(source.fetch)) == wanted


def test_a_stored_file_that_no_longer_reads_is_a_source_error_naming_it() -> None:
    source: CalendarSource = IcsFileSource(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage", "work.ics")
    with pytest.raises(CalendarSourceError) as caught:
        source.fetch(START, START + timedelta(days=7), UTC)
    assert caught.value.source == "work.ics"
    assert str(caught.value).startswith("This is not a valid iCalendar (.ics) file: it stops before its end")
