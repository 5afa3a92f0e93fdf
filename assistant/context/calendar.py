"""Each user's calendar: the connected source, a shared cache of its events, and the demo fallback.

:class:`CalendarService` is what the tools, the Prep queue and the CLI read meetings through.
A user who has connected nothing gets the demo calendar (``data/calendar.toml``), labelled as
demo data. A connected source (an uploaded ``.ics``, a secret iCal address, Google Calendar)
is read through the :class:`~assistant.context.sources.CalendarSource` interface, and what
it returned is kept in ``calendar_cache`` (SQL, so every replica shares it) for
CALENDAR_CACHE_MINUTES. When the source fails, the last good copy keeps being served with a
warning naming the source and the error; a revoked Google grant marks the connection
"reconnect" instead of failing the turn.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine

from assistant.config import Settings
from assistant.context.calendar_rows import (
    CalendarStorageError as CalendarStorageError,  # the service's error: callers import it from here
)
from assistant.context.calendar_rows import (
    StoredConnection,
    cache_row,
    connection_row,
    delete_connection,
    record_error,
    save_connection,
    set_status,
    write_cache,
)
from assistant.context.demo_calendar import load_meetings
from assistant.context.meeting_zone import in_zone
from assistant.context.meetings import Meeting, SourceKind
from assistant.context.secrets import NO_KEY_MESSAGE, SecretUnavailableError, TokenCipher, cipher_for
from assistant.context.sources import (
    CalendarAuthError,
    CalendarInputError,
    CalendarSource,
    CalendarSourceError,
)
from assistant.inputs import clean_display_text, log_safe

logger = logging.getLogger(__name__)

DEMO_LABEL = "Demo calendar"
CACHE_LOOKBACK = timedelta(days=1)
SourceFactory = Callable[[StoredConnection], CalendarSource]


@dataclass(frozen=True)
class Connection:
    """What the page shows about a user's connected calendar (never its secret).

    Attributes:
        meetings_ahead: Set by a connect that read the calendar (a file, an iCal address): how
            many of its meetings have not ended and start within ``CALENDAR_DAYS_AHEAD`` days.
            Zero says the calendar covers the wrong period (an export of past months), which the
            page and the CLI tell the user. None when not counted (a status read, Google).
    """

    kind: SourceKind
    label: str
    status: str  # ok | reconnect
    connected_at: datetime
    meetings_ahead: int | None = None


@dataclass(frozen=True)
class CalendarView:
    """A user's meetings over a window, and where they came from.

    Attributes:
        meetings: Meetings overlapping the window, sorted by start.
        kind: The source (``demo`` when nothing is connected).
        label: What the page calls the source ("Demo calendar", "Google Calendar (ada@…)").
        fetched_at: When the source was last read successfully (None for the demo file).
        warning: Set when the source failed and an older copy (or nothing) is shown, or when the
            source left meetings out (a series repeating every minute, more than the cap).
        needs_reconnect: The Google grant was revoked or expired.
    """

    meetings: list[Meeting]
    kind: SourceKind
    label: str
    fetched_at: datetime | None = None
    warning: str | None = None
    needs_reconnect: bool = False

    @property
    def is_demo(self) -> bool:
        """True when these are the demo meetings."""
        return self.kind == "demo"


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _notice_of(source: CalendarSource) -> str | None:
    """What a source's last fetch said the user should know (ICS: meetings left out), or None."""
    notice = getattr(source, "notice", None)
    return notice if isinstance(notice, str) and notice else None


def _ics_host_label(url: str) -> str:
    host = urlsplit(url.replace("webcal://", "https://", 1).replace("webcals://", "https://", 1)).hostname or "?"
    return f"iCal address on {host}"


class CalendarService:
    """Reads and manages each user's calendar.

    Args:
        engine: App database (``calendar_connections``, ``calendar_cache``).
        settings: Data folder, cache minutes, ICS limits, Google endpoints, encryption key.
        clock: Aware UTC clock.
        cipher: Encrypts secrets; default from settings (None: connecting is off).
        source_factory: Builds the source of a stored connection (tests inject fakes).
    """

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
        cipher: TokenCipher | None = None,
        source_factory: SourceFactory | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self._cipher_given = cipher
        self._cipher_ready = cipher is not None
        self._source_factory = source_factory or self._default_source
        self._emails: dict[str, str] = {}

    @property
    def _cipher(self) -> TokenCipher | None:
        # Built on first use: ENV=local may generate its key file, which only a connection needs.
        if not self._cipher_ready:
            self._cipher_given = cipher_for(self.settings)
            self._cipher_ready = True
        return self._cipher_given

    # -- connections ------------------------------------------------------------------
    @property
    def can_connect(self) -> bool:
        """Whether calendars can be connected here (an encryption key is configured)."""
        return self._cipher is not None

    def connection(self, user_id: str) -> Connection | None:
        """The user's connected calendar, or None (demo)."""
        row = connection_row(self.engine, user_id)
        if row is None:
            return None
        return Connection(kind=row.kind, label=row.label, status=row.status, connected_at=_aware(row.connected_at))

    def connect_ics_file(self, user_id: str, data: bytes, filename: str) -> Connection:
        """Store an uploaded ``.ics`` file (or a zipped export holding it) as the user's calendar
        (replacing any other source).

        Raises:
            CalendarInputError: The file is too big, not a calendar, or holds no events; nothing saved.
        """
        from assistant.context.ics_text import check_ics
        from assistant.context.ics_zip import calendar_in_zip

        data, filename = calendar_in_zip(data, filename, self.settings.ics_max_bytes)  # Google's export is a .zip
        check_ics(data, self.settings.ics_max_bytes)
        label = clean_display_text(filename, 120) or "calendar.ics"
        stored = StoredConnection(user_id=user_id, kind="ics_file", label=label, secret=None, ics_data=data)
        meetings, notice = self._fetch_or_input_error(stored)
        save_connection(self.engine, stored, secret_enc=None, now=self.clock())
        write_cache(self.engine, stored, meetings, *self._window(), now=self.clock(), notice=notice)
        logger.info("user_id=<%s>, events=<%d> | calendar file connected", user_id, len(meetings))
        return self._connected(user_id, meetings)

    def connect_ics_url(self, user_id: str, url: str) -> Connection:
        """Connect a secret iCal address (read now once, so a bad address is refused at once).

        Raises:
            CalendarInputError: The address is refused (scheme, private network) or is not a
                calendar, or connecting is off here; nothing saved.
        """
        cipher = self._require_cipher()
        url = url.strip()
        if not url:
            raise CalendarInputError(
                "Paste your calendar's secret iCal address (it starts with https:// or webcal://)."
            )
        if len(url) > 2000:
            raise CalendarInputError("That address is longer than 2000 characters; copy the iCal address again.")
        stored = StoredConnection(
            user_id=user_id, kind="ics_url", label=_ics_host_label(url), secret=url, ics_data=None
        )
        meetings, notice = self._fetch_or_input_error(stored)
        save_connection(self.engine, stored, secret_enc=cipher.encrypt(url), now=self.clock())
        write_cache(self.engine, stored, meetings, *self._window(), now=self.clock(), notice=notice)
        logger.info("user_id=<%s>, events=<%d> | ical address connected", user_id, len(meetings))
        return self._connected(user_id, meetings)

    def connect_google(self, user_id: str, refresh_token: str, account: str) -> Connection:
        """Store a Google Calendar grant (the refresh token, encrypted) as the user's calendar.

        Raises:
            SecretUnavailableError: No encryption key is configured; nothing saved.
        """
        cipher = self._require_cipher(SecretUnavailableError)
        label = f"Google Calendar ({clean_display_text(account, 150) or 'your account'})"
        stored = StoredConnection(user_id=user_id, kind="google", label=label, secret=refresh_token, ics_data=None)
        save_connection(self.engine, stored, secret_enc=cipher.encrypt(refresh_token), now=self.clock())
        logger.info("user_id=<%s> | google calendar connected", user_id)
        return self._require_connection(user_id)

    def disconnect(self, user_id: str) -> StoredConnection | None:
        """Forget the user's calendar and its cached events; they see the demo calendar again.

        Returns:
            What was connected (so the caller can revoke a Google grant), or None.
        """
        stored = self._stored(user_id)
        delete_connection(self.engine, user_id)
        logger.info("user_id=<%s> | calendar disconnected", user_id)
        return stored

    def disconnect_and_revoke(self, user_id: str) -> tuple[StoredConnection | None, bool]:
        """:meth:`disconnect`, then a Google Calendar's grant revoked at Google (best effort), as
        the page's Disconnect and ``calendar disconnect`` both do.

        Returns:
            What was connected (or None), and whether Google was told (True when nothing needed telling).
        """
        stored = self.disconnect(user_id)
        if stored is None or stored.kind != "google" or not stored.secret:
            return stored, True
        from assistant.context.google import revoke

        return stored, revoke(self.settings, stored.secret)

    # -- reading -----------------------------------------------------------------------
    def view(
        self, user_id: str, *, days_ahead: int = 7, tz: tzinfo = UTC, refresh: bool = False, now: datetime | None = None
    ) -> CalendarView:
        """The user's meetings from now until ``days_ahead`` days ahead (meetings not yet ended).

        Args:
            user_id: Whose calendar.
            days_ahead: Window length in days.
            tz: Zone for demo times, floating times and all-day events.
            refresh: Read the source now even if the cached copy is fresh.
            now: Override of the clock (aware).

        Returns:
            The meetings and their provenance; never raises for a failing source.
        """
        now = now or self.clock()
        horizon = now + timedelta(days=days_ahead)
        window = self.window_view(user_id, now - CACHE_LOOKBACK, max(horizon, now + self._ahead()), tz, refresh, now)
        upcoming = [m for m in window.meetings if m.end > now and m.start < horizon]
        return CalendarView(
            meetings=upcoming,
            kind=window.kind,
            label=window.label,
            fetched_at=window.fetched_at,
            warning=window.warning,
            needs_reconnect=window.needs_reconnect,
        )

    def find(self, user_id: str, meeting_id: str, *, tz: tzinfo = UTC, now: datetime | None = None) -> Meeting:
        """The meeting with this id in the user's calendar (from a day ago to the cache horizon).

        Raises:
            ValueError: No such meeting (the message names the next meetings' ids).
        """
        now = now or self.clock()
        window = self.window_view(user_id, now - CACHE_LOOKBACK, now + self._ahead(), tz, False, now)
        for meeting in window.meetings:
            if meeting.id == meeting_id:
                return meeting
        known = ", ".join(m.id for m in window.meetings if m.end > now)[:600] or "none"
        raise ValueError(
            f"No meeting with id '{meeting_id}'. Call get_upcoming_meetings to see valid ids (next ids: {known})."
        )

    def window_view(
        self, user_id: str, start: datetime, end: datetime, tz: tzinfo, refresh: bool, now: datetime
    ) -> CalendarView:
        """Every meeting overlapping ``[start, end)`` from the user's source, through the cache."""
        row = connection_row(self.engine, user_id)
        if row is None:
            return CalendarView(meetings=self._demo(start, end, tz, now), kind="demo", label=DEMO_LABEL)
        cached = cache_row(self.engine, user_id)
        fresh = (
            cached is not None
            and cached.kind == row.kind
            and _aware(cached.fetched_at) > now - timedelta(minutes=self.settings.calendar_cache_minutes)
            and _aware(cached.window_start) <= start
            and _aware(cached.window_end) >= end
        )
        if fresh and not refresh and cached is not None:
            return self._from_cache(row, cached, start, end, None, tz)
        if row.status == "reconnect" and not refresh:
            return self._stale(row, cached, start, end, tz, self._reconnect_message(row.label), needs_reconnect=True)
        try:
            stored = self._decrypt(row)
            fetch_start, fetch_end = self._window(now)
            # read in UTC and stored so; all-day events are placed in the reader's zone on the way out
            source = self._source_factory(stored)
            meetings = source.fetch(min(start, fetch_start), max(end, fetch_end), UTC)
            notice = _notice_of(source)
        except (CalendarAuthError, SecretUnavailableError) as e:
            # a revoked grant, or a secret the current key cannot open (the key changed): reconnect
            set_status(self.engine, user_id, "reconnect")
            logger.warning("user_id=<%s>, kind=<%s> | calendar grant revoked or expired", user_id, row.kind)
            return self._stale(row, cached, start, end, tz, str(e), needs_reconnect=True)
        except (CalendarSourceError, CalendarInputError) as e:
            logger.warning(
                "user_id=<%s>, kind=<%s>, error=<%s> | calendar source failed", user_id, row.kind, log_safe(str(e))
            )
            record_error(self.engine, user_id, str(e), now)
            return self._stale(row, cached, start, end, tz, f"Couldn't update {row.label}: {e}")
        write_cache(
            self.engine,
            StoredConnection(user_id=user_id, kind=row.kind, label=row.label, secret=None, ics_data=None),
            meetings,
            min(start, fetch_start),
            max(end, fetch_end),
            now=self.clock(),
            notice=notice,
        )
        if row.status != "ok":
            set_status(self.engine, user_id, "ok")
        inside = [m for m in in_zone(meetings, tz) if m.end > start and m.start < end]
        return CalendarView(meetings=inside, kind=row.kind, label=row.label, fetched_at=now, warning=notice)

    # -- internals ---------------------------------------------------------------------
    def _connected(self, user_id: str, meetings: list[Meeting]) -> Connection:
        """The connection just stored, with how many of the meetings read lie ahead."""
        now = self.clock()
        until = now + self._ahead()
        ahead = sum(1 for m in meetings if m.end > now and m.start < until)
        return replace(self._require_connection(user_id), meetings_ahead=ahead)

    def _ahead(self) -> timedelta:
        return timedelta(days=self.settings.calendar_days_ahead)

    def _window(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        now = now or self.clock()
        # a day beyond the horizon, so a copy read a few minutes ago still covers "now + horizon"
        return now - CACHE_LOOKBACK, now + self._ahead() + timedelta(days=1)

    def _demo(self, start: datetime, end: datetime, tz: tzinfo, now: datetime) -> list[Meeting]:
        return [m for m in load_meetings(self.settings.data_dir, now, tz) if m.end > start and m.start < end]

    def _default_source(self, stored: StoredConnection) -> CalendarSource:
        if stored.kind == "ics_file":
            from assistant.context.ics import IcsFileSource

            return IcsFileSource(stored.ics_data or b"", stored.label, owner_email=self._owner_email(stored.user_id))
        if stored.kind == "ics_url":
            from assistant.context.ics import IcsUrlSource

            return IcsUrlSource(
                stored.secret or "",
                stored.label,
                max_bytes=self.settings.ics_max_bytes,
                timeout=self.settings.ics_fetch_timeout_seconds,
                allow_private=self.settings.ics_private_addresses_allowed,
                owner_email=self._owner_email(stored.user_id),
            )
        if stored.kind == "google":
            from assistant.context.google_events import GoogleCalendarSource

            return GoogleCalendarSource(self.settings, refresh_token=stored.secret or "", label=stored.label)
        raise CalendarSourceError(
            stored.label, f"Unknown calendar kind {stored.kind!r}; disconnect it and connect again."
        )

    def _owner_email(self, user_id: str) -> str | None:
        """The user's email, so events they declined are left out (known for the local dev user)."""
        return self._emails.get(user_id) or (
            self.settings.test_user_email if user_id == self.settings.test_user_id else None
        )

    def remember_email(self, user_id: str, email: str | None) -> None:
        """Note the signed-in user's email (from their verified identity) for declined-event filtering."""
        if email:
            self._emails[user_id] = email.lower()

    def _fetch_or_input_error(self, stored: StoredConnection) -> tuple[list[Meeting], str | None]:
        start, end = self._window()
        try:
            source = self._source_factory(stored)
            return source.fetch(start, end, UTC), _notice_of(source)
        except CalendarSourceError as e:
            raise CalendarInputError(str(e)) from e

    def _require_cipher(self, error: type[Exception] = CalendarInputError) -> TokenCipher:
        # CalendarInputError for what the user asked (connect), SecretUnavailableError for a stored secret
        if self._cipher is None:
            raise error(NO_KEY_MESSAGE)
        return self._cipher

    def _require_connection(self, user_id: str) -> Connection:
        found = self.connection(user_id)
        if found is None:  # pragma: no cover - written just before in the same thread
            raise CalendarStorageError("The calendar was not saved; try again.")
        return found

    def _decrypt(self, row: Any) -> StoredConnection:
        secret = None
        if row.secret_enc is not None:
            if self._cipher is None:
                raise SecretUnavailableError(NO_KEY_MESSAGE)
            secret = self._cipher.decrypt(row.secret_enc)
        return StoredConnection(
            user_id=row.user_id, kind=row.kind, label=row.label, secret=secret, ics_data=row.ics_data
        )

    def _stored(self, user_id: str) -> StoredConnection | None:
        row = connection_row(self.engine, user_id)
        if row is None:
            return None
        try:
            return self._decrypt(row)
        except SecretUnavailableError:
            return StoredConnection(user_id=user_id, kind=row.kind, label=row.label, secret=None, ics_data=None)

    def _reconnect_message(self, label: str) -> str:
        return f"{label}: access was revoked or expired. Reconnect it on the My context page."

    def _from_cache(
        self, row: Any, cached: Any, start: datetime, end: datetime, warning: str | None, tz: tzinfo
    ) -> CalendarView:
        meetings = in_zone([Meeting.model_validate(item) for item in json.loads(cached.events_json)], tz)
        inside = [m for m in meetings if m.end > start and m.start < end]
        return CalendarView(
            meetings=inside,
            kind=row.kind,
            label=row.label,
            fetched_at=_aware(cached.fetched_at),
            warning=warning if warning is not None else cached.notice,
            needs_reconnect=row.status == "reconnect",
        )

    def _stale(
        self,
        row: Any,
        cached: Any,
        start: datetime,
        end: datetime,
        tz: tzinfo,
        error: str,
        *,
        needs_reconnect: bool = False,
    ) -> CalendarView:
        if cached is not None and cached.kind == row.kind:
            view = self._from_cache(row, cached, start, end, None, tz)
            minutes = max(0, int((self.clock() - _aware(cached.fetched_at)).total_seconds() // 60))
            ago = (
                f"{minutes} min"
                if minutes < 120
                else f"{minutes // 60} h"
                if minutes < 2880
                else f"{minutes // 1440} days"
            )
            age = f"the copy read {ago} ago"
            return CalendarView(
                meetings=view.meetings,
                kind=view.kind,
                label=view.label,
                fetched_at=view.fetched_at,
                warning=f"{error} Showing {age}.",
                needs_reconnect=needs_reconnect,
            )
        return CalendarView(
            meetings=[],
            kind=row.kind,
            label=row.label,
            warning=f"{error} No copy of it is stored yet.",
            needs_reconnect=needs_reconnect,
        )
