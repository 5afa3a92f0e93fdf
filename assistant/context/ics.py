"""ICS calendars: an uploaded ``.ics`` file or a secret iCal address, as meetings.

Parsing is ``icalendar``; expanding recurrence is ``recurring_ical_events``, which also applies
``x_wr_timezone.to_standard`` (Google exports write UTC times plus ``X-WR-TIMEZONE``; the
conversion keeps a 09:00 series at 09:00 local across a DST change) — so it is not called a
second time here. The rules every source follows:

- a recurring series is listed occurrence by occurrence; an occurrence moved with
  ``RECURRENCE-ID`` is listed at its new time under the id of its original start (each later one
  too for an edit of "this and future" occurrences, ``RANGE=THISANDFUTURE``), and one
  removed with ``EXDATE`` or overridden with ``STATUS:CANCELLED`` is left out;
- ``STATUS:CANCELLED`` events (series and one-offs) are left out;
- an event Outlook flags all-day (``X-MICROSOFT-CDO-ALLDAYEVENT:TRUE``) written midnight to
  midnight is an all-day event on those days;
- an event the calendar's owner declined is left out. ICS has no "owner" field: the owners are
  the ``owner_email`` the caller passes and ``X-WR-CALNAME`` when it is an email address
  (Google names a primary calendar after its owner; the user may sign in under another
  address); when neither is on any meeting, the address on nearly every meeting with people in
  it (Outlook and Apple name no owner). Without one, nothing counts as declined;
- ``TZID`` times keep their zone (Windows names such as "Eastern Standard Time" and Microsoft
  365's "tzone://Microsoft/Utc" included; a file's own VTIMEZONE, such as Outlook's "Customized
  Time Zone", counts for that file only),
  UTC stays UTC, floating times and all-day dates are placed in the caller's zone, and every
  start and end is returned in that zone;
- a series that repeats so often or from so long ago that expanding it would take seconds
  (``RRULE:FREQ=MINUTELY``, a daily rule from the year 1, hundreds of old daily series) is left
  out, and at most ``MAX_OCCURRENCES`` meetings are kept, the earliest first; the source's
  ``notice`` says so, and whether a series filled them (:mod:`assistant.context.ics_limits`);
- an event whose start, end, length or moved date cannot be read is left out, and an unreadable
  RDATE/EXDATE line is dropped (the event kept); the ``notice`` names them
  (:mod:`assistant.context.ics_damage`), as it names any series the expansion skips;
- text (title, description, location, names) comes from other people: control characters are
  stripped and every field is capped (truncated, never refused); a description written as HTML
  is read as its text (:mod:`assistant.context.html_text`);
- attendees are people: a booked room or equipment is not one, and the organizer of a meeting
  with attendees is one even when no ATTENDEE line names them (Outlook's way); the owner's
  entry is marked ``you`` (their colleagues are internal, and they are counted once);
- different events sharing one UID: one is listed, and the ``notice`` names them.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any, ClassVar

import icalendar
import recurring_ical_events

from assistant.context.fetch import fetch_calendar_url
from assistant.context.ics_damage import Damage, damage_notice, mend_damaged_events, same_uid_titles, title_of
from assistant.context.ics_fields import (
    MAX_DESCRIPTION_CHARS,
    MAX_LOCATION_CHARS,
    MAX_ORGANIZER_CHARS,
    MAX_TITLE_CHARS,
    NO_TITLE,
    attendees_of,
    conference_url_of,
    email_of,
    likely_owner,
    one_line,
    property_text,
    without_join_block,
)
from assistant.context.ics_limits import MAX_CALENDAR_STEPS, MAX_OCCURRENCES, cut_notice, rule_steps, zone_notice
from assistant.context.ics_text import unknown_zones, window_calendar
from assistant.context.meeting_zone import across_clock_change
from assistant.context.meetings import Meeting, SourceKind, make_meeting_id, series_id_for
from assistant.context.sources import CalendarInputError, CalendarSourceError
from assistant.inputs import log_safe

logger = logging.getLogger(__name__)


# --- from an occurrence to a Meeting -------------------------------------------------------


def _place(value: date | datetime, tz: tzinfo) -> datetime:
    """A DTSTART/DTEND value as an aware datetime in ``tz`` (dates at local midnight)."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=tz)
    if value.tzinfo is None:  # floating: the user's own zone
        return value.replace(tzinfo=tz)
    return value.astimezone(tz)


def _aware(moment: datetime, tz: tzinfo) -> datetime:
    """``moment`` in ``tz`` (a naive one is read as ``tz`` local time)."""
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def _occurrence_key(value: date | datetime) -> datetime:
    """The original start an occurrence's id is made from (a date becomes naive midnight)."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time())


def _days_if_all_day(
    event: icalendar.cal.Component, start: date | datetime, end: date | datetime
) -> tuple[date | datetime, date | datetime]:
    """An event's start and end, as dates when Outlook flags it all-day
    (``X-MICROSOFT-CDO-ALLDAYEVENT:TRUE``) but writes it midnight to midnight in its own zone:
    read as times, a holiday in Berlin was a 24-hour meeting from 18:00 the day before in New York."""
    flagged = str(event.get("X-MICROSOFT-CDO-ALLDAYEVENT", "")).strip().upper() == "TRUE"
    if flagged and isinstance(start, datetime) and isinstance(end, datetime) and start.time() == end.time() == time():
        return start.date(), end.date()
    return start, end


def _uid_of(event: icalendar.cal.Component) -> str:
    uid = str(event.get("UID") or "").strip()
    if uid:
        return uid
    # No UID (hand-written files): the title and start are the most stable stand-in.
    return f"{event.get('SUMMARY', '')}|{event.get('DTSTART').to_ical().decode() if event.get('DTSTART') else ''}"


def _unreadable_events(error: Exception) -> CalendarInputError:
    """The user's sentence for events the expansion refused (the library's reason is only logged)."""
    logger.info("error=<%s> | calendar events not expanded", log_safe(str(error), 200))
    return CalendarInputError(
        "This is not a valid iCalendar (.ics) file: some of its events have a date or a repeat rule "
        "that cannot be read. Export the calendar as .ics again and upload the new file."
    )


class _Query(recurring_ical_events.CalendarQuery):  # type: ignore[misc]  # the library has no types
    """The library's query that also skips a series whose dates run past the year 9999 (an end
    or a duration of millions of days raises OverflowError) or whose start is given twice (a
    list has no ``dt``: AttributeError), keeping the rest of the calendar."""

    suppressed_errors: ClassVar[list[type[Exception]]] = [
        *recurring_ical_events.CalendarQuery.suppressed_errors,
        OverflowError,
        AttributeError,
    ]


class _Calendar:
    """One parsed calendar and what its expansion needs: which UIDs recur, whose declines count."""

    def __init__(self, calendar: icalendar.Calendar, owner_email: str | None) -> None:
        self.calendar = calendar
        self.recurring_uids: set[str] = set()
        for event in calendar.walk("VEVENT"):
            uids = event.get("UID")
            if isinstance(uids, list) and uids:  # a repeated UID line: the expansion keys series by it
                event["UID"] = uids[0]
            if "RRULE" in event or "RDATE" in event or "RECURRENCE-ID" in event:
                self.recurring_uids.add(_uid_of(event))
        # The signed-in user and the calendar's own owner (Google names a primary calendar after
        # them) may be two addresses (an alias, a personal sign-in, the dev login): both decline.
        owners = (owner_email, str(calendar.get("X-WR-CALNAME", "") or ""))
        self.owner_emails = frozenset(email for email in map(email_of, filter(None, owners)) if email)
        inferred = likely_owner(list(calendar.walk("VEVENT")), self.owner_emails)  # Outlook names no owner
        self.owner_emails |= {inferred} if inferred else set()
        self._query: recurring_ical_events.CalendarQuery | None = None
        self.truncated = self.by_series = False  # only the first MAX_OCCURRENCES kept; a series filled them
        self.left_out: list[str] = []  # titles of series that repeat too often to expand
        self.too_many: list[str] = []  # titles of series past what one calendar's series may take together
        self.damage = Damage()  # events whose dates cannot be read (:mod:`assistant.context.ics_damage`)
        # Zones named by a TZID that neither the file (VTIMEZONE) nor the zone database knows:
        # icalendar reads such times as floating, so they are placed in the user's own zone.
        self.unknown_zones: list[str] = unknown_zones(calendar)

    def _leave_out_runaway_series(self, end: datetime) -> None:
        """Drop each series whose rule takes too many steps to reach ``end``, then the costliest
        series until all of them together take at most MAX_CALENDAR_STEPS."""
        steps: dict[str, float] = {}
        series: dict[str, icalendar.cal.Component] = {}
        runaway: dict[str, icalendar.cal.Component] = {}
        for event in self.calendar.walk("VEVENT"):
            count, limit = rule_steps(event, end)
            if not count:
                continue
            uid = _uid_of(event)
            steps[uid] = steps.get(uid, 0) + count
            series.setdefault(uid, event)
            if count > limit:
                runaway[uid] = series[uid]
        total = sum(n for uid, n in steps.items() if uid not in runaway)
        costliest: dict[str, icalendar.cal.Component] = {}
        for uid in sorted((uid for uid in steps if uid not in runaway), key=lambda uid: -steps[uid]):
            if total <= MAX_CALENDAR_STEPS:
                break
            costliest[uid] = series[uid]
            total -= steps[uid]
        if not runaway and not costliest:
            return
        self.calendar.subcomponents = [
            c
            for c in self.calendar.subcomponents
            if c.name != "VEVENT" or (_uid_of(c) not in runaway and _uid_of(c) not in costliest)
        ]
        self.left_out = [title_of(e) for e in runaway.values()]
        self.too_many = [title_of(e) for e in costliest.values()]
        logger.info("too_often=<%s>, too_many=<%s> | left out calendar series", len(runaway), len(costliest))

    def query(self) -> recurring_ical_events.CalendarQuery:
        if self._query is None:
            try:
                self._query = recurring_ical_events.of(self.calendar, skip_bad_series=True, calendar_query=_Query)
            except (ValueError, KeyError, TypeError, recurring_ical_events.InvalidCalendar) as e:
                raise _unreadable_events(e) from e
            expanded = {str(series.uid) for series in self._query.series}
            self._name_skipped(lambda uid: uid not in expanded)
        return self._query

    def _name_skipped(self, skipped: Callable[[str], bool]) -> None:
        """Name in the notice each series the library skipped (``skip_bad_series``) for a reason
        :func:`mend_damaged_events` did not catch: none is lost without a word."""
        for event in self.calendar.walk("VEVENT"):
            if skipped(str(event.get("UID", str(id(event))))):  # the library's key: UID, else Python id
                self.damage.left_out.append(title_of(event))

    def notice(self) -> str | None:
        """What the user should know about this calendar's last expansion, or None."""
        cut = cut_notice(self.left_out, truncated=self.truncated, by_series=self.by_series, too_many=self.too_many)
        notes = [damage_notice(self.damage), cut, zone_notice(self.unknown_zones)]
        return " ".join(note for note in notes if note) or None

    def _occurrences(self, start: datetime, end: datetime) -> Iterable[icalendar.cal.Component]:
        """The occurrences overlapping ``[start, end]``, at most MAX_OCCURRENCES, the earliest first.

        Each series is expanded lazily and stops after MAX_OCCURRENCES + 1 occurrences (one
        past the cap tells that it was cut), so a minutely series costs what 2,000 meetings
        cost; reading stops altogether once 4 x MAX_OCCURRENCES were read (many such series).
        Sets ``self.truncated`` when occurrences were left out.
        """
        if self._query is None:
            self.damage = mend_damaged_events(self.calendar, start, end)
            self.damage.same_uid = same_uid_titles(self.calendar)
            self._leave_out_runaway_series(end)
        query = self.query()
        found: list[Any] = []
        for series in query.series:
            if len(found) > 4 * MAX_OCCURRENCES:
                self.truncated = True
                break
            try:
                chunk = list(itertools.islice(series.between(start, end), MAX_OCCURRENCES + 1))
            except tuple(query.suppressed_errors):  # skip_bad_series, as CalendarQuery.between does
                self._name_skipped(str(series.uid).__eq__)
                continue
            found += chunk
            self.by_series |= len(chunk) > MAX_OCCURRENCES // 2
        found.sort()
        if len(found) > MAX_OCCURRENCES:
            self.truncated = True
            del found[MAX_OCCURRENCES:]
        return [occurrence.as_component(query.keep_recurrence_attributes) for occurrence in found]

    def meetings(self, start: datetime, end: datetime, tz: tzinfo, kind: SourceKind) -> list[Meeting]:
        try:
            occurrences = self._occurrences(_aware(start, tz), _aware(end, tz))
            meetings: dict[str, Meeting] = {}
            for event in occurrences:
                meeting = self._meeting(event, tz, kind)
                if meeting is not None and meeting.id not in meetings:
                    meetings[meeting.id] = meeting
        except CalendarInputError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, recurring_ical_events.InvalidCalendar) as e:
            raise _unreadable_events(e) from e
        return sorted(meetings.values(), key=lambda m: (m.start, m.id))

    def _original_start(self, event: icalendar.cal.Component, uid: str, start: date | datetime) -> datetime:
        """The start the rule gave this occurrence, its id's key (a moved one keeps it).

        An edit of "this and future" occurrences (``RECURRENCE-ID;RANGE=THISANDFUTURE``, Apple's
        way) is carried by every later occurrence: each one's own is its start less the edit's
        shift, or they all took the edited one's id and only the first was listed.
        """
        original = event.get("RECURRENCE-ID")
        if original is None:
            return _occurrence_key(start)
        key = _occurrence_key(original.dt)
        if str(original.params.get("RANGE", "")).upper() != "THISANDFUTURE":
            return key
        edited = next(
            (
                e.get("DTSTART")
                for e in self.calendar.walk("VEVENT")
                if _uid_of(e) == uid and e.get("RECURRENCE-ID") == original
            ),
            None,
        )
        try:
            return _occurrence_key(start) - (_occurrence_key(edited.dt) - key) if edited is not None else key
        except (TypeError, AttributeError):  # a floating edit of a zoned series, a start given twice
            return key

    def _meeting(self, event: icalendar.cal.Component, tz: tzinfo, kind: SourceKind) -> Meeting | None:
        if not isinstance(event, icalendar.Event):
            return None
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            return None
        start_value, end_value = _days_if_all_day(event, event.start, event.end)
        if isinstance(start_value, datetime) and isinstance(end_value, datetime):
            start_value, end_value = across_clock_change(start_value, end_value)
        all_day = not isinstance(start_value, datetime)
        start = _place(start_value, tz)
        end = _place(end_value, tz)
        if end.astimezone(UTC) < start.astimezone(UTC):  # instants: a wall-clock compare ignores the fold
            end = start
        organizer_address = event.get("ORGANIZER")
        organizer_email = email_of(organizer_address) if organizer_address is not None else None
        attendees = attendees_of(event, organizer_email, self.owner_emails)
        if any(a.you and a.response == "declined" for a in attendees):
            return None
        uid = _uid_of(event)
        series_id: str | None = None
        if uid in self.recurring_uids:
            meeting_id = make_meeting_id(uid, self._original_start(event, uid, start_value))
            series_id = series_id_for(uid)
        else:
            meeting_id = make_meeting_id(uid)
        location = property_text(event, "LOCATION", MAX_LOCATION_CHARS)
        description = property_text(event, "DESCRIPTION", MAX_DESCRIPTION_CHARS, html=True)
        conference_url = conference_url_of(event, location, description)
        description = without_join_block(description)  # the link is conference_url; the block around it is noise
        organizer: str | None = None
        if organizer_address is not None:
            cn = getattr(organizer_address, "params", {}).get("CN")
            organizer = one_line(cn, MAX_ORGANIZER_CHARS) or organizer_email or None
        if all_day:
            minutes = round((end - start).total_seconds() / 60)  # same zone: wall-clock days
        else:
            minutes = round((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 60)
        return Meeting(
            id=meeting_id,
            title=property_text(event, "SUMMARY", MAX_TITLE_CHARS) or NO_TITLE,
            start=start,
            end=end,
            duration_minutes=minutes,
            attendees=attendees,
            type="other",
            location=location,
            description=description,
            series_id=series_id,
            source=kind,
            all_day=all_day,
            floating=isinstance(start_value, datetime) and start_value.tzinfo is None,
            organizer=organizer,
            conference_url=conference_url,
        )


def parse_ics(
    data: bytes,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    *,
    kind: SourceKind = "ics_file",
    owner_email: str | None = None,
) -> list[Meeting]:
    """The meetings of an iCalendar overlapping ``[start, end)``, one per occurrence.

    Args:
        data: The calendar's bytes (not size-checked here: see :func:`check_ics`).
        start: Window start (aware; a naive one is read in ``tz``).
        end: Window end.
        tz: Zone for floating times and all-day events, and of every returned datetime.
        kind: The source kind recorded on each meeting.
        owner_email: The calendar owner's email: events they declined are left out.

    Returns:
        Meetings sorted by (start, id), cancelled and declined ones left out.

    Raises:
        CalendarInputError: The data is not a readable calendar.
    """
    start, end = _aware(start, tz), _aware(end, tz)
    return _Calendar(window_calendar(data, start, end), owner_email).meetings(start, end, tz, kind)


# --- the two CalendarSource implementations ---------------------------------------------


class IcsFileSource:
    """An uploaded ``.ics`` file (the bytes the user's upload stored), read for each window asked.

    Attributes:
        kind: ``"ics_file"``.
        label: What the page calls this source (e.g. "work.ics").
        notice: After a fetch, what the user should know about it (only the first
            MAX_OCCURRENCES meetings kept), or None.
    """

    kind: SourceKind = "ics_file"

    def __init__(self, data: bytes, label: str, *, owner_email: str | None = None) -> None:
        """Keeps the file.

        Args:
            data: The file's bytes (already accepted by :func:`check_ics`).
            label: What the page calls this source.
            owner_email: The user's email: events they declined are left out.
        """
        self.label = label
        self.notice: str | None = None
        self._data = data
        self._owner_email = owner_email

    def fetch(self, start: datetime, end: datetime, tz: tzinfo) -> list[Meeting]:
        """Meetings overlapping ``[start, end)`` (see :class:`~assistant.context.sources.CalendarSource`).

        Raises:
            CalendarSourceError: The file is not a readable calendar.
        """
        try:
            start, end = _aware(start, tz), _aware(end, tz)
            calendar = _Calendar(window_calendar(self._data, start, end), self._owner_email)
            meetings = calendar.meetings(start, end, tz, self.kind)
            self.notice = calendar.notice()
            return meetings
        except CalendarInputError as e:
            raise CalendarSourceError(self.label, str(e)) from e


class IcsUrlSource:
    """A secret iCal address (Google, Outlook/Microsoft 365, Apple), fetched on every call.

    The address is a credential: it is never logged (only its host) nor shown in messages.

    Attributes:
        kind: ``"ics_url"``.
        label: What the page calls this source (e.g. "Outlook calendar").
        notice: After a fetch, what the user should know about it (only the first
            MAX_OCCURRENCES meetings kept), or None.
    """

    kind: SourceKind = "ics_url"

    def __init__(
        self,
        url: str,
        label: str,
        *,
        max_bytes: int,
        timeout: float,
        allow_private: bool,
        owner_email: str | None = None,
    ) -> None:
        """Keeps the address and the fetch limits.

        Args:
            url: The secret address (http, https, webcal or webcals).
            label: What the page calls this source.
            max_bytes: Size cap of the calendar (ICS_MAX_BYTES).
            timeout: Seconds the whole fetch may take (ICS_FETCH_TIMEOUT_SECONDS).
            allow_private: Whether loopback and private addresses may be fetched (local only).
            owner_email: The user's email: events they declined are left out.
        """
        self.label = label
        self.notice: str | None = None
        self._url = url
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._allow_private = allow_private
        self._owner_email = owner_email

    def __repr__(self) -> str:
        return f"IcsUrlSource(label={self.label!r})"  # never the address

    def fetch(self, start: datetime, end: datetime, tz: tzinfo) -> list[Meeting]:
        """Fetches the calendar and returns the meetings overlapping ``[start, end)``.

        Raises:
            CalendarSourceError: The address could not be fetched (network, HTTP status, size,
                a refused address) or what it returned is not a calendar; source is the label.
        """
        try:
            data = fetch_calendar_url(
                self._url,
                max_bytes=self._max_bytes,
                timeout=self._timeout,
                allow_private=self._allow_private,
                source=self.label,
            )
            start, end = _aware(start, tz), _aware(end, tz)
            calendar = _Calendar(window_calendar(data, start, end, self._max_bytes), self._owner_email)
            meetings = calendar.meetings(start, end, tz, self.kind)
            self.notice = calendar.notice()
            return meetings
        except CalendarInputError as e:
            raise CalendarSourceError(self.label, str(e)) from e


__all__ = ["IcsFileSource", "IcsUrlSource", "parse_ics"]
