"""Each user's own budget and big rocks in the SQL database, versioned, and what the tools read.

One ``user_context`` row per (user, kind) holds the rows as JSON and a version. A save names
the version it read (None: "I saw none"), so two tabs editing cannot silently overwrite each
other: the second save raises :class:`ContextConflictError` and writes nothing, on SQLite and
on Postgres alike. A user with no row of a kind gets the demo data from ``data/``, labelled
as such: :func:`budget_for` and :func:`rocks_for` return it with ``is_demo=True``. Every query
is keyed by the user id the caller was signed in as, so one user never reads another's rows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Literal

from pydantic import ValidationError
from sqlalchemy import Engine, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from assistant.context.big_rocks import BigRock, read_rock_entries, rocks_from_entries
from assistant.context.budget import BudgetFile, BudgetStatus, budget_statuses, read_budget_file
from assistant.context.budget_io import BudgetRow, budget_file_of, rows_of_budget_file
from assistant.context.data_files import DataFileError
from assistant.context.meetings import Meeting
from assistant.context.rocks_io import RockRow, big_rocks_of, rows_of_rock_entries
from assistant.db import user_context

logger = logging.getLogger(__name__)

ContextKind = Literal["budget", "big_rocks"]
KINDS: tuple[ContextKind, ...] = ("budget", "big_rocks")
KIND_LABELS: dict[ContextKind, str] = {"budget": "budget", "big_rocks": "big rocks"}
FORMAT = 1
ContextRow = BudgetRow | RockRow


class ContextConflictError(Exception):
    """The stored rows changed since the caller read them (another tab); nothing was saved.

    Attributes:
        kind: Which rows.
        updated_at: When the stored rows last changed (None: they were cleared).
    """

    def __init__(self, kind: ContextKind, updated_at: datetime | None) -> None:
        self.kind = kind
        self.updated_at = updated_at
        super().__init__(self.message(UTC))

    def message(self, zone: tzinfo) -> str:
        """The sentence a page shows, with the time in the reader's zone.

        Args:
            zone: Where the reader is.

        Returns:
            e.g. "Your budget was changed in another tab at 14:05; reload to see it."
        """
        what = KIND_LABELS[self.kind]
        verb = "were" if self.kind == "big_rocks" else "was"
        if self.updated_at is None:
            return f"Your {what} {verb} cleared in another tab; reload to see it."
        when = self.updated_at.astimezone(zone).strftime("%H:%M")
        return f"Your {what} {verb} changed in another tab at {when}; reload to see it."


class ContextDataError(ValueError):
    """A stored row can no longer be read (damaged); the user should save it again or clear it."""


@dataclass(frozen=True)
class StoredContext:
    """One user's saved rows of one kind.

    Attributes:
        user_id: Whose rows.
        kind: ``"budget"`` or ``"big_rocks"``.
        rows: The rows (:class:`BudgetRow` for a budget, :class:`RockRow` for big rocks).
        version: The stored version; pass it to :meth:`ContextStore.save` to save over it.
        updated_at: When they were saved (aware, UTC).
    """

    user_id: str
    kind: ContextKind
    rows: tuple[ContextRow, ...]
    version: int
    updated_at: datetime

    def budget_rows(self) -> list[BudgetRow]:
        """The rows of a budget (empty for big rocks)."""
        return [r for r in self.rows if isinstance(r, BudgetRow)]

    def rock_rows(self) -> list[RockRow]:
        """The rows of big rocks (empty for a budget)."""
        return [r for r in self.rows if isinstance(r, RockRow)]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _check_kind(kind: ContextKind) -> ContextKind:
    if kind not in KINDS:
        raise ValueError(f"Unknown context kind '{kind}'; use budget or big_rocks.")
    return kind


def _encode(kind: ContextKind, rows: Sequence[ContextRow]) -> str:
    model = BudgetRow if kind == "budget" else RockRow
    if not rows:
        raise ValueError(f"Nothing to save: the {KIND_LABELS[kind]} have no rows.")
    if not all(isinstance(r, model) for r in rows):
        raise TypeError(f"{kind} rows must all be {model.__name__}.")
    return json.dumps({"format": FORMAT, "rows": [r.model_dump(mode="json") for r in rows]}, ensure_ascii=False)


def _decode(user_id: str, kind: ContextKind, data_json: str) -> tuple[ContextRow, ...]:
    model: type[BudgetRow] | type[RockRow] = BudgetRow if kind == "budget" else RockRow
    try:
        raw = json.loads(data_json)
        return tuple(model.model_validate(item) for item in raw["rows"])
    except (ValueError, KeyError, TypeError, ValidationError) as e:
        logger.error("user_id=<%s>, kind=<%s>, error=<%s> | stored context unreadable", user_id, kind, e)
        raise ContextDataError(
            f"Your saved {KIND_LABELS[kind]} could not be read; save them again or clear them."
        ) from e


class ContextStore:
    """Each user's budget and big rocks, versioned (SQLite or Postgres).

    Args:
        engine: The app database, migrated (``user_context`` table).
        clock: Returns the current aware time (injected in tests).
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    def _now(self) -> datetime:
        return self._clock()

    def get(self, user_id: str, kind: ContextKind) -> StoredContext | None:
        """The user's saved rows of ``kind``, or None when they have none (the demo data applies).

        Args:
            user_id: The signed-in user.
            kind: ``"budget"`` or ``"big_rocks"``.

        Returns:
            The stored rows with their version, or None.

        Raises:
            ContextDataError: If the stored rows cannot be read.
        """
        kind = _check_kind(kind)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(user_context.c.data_json, user_context.c.version, user_context.c.updated_at).where(
                    user_context.c.user_id == user_id, user_context.c.kind == kind
                )
            ).first()
        if row is None:
            return None
        return StoredContext(
            user_id=user_id,
            kind=kind,
            rows=_decode(user_id, kind, row.data_json),
            version=int(row.version),
            updated_at=_aware(row.updated_at),
        )

    def _stored_at(self, user_id: str, kind: ContextKind) -> datetime | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(user_context.c.updated_at).where(user_context.c.user_id == user_id, user_context.c.kind == kind)
            ).scalar()
        return _aware(value) if value is not None else None

    def save(
        self, user_id: str, kind: ContextKind, rows: Sequence[ContextRow], expected_version: int | None
    ) -> StoredContext:
        """Save the user's rows of ``kind`` over the version they read.

        Args:
            user_id: The signed-in user.
            kind: ``"budget"`` or ``"big_rocks"``.
            rows: The validated rows (at least one; :class:`BudgetRow` or :class:`RockRow`).
            expected_version: The version the caller read, or None when it saw none.

        Returns:
            What is now stored (version one higher, or 1 for a first save).

        Raises:
            ContextConflictError: The stored version is not ``expected_version`` (another tab
                saved or cleared); nothing was saved.
            ValueError: ``rows`` is empty or of the wrong kind (a programming error).
        """
        kind = _check_kind(kind)
        data_json = _encode(kind, rows)
        now = self._now()
        if expected_version is None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(user_context).values(
                            user_id=user_id, kind=kind, data_json=data_json, version=1, updated_at=now
                        )
                    )
            except IntegrityError as e:
                logger.info("user_id=<%s>, kind=<%s>, version=<none> | context save lost a race", user_id, kind)
                raise ContextConflictError(kind, self._stored_at(user_id, kind)) from e
            version = 1
        else:
            version = expected_version + 1
            with self.engine.begin() as conn:
                changed = conn.execute(
                    update(user_context)
                    .where(
                        and_(
                            user_context.c.user_id == user_id,
                            user_context.c.kind == kind,
                            user_context.c.version == expected_version,
                        )
                    )
                    .values(data_json=data_json, version=version, updated_at=now)
                ).rowcount
            if changed != 1:
                logger.info(
                    "user_id=<%s>, kind=<%s>, version=<%s> | context save lost a race", user_id, kind, expected_version
                )
                raise ContextConflictError(kind, self._stored_at(user_id, kind))
        logger.info("user_id=<%s>, kind=<%s>, version=<%s> | saving context", user_id, kind, version)
        return StoredContext(user_id=user_id, kind=kind, rows=tuple(rows), version=version, updated_at=now)

    def clear(self, user_id: str, kind: ContextKind, expected_version: int | None = None) -> bool:
        """Delete the user's rows of ``kind`` (the demo data applies again).

        Args:
            user_id: The signed-in user.
            kind: ``"budget"`` or ``"big_rocks"``.
            expected_version: When given, clear only that version (a stale tab gets a conflict).

        Returns:
            Whether there was something to delete.

        Raises:
            ContextConflictError: ``expected_version`` is given and is not the stored version.
        """
        kind = _check_kind(kind)
        where = [user_context.c.user_id == user_id, user_context.c.kind == kind]
        if expected_version is not None:
            where.append(user_context.c.version == expected_version)
        with self.engine.begin() as conn:
            deleted = conn.execute(delete(user_context).where(*where)).rowcount
        if expected_version is not None and deleted != 1:
            raise ContextConflictError(kind, self._stored_at(user_id, kind))
        logger.info("user_id=<%s>, kind=<%s>, deleted=<%s> | clearing context", user_id, kind, deleted)
        return bool(deleted)

    def _overwrite(self, user_id: str, kind: ContextKind, rows: Sequence[ContextRow]) -> StoredContext:
        """Save ``rows`` whatever is stored (a deliberate replace, e.g. Load demo data)."""
        for _ in range(5):
            current = self.get_version(user_id, kind)
            try:
                return self.save(user_id, kind, rows, current)
            except ContextConflictError:
                continue
        raise ContextConflictError(kind, self._stored_at(user_id, kind))

    def get_version(self, user_id: str, kind: ContextKind) -> int | None:
        """The stored version of the user's rows of ``kind``, or None (without reading the rows)."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(user_context.c.version).where(user_context.c.user_id == user_id, user_context.c.kind == kind)
            ).scalar()
        return int(value) if value is not None else None

    def load_demo(self, user_id: str, data_dir: Path, today: date) -> dict[ContextKind, StoredContext]:
        """Replace the user's budget and big rocks with the demo data, dates made absolute.

        Args:
            user_id: The signed-in user.
            data_dir: Folder holding ``budget.toml`` and ``big_rocks.toml``.
            today: The day the demo's relative dates count from.

        Returns:
            What is now stored, by kind.

        Raises:
            DataFileError: A demo file is missing or malformed (nothing was saved).
        """

        budget = rows_of_budget_file(read_budget_file(data_dir))
        rocks = rows_of_rock_entries(read_rock_entries(data_dir), today)
        logger.info("user_id=<%s>, areas=<%s>, rocks=<%s> | loading demo context", user_id, len(budget), len(rocks))
        return {
            "budget": self._overwrite(user_id, "budget", budget),
            "big_rocks": self._overwrite(user_id, "big_rocks", rocks),
        }


def budget_for(engine: Engine, user_id: str, data_dir: Path) -> tuple[BudgetFile, bool]:
    """The budget the tools read for ``user_id``: their own, else the demo file.

    A user's budget takes the currency and flag thresholds of the deployment's
    ``budget.toml`` when it is readable (defaults otherwise).

    Args:
        engine: The app database.
        user_id: The signed-in user (bound server-side; never from the model).
        data_dir: Folder holding the demo ``budget.toml``.

    Returns:
        ``(budget, is_demo)``.

    Raises:
        ContextDataError: The user's stored budget cannot be read.
        DataFileError: The user has no budget and the demo file is missing or malformed.
    """

    stored = ContextStore(engine).get(user_id, "budget")
    if stored is None:
        return read_budget_file(data_dir), True
    try:
        demo = read_budget_file(data_dir)
        currency, thresholds = demo.currency, demo.thresholds
    except DataFileError:
        currency, thresholds = "USD", None
    return budget_file_of(stored.budget_rows(), currency=currency, thresholds=thresholds), False


def rocks_for(engine: Engine, user_id: str, data_dir: Path, today: date) -> tuple[list[BigRock], bool]:
    """The big rocks the tools read for ``user_id``: their own, else the demo file's.

    Args:
        engine: The app database.
        user_id: The signed-in user (bound server-side; never from the model).
        data_dir: Folder holding the demo ``big_rocks.toml``.
        today: The user's today (what is overdue; where the demo's relative dates land).

    Returns:
        ``(rocks, is_demo)``.

    Raises:
        ContextDataError: The user's stored rocks cannot be read.
        DataFileError: The user has no rocks and the demo file is missing or malformed.
    """

    stored = ContextStore(engine).get(user_id, "big_rocks")
    if stored is None:
        return rocks_from_entries(read_rock_entries(data_dir), today), True
    return big_rocks_of(stored.rock_rows(), today), False


def agenda_context_for(
    engine: Engine, user_id: str, data_dir: Path, today: date, meeting: Meeting
) -> tuple[list[BudgetStatus], list[BigRock]]:
    """The budget areas and big rocks an agenda for ``meeting`` may bring up.

    The user's own; the demo's only for a meeting of the demo calendar: the demo company's figures
    in the agenda of the executive's own 1:1 ("Budget variance: Marketing (Rachel Kim (CMO))")
    read as theirs.

    Args:
        engine: The app database.
        user_id: The signed-in user.
        data_dir: Folder holding the demo files.
        today: The user's today.
        meeting: The meeting the agenda is for.

    Returns:
        ``(budget areas, big rocks)``, either empty when only the demo's would do.
    """
    own_meeting = meeting.source != "demo"
    budget_file, budget_is_demo = budget_for(engine, user_id, data_dir)
    rocks, rocks_are_demo = rocks_for(engine, user_id, data_dir, today)
    budget = [] if own_meeting and budget_is_demo else budget_statuses(budget_file)
    return budget, [] if own_meeting and rocks_are_demo else rocks
