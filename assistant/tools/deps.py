"""What the meeting tools need from the outside world, and the shared data-file reader.

Tools are built per agent as closures over a :class:`ToolDeps`, so tests and the chat
page can inject a data folder, a database engine, a user and a fixed clock.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine

if TYPE_CHECKING:
    from assistant.context.calendar import CalendarService, CalendarView
    from assistant.context.meetings import Meeting

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    """Current time as an aware UTC datetime (the default clock of :class:`ToolDeps`)."""
    return datetime.now(UTC)


class DataFileError(ValueError):
    """A demo data file is missing or malformed; the message names the file and the problem.

    It is a ``ValueError`` so that a strands tool raising it returns an error result the
    model can read instead of failing the turn.
    """


@dataclass(frozen=True)
class ToolDeps:
    """Dependencies shared by every tool of one agent.

    Attributes:
        data_dir: Folder holding ``calendar.toml``, ``budget.toml`` and ``big_rocks.toml``.
        engine: SQLAlchemy engine of the app database (``prep_responses`` table).
        user_id: The signed-in user; prep notes are scoped to it.
        session_id: The chat session, recorded with saved prep notes.
        now: Clock returning an aware datetime; injected so tests are deterministic.
        default_tz: Time zone used to place ``HH:MM`` calendar times and to display times when
            ``zone_of`` gives none.
        calendar: The user's calendar (connected source or demo); None reads the demo file
            in ``data_dir`` directly.
        user_email: The user's email (its domain is "internal" for meeting types and cost).
        zone_of: The user's current zone (their browser's), read at every tool call.
    """

    data_dir: Path
    engine: Engine
    user_id: str
    session_id: str | None = None
    now: Callable[[], datetime] = field(default=utc_now)
    default_tz: tzinfo = UTC
    calendar: CalendarService | None = None
    user_email: str | None = None
    zone_of: Callable[[], tzinfo | None] | None = None

    @property
    def tz(self) -> tzinfo:
        """The user's zone as their browser last reported it (``zone_of``), else ``default_tz``."""
        zone = self.zone_of() if self.zone_of is not None else None
        return zone or self.default_tz

    def local_now(self) -> datetime:
        """The injected clock's current time, expressed in :attr:`tz`.

        Raises:
            ValueError: If the clock returns a naive datetime.
        """
        current = self.now()
        if current.tzinfo is None:
            raise ValueError("The clock returned a naive datetime; it must be timezone-aware.")
        return current.astimezone(self.tz)

    def calendar_view(self, days_ahead: int) -> CalendarView:
        """The user's meetings from now until ``days_ahead`` days ahead, with their source."""
        from assistant.context.calendar import DEMO_LABEL, CalendarView
        from assistant.tools.calendar import upcoming_meetings

        if self.calendar is not None:
            return self.calendar.view(self.user_id, days_ahead=days_ahead, tz=self.tz, now=self.now())
        meetings = upcoming_meetings(self.data_dir, self.local_now(), days_ahead, tz=self.tz)
        return CalendarView(meetings=meetings, kind="demo", label=DEMO_LABEL)

    def with_types(self, meetings: list[Meeting]) -> list[Meeting]:
        """The meetings with ``type`` set to their effective type's label (the user's override, else the rules)."""
        from assistant.context.classify import effective_type, load_meeting_types, overrides

        settings = self.calendar.settings if self.calendar is not None else None
        path = (
            settings.resolved_meeting_types_file if settings is not None else Path(self.data_dir) / "meeting_types.toml"
        )
        if not meetings or not path.exists():
            return meetings
        types = load_meeting_types(path)
        chosen = overrides(self.engine, self.user_id)
        domains = settings.internal_domains if settings is not None else []
        out = []
        for meeting in meetings:
            type_id = effective_type(meeting, chosen, user_email=self.user_email, internal_domains=domains, rules=types)
            out.append(meeting.model_copy(update={"type": types.label(type_id)}))
        return out

    def find_meeting(self, meeting_id: str) -> Meeting:
        """The user's meeting with this id.

        Raises:
            ValueError: No such meeting (the message lists valid ids).
        """
        from assistant.tools.calendar import find_meeting

        if self.calendar is not None:
            return self.calendar.find(self.user_id, meeting_id, tz=self.tz, now=self.now())
        return find_meeting(self.data_dir, self.local_now(), meeting_id, tz=self.tz)


def read_data_file(data_dir: Path, name: str) -> dict[str, Any]:
    """Read and parse one TOML data file.

    Args:
        data_dir: Folder holding the data files.
        name: File name, e.g. ``"calendar.toml"``.

    Returns:
        The parsed TOML document.

    Raises:
        DataFileError: If the file is missing, unreadable or not valid TOML.
    """
    path = Path(data_dir) / name
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as e:
        raise DataFileError(f"Data file {path} is missing; restore it from the repository's data/ folder.") from e
    except tomllib.TOMLDecodeError as e:
        raise DataFileError(f"Data file {path} is not valid TOML: {e}.") from e
    except OSError as e:
        raise DataFileError(f"Data file {path} cannot be read: {e.strerror or e}.") from e


EntryModel = TypeVar("EntryModel", bound=BaseModel)


def read_table_list(data_dir: Path, name: str, key: str, model: type[EntryModel]) -> list[EntryModel]:
    """Read the ``[[key]]`` tables of one TOML data file, each validated as ``model``.

    Args:
        data_dir: Folder holding the data files.
        name: File name, e.g. ``"calendar.toml"``.
        key: The array-of-tables name, e.g. ``"meetings"``.
        model: The pydantic model of one entry.

    Returns:
        The entries, in file order (none when the file has no ``key``).

    Raises:
        DataFileError: If the file is missing or malformed (the message names the entry, ``key.<index>``).
    """
    path = Path(data_dir) / name
    raw = read_data_file(data_dir, name)
    items = raw.get(key, [])
    if not isinstance(items, list):
        raise DataFileError(f"Data file {path} is malformed: '{key}' must be a list of [[{key}]] tables.")
    entries = []
    for index, item in enumerate(items):
        try:
            entries.append(model.model_validate(item))
        except ValidationError as e:
            raise DataFileError(describe_validation_error(path, e, where=f"{key}.{index}")) from e
    return entries


def describe_validation_error(path: Path, error: Exception, where: str = "") -> str:
    """Turn a pydantic validation error into one readable sentence naming the file.

    Args:
        path: The data file that failed validation.
        error: The pydantic ``ValidationError``.
        where: Location prefix such as ``"meetings.2"`` for an entry validated on its own.

    Returns:
        A message such as ``"Data file x.toml is malformed: meetings.0.start: ..."``.
    """
    errors = getattr(error, "errors", None)
    if callable(errors):
        parts = []
        for item in errors()[:3]:
            loc = ".".join([where] * bool(where) + [str(p) for p in item.get("loc", ())])
            parts.append(f"{loc}: {item.get('msg', 'invalid value')}" if loc else str(item.get("msg")))
        detail = "; ".join(parts)
    else:
        detail = f"{where}: {error}" if where else str(error)
    return f"Data file {path} is malformed: {detail}."
