"""The one interface every calendar source implements, and the errors it raises."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Protocol

from assistant.context.meetings import Meeting, SourceKind


class CalendarSourceError(Exception):
    """A calendar source could not be read; the message is a plain sentence naming the source.

    Attributes:
        source: What the page calls the source (e.g. "Google Calendar (ada@example.com)").
    """

    def __init__(self, source: str, message: str) -> None:
        super().__init__(message)
        self.source = source


class CalendarAuthError(CalendarSourceError):
    """The grant behind a source was revoked or expired: the user must reconnect it."""


class CalendarInputError(ValueError):
    """What the user gave (a file, an address) is not a usable calendar; nothing was saved."""


class CalendarSource(Protocol):
    """Where a user's meetings come from.

    Implementations: the demo file (:mod:`assistant.context.demo`), ICS
    (:mod:`assistant.context.ics`) and Google Calendar (:mod:`assistant.context.google`).

    A source may also set ``notice`` (a sentence, or None) after :meth:`fetch` when it left
    meetings out on purpose (ICS: a series repeating every minute); the service keeps it with
    the cached copy and shows it as the calendar's warning.
    """

    kind: SourceKind
    label: str

    def fetch(self, start: datetime, end: datetime, tz: tzinfo) -> list[Meeting]:
        """Meetings overlapping ``[start, end)``, sorted by start, cancelled and declined ones left out.

        Args:
            start: Window start (aware).
            end: Window end (aware).
            tz: Zone in which floating times and all-day events are placed.

        Raises:
            CalendarAuthError: The grant was revoked or expired (reconnect).
            CalendarSourceError: The source could not be read (network, HTTP status, bad data).
        """
        ...
