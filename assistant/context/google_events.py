"""Google Calendar events, read-only: the user's primary calendar as a :class:`CalendarSource`.

Reading goes through google-auth's :class:`Credentials` and :class:`AuthorizedSession`, which
refresh the access token when it expires (or when the API answers 401) and keep it for the next
request. Event text (titles, descriptions, attendee names) comes from other people: it is
stripped of control characters, capped, and otherwise kept as data.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, tzinfo
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import google.auth.exceptions
import requests
from google.auth.transport.requests import AuthorizedSession
from google.auth.transport.requests import Request as GoogleAuthRequest
from google.oauth2.credentials import Credentials

from assistant.config import Settings
from assistant.context.google import (
    _API_DISABLED_REASONS,
    _RATE_LIMIT_REASONS,
    API_DISABLED_MESSAGE,
    BAD_ANSWER_MESSAGE,
    CALENDAR_SCOPE,
    CLIENT_REFUSED_MESSAGE,
    DESCRIPTION_MAX,
    EMAIL_MAX,
    LOCATION_MAX,
    MAX_PAGES,
    NAME_MAX,
    PAGE_SIZE,
    RATE_LIMITED_MESSAGE,
    RECONNECT_MESSAGE,
    REQUEST_TIMEOUT_S,
    TITLE_MAX,
    UNAVAILABLE_MESSAGE,
    UNREACHABLE_MESSAGE,
    URL_MAX,
)
from assistant.context.html_text import html_to_text
from assistant.context.ics_fields import MAX_ATTENDEES, conference_url_in, without_join_block
from assistant.context.meetings import Attendee, Meeting, ResponseStatus, SourceKind, make_meeting_id, series_id_for
from assistant.context.sources import CalendarAuthError, CalendarSourceError
from assistant.inputs import clean_display_text, log_safe, strip_control_chars

logger = logging.getLogger(__name__)

_RESPONSES: dict[str, ResponseStatus] = {
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentative",
    "needsAction": "needs_action",
}


class GoogleCalendarSource:
    """The user's primary Google Calendar, read-only (a :class:`CalendarSource`).

    The access token is refreshed when missing or expired, or when the API answers 401, and
    kept on the instance for the next fetch.

    Args:
        settings: OAuth client, GOOGLE_TOKEN_URL and GOOGLE_CALENDAR_API_URL.
        refresh_token: The stored (decrypted) refresh token.
        label: What the page calls this source, e.g. "Google Calendar (ada@example.com)".
    """

    kind: SourceKind = "google"

    def __init__(self, settings: Settings, *, refresh_token: str, label: str) -> None:
        self.label = label
        self._events_url = settings.google_calendar_api_url.rstrip("/") + "/calendars/primary/events"
        secret = settings.google_client_secret
        self._credentials = Credentials(  # type: ignore[no-untyped-call]
            token=None,
            refresh_token=refresh_token,
            token_uri=settings.google_token_url,
            client_id=settings.google_client_id,
            client_secret=secret.get_secret_value() if secret is not None else None,
            scopes=[CALENDAR_SCOPE],
        )
        self._session = AuthorizedSession(  # type: ignore[no-untyped-call]
            self._credentials,
            refresh_timeout=REQUEST_TIMEOUT_S,
            auth_request=GoogleAuthRequest(),  # type: ignore[no-untyped-call]
        )
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GoogleCalendarSource(label={self.label!r})"

    @property
    def refresh_token(self) -> str | None:
        """The refresh token in use (Google may hand out a new one on refresh); never log it."""
        token = self._credentials.refresh_token
        return token if isinstance(token, str) else None

    def close(self) -> None:
        """Close the HTTP connections."""
        self._session.close()  # type: ignore[no-untyped-call]

    def fetch(self, start: datetime, end: datetime, tz: tzinfo) -> list[Meeting]:
        """Meetings overlapping ``[start, end)``, sorted by start.

        Cancelled events and events the user declined are left out; recurring series come
        expanded by Google (``singleEvents=true``).

        Args:
            start: Window start (aware).
            end: Window end (aware).
            tz: Zone the meetings (and all-day events) are placed in.

        Raises:
            CalendarAuthError: The grant was revoked or expired, or Google refuses the token.
            CalendarSourceError: Network, timeout, rate limit, server error or a bad answer.
        """
        params: dict[str, str] = {
            "singleEvents": "true",
            "orderBy": "startTime",
            "timeMin": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "timeMax": end.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "maxResults": str(PAGE_SIZE),
        }
        if not self.refresh_token:  # the stored token could not be decrypted (the key changed)
            logger.info("source=<google> | no usable refresh token, reconnect needed")
            raise CalendarAuthError(self.label, RECONNECT_MESSAGE)
        items: list[dict[str, Any]] = []
        with self._lock:
            for _ in range(MAX_PAGES):
                payload = self._get_page(params)
                page_items = payload.get("items")
                if isinstance(page_items, list):
                    items.extend(item for item in page_items if isinstance(item, dict))
                next_token = payload.get("nextPageToken")
                if not isinstance(next_token, str) or not next_token:
                    break
                params["pageToken"] = next_token
            else:
                logger.warning(
                    "source=<google>, pages=<%d>, events=<%d> | more events than fetched, list truncated",
                    MAX_PAGES,
                    len(items),
                )
        meetings: list[Meeting] = []
        for item in items:
            meeting = self._to_meeting(item, tz)
            if meeting is not None and meeting.end > start and meeting.start < end:
                meetings.append(meeting)
        meetings.sort(key=lambda m: (m.start, m.end, m.id))
        logger.info("source=<google>, events=<%d>, meetings=<%d> | google calendar fetched", len(items), len(meetings))
        return meetings

    # --- HTTP ---------------------------------------------------------------------------
    def _get_page(self, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = self._session.get(self._events_url, params=params, timeout=REQUEST_TIMEOUT_S)
        except google.auth.exceptions.RefreshError as e:
            raise self._refresh_failure(e) from e
        except google.auth.exceptions.TransportError as e:
            logger.warning("source=<google>, error=<%s> | token refresh unreachable", type(e).__name__)
            raise CalendarSourceError(self.label, UNREACHABLE_MESSAGE) from e
        except requests.Timeout as e:
            logger.warning("source=<google> | calendar request timed out")
            raise CalendarSourceError(self.label, "Google Calendar took too long to answer. Try again.") from e
        except requests.RequestException as e:
            logger.warning("source=<google>, error=<%s> | calendar request failed", type(e).__name__)
            raise CalendarSourceError(self.label, UNREACHABLE_MESSAGE) from e
        if response.status_code != 200:
            raise self._status_failure(response)
        try:
            payload = response.json()
        except ValueError as e:
            logger.warning("source=<google>, status=<200> | calendar answer is not json")
            raise CalendarSourceError(self.label, BAD_ANSWER_MESSAGE) from e
        if not isinstance(payload, dict):
            raise CalendarSourceError(self.label, BAD_ANSWER_MESSAGE)
        return payload

    def _refresh_failure(self, e: google.auth.exceptions.RefreshError) -> CalendarSourceError:
        data = e.args[1] if len(e.args) > 1 and isinstance(e.args[1], dict) else {}
        error = str(data.get("error") or "")
        if error == "invalid_grant" or (not error and "invalid_grant" in str(e.args[0] if e.args else "")):
            logger.info("source=<google>, error=<invalid_grant> | google calendar grant revoked or expired")
            return CalendarAuthError(self.label, RECONNECT_MESSAGE)
        if error in {"invalid_client", "unauthorized_client"}:
            logger.error("source=<google>, error=<%s> | google refused the oauth client", log_safe(error))
            return CalendarSourceError(self.label, CLIENT_REFUSED_MESSAGE)
        logger.warning("source=<google>, error=<%s> | google calendar token refresh failed", log_safe(error or "?"))
        return CalendarSourceError(self.label, UNAVAILABLE_MESSAGE)

    def _status_failure(self, response: requests.Response) -> CalendarSourceError:
        status = response.status_code
        reasons = _error_reasons(response)
        logger.warning("source=<google>, status=<%d>, reasons=<%s> | calendar request refused", status, reasons)
        if status == 429 or (status == 403 and reasons & _RATE_LIMIT_REASONS):
            return CalendarSourceError(self.label, RATE_LIMITED_MESSAGE)
        if status == 403 and reasons & _API_DISABLED_REASONS:
            return CalendarSourceError(self.label, API_DISABLED_MESSAGE)
        if status in (401, 403):
            return CalendarAuthError(self.label, RECONNECT_MESSAGE)
        if status >= 500:
            return CalendarSourceError(self.label, UNAVAILABLE_MESSAGE)
        return CalendarSourceError(self.label, f"Google Calendar refused the request (HTTP {status}). Try again later.")

    # --- mapping ------------------------------------------------------------------------
    def _to_meeting(self, event: dict[str, Any], tz: tzinfo) -> Meeting | None:
        if event.get("status") == "cancelled":
            return None
        attendees_raw = [a for a in event.get("attendees") or [] if isinstance(a, dict)]
        if any(a.get("self") and a.get("responseStatus") == "declined" for a in attendees_raw):
            return None
        try:
            start, all_day = _when(event.get("start"), tz)
            end, _ = _when(event.get("end"), tz)
        except (TypeError, ValueError, KeyError):
            logger.warning(
                "source=<google>, event=<%s> | event without a usable start or end skipped", _event_ref(event)
            )
            return None
        end = max(end, start)
        event_id = str(event.get("id") or "")
        series = event.get("recurringEventId")
        if isinstance(series, str) and series:
            try:
                original, _ = _when(event.get("originalStartTime"), UTC, naive_dates=True)
            except (TypeError, ValueError, KeyError):
                original = start
            meeting_id = make_meeting_id(series, original)
            series_id: str | None = series_id_for(series)
        elif event_id:
            meeting_id = make_meeting_id(event_id)
            series_id = None
        else:
            logger.warning("source=<google> | event without an id skipped")
            return None
        raw_organizer = event.get("organizer")
        organizer: dict[str, Any] = raw_organizer if isinstance(raw_organizer, dict) else {}
        organizer_email = _text(organizer.get("email"), EMAIL_MAX).lower()
        attendees = [
            attendee
            for raw in attendees_raw
            if not raw.get("self") and not raw.get("resource")
            for attendee in [_attendee(raw, organizer_email)]
            if attendee is not None
        ][:MAX_ATTENDEES]  # as an .ics file's: an invitation of thousands of guests must not fill a prompt
        location = _text(event.get("location"), LOCATION_MAX, one_line=True)
        description = _text(_plain(event.get("description"), DESCRIPTION_MAX), DESCRIPTION_MAX)
        # a Teams invitation accepted into Google: its link is in the description, not conferenceData
        conference_url = _conference_url(event) or conference_url_in(location, description)
        return Meeting(
            id=meeting_id,
            title=_text(event.get("summary"), TITLE_MAX, one_line=True) or "(no title)",
            start=start,
            end=end,
            duration_minutes=int((end - start).total_seconds() // 60),
            attendees=attendees,
            type="meeting",
            location=location,
            description=without_join_block(description),
            series_id=series_id,
            source="google",
            all_day=all_day,
            organizer=(_text(organizer.get("displayName"), NAME_MAX, one_line=True) or organizer_email) or None,
            conference_url=conference_url,
        )


def _event_ref(event: dict[str, Any]) -> str:
    return log_safe(str(event.get("id") or "?"))


def _error_reasons(response: requests.Response) -> set[str]:
    """The ``reason`` values of a Google API error body (``error.errors[].reason``, ``error.details[].reason``)."""
    try:
        body = response.json()
    except ValueError:
        return set()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return set()
    reasons: set[str] = set()
    for key in ("errors", "details"):
        for entry in error.get(key) or []:
            if isinstance(entry, dict) and isinstance(entry.get("reason"), str):
                reasons.add(entry["reason"])
    return reasons


def _when(value: object, tz: tzinfo, *, naive_dates: bool = False) -> tuple[datetime, bool]:
    """An event time (``{"dateTime", "timeZone"}`` or ``{"date"}``) placed in ``tz``.

    Returns:
        The moment and whether it was an all-day date. An all-day date is local midnight in
        ``tz`` (naive midnight when ``naive_dates``, for occurrence ids).
    """
    if not isinstance(value, dict):
        raise TypeError("event time missing")
    if isinstance(value.get("dateTime"), str):
        moment = datetime.fromisoformat(value["dateTime"])
        if moment.tzinfo is None:  # Google always sends an offset; be lenient all the same
            moment = moment.replace(tzinfo=_zone(value.get("timeZone")) or tz)
        return moment.astimezone(tz), False
    day = date.fromisoformat(str(value["date"]))
    if naive_dates:
        return datetime.combine(day, dtime()), True
    return datetime.combine(day, dtime(), tzinfo=tz), True


def _zone(name: object) -> tzinfo | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _plain(value: object, limit: int) -> object:
    """A description Google keeps as HTML (formatted in its editor) as plain text."""
    return html_to_text(value[: limit * 4]) if isinstance(value, str) else value


def _text(value: object, limit: int, *, one_line: bool = False) -> str:
    """Outside text as data: control characters stripped, trimmed, cut to ``limit``."""
    if not isinstance(value, str):
        return ""
    if one_line:
        return clean_display_text(value, limit)
    text = strip_control_chars(value[: limit * 2]).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _attendee(raw: dict[str, Any], organizer_email: str) -> Attendee | None:
    email = _text(raw.get("email"), EMAIL_MAX, one_line=True).lower() or None
    name = _text(raw.get("displayName"), NAME_MAX, one_line=True) or (email or "")[:NAME_MAX]
    if not name:
        return None
    status = raw.get("responseStatus")
    return Attendee(
        name=name,
        email=email,
        response=_RESPONSES.get(status, "unknown") if isinstance(status, str) else None,
        organizer=bool(raw.get("organizer")) or (email is not None and email == organizer_email),
    )


def _conference_url(event: dict[str, Any]) -> str | None:
    candidates: list[object] = [event.get("hangoutLink")]
    conference = event.get("conferenceData")
    if isinstance(conference, dict):
        for entry in conference.get("entryPoints") or []:
            if isinstance(entry, dict) and entry.get("entryPointType") == "video":
                candidates.append(entry.get("uri"))
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.startswith("https://") and len(candidate) <= URL_MAX:
            url = strip_control_chars(candidate).strip()
            if url and not any(c.isspace() for c in url):
                return url
    return None


__all__ = ["GoogleCalendarSource"]
