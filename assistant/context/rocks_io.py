"""A user's big rocks as rows: checked from the page's editable table, and turned into the tools' rocks.

A row is what the user edits: name, owner, status, % complete, the next milestone and its due
date, the rock's target date, and risks (one per line); its summary goes along unseen.
:func:`validate_rock_rows` checks the table's records (a ``DataFrame``'s ``to_dict("records")``
or plain dicts) row by row and raises one :class:`~assistant.context.row_checks.ContextInputError`
listing every problem.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from assistant.context.big_rocks import BigRock, Milestone, RockEntry, rocks_from_entries
from assistant.context.row_checks import ContextInputError, Problem, clean_text, is_blank, shorten, slugify

logger = logging.getLogger(__name__)

MAX_ROCKS = 100
NAME_CHARS = 200
OWNER_CHARS = 120
MILESTONE_CHARS = 200
RISKS_CHARS = 2000
SUMMARY_CHARS = 2000
MAX_RISKS = 20
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)

RockStatus = Literal["on_track", "at_risk", "off_track"]  # the same as assistant.context.big_rocks.RockStatus
STATUSES: tuple[str, ...] = get_args(RockStatus)
STATUS_LABELS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track"}
COLUMNS = (
    "name",
    "owner",
    "status",
    "progress_pct",
    "next_milestone",
    "due_date",
    "target_date",
    "risks",
    "summary",
    "id",
)
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
"""A rock id as the demo files write them (and :func:`slugify` makes them)."""
# The page's headers for COLUMNS: a problem names the column as the table shows it ("column
# Complete", not "column progress_pct").
HEADERS = {
    "name": "Initiative",
    "owner": "Owner",
    "status": "Status",
    "progress_pct": "Complete",
    "next_milestone": "Next milestone",
    "due_date": "Milestone due",
    "target_date": "Target",
    "risks": "Risks",
    "summary": "Summary",
}
_STATUS_CHOICES = ", ".join(STATUS_LABELS.values())
# The marker a list pasted from Word or a slide starts a risk with: bullets and dashes, Word's
# second-level "o" before a tab, "1.", "2)", "(3)", "a)". Kept, "1.\tVendor delay" was the risk.
_LIST_MARKER = re.compile(r"^\s*(?:[-–—•◦▪▫●○■□·*‣⁃]+\s*|o\t\s*|\(?\d{1,3}[.)]\s+|\(?[a-zA-Z]\)\s+)")


class RockRow(BaseModel):
    """One big rock as the user edits it.

    Attributes:
        name: The initiative, unique within the user's rocks.
        owner: Who owns it (free text).
        status: ``on_track``, ``at_risk`` or ``off_track``.
        progress_pct: Percent complete, 0-100.
        next_milestone: The next milestone's name ("" when none).
        due_date: When the next milestone is due, if known (a row saved before target_date
            existed held the rock's date here when no milestone was left).
        target_date: When the rock itself is due, if known; when not, its next milestone's date.
        risks: Open risks, one per entry.
        summary: What the rock is about (the demo file's summary), kept as it came.
        id: The demo file's id of the rock, kept as it came (unseen): the demo calendar's
            meetings name their rocks by it. "" for a rock the user added (its id is made from
            its name).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=NAME_CHARS)
    owner: str = Field(default="", max_length=OWNER_CHARS)
    status: RockStatus
    progress_pct: int = Field(ge=0, le=100)
    next_milestone: str = Field(default="", max_length=MILESTONE_CHARS)
    due_date: date | None = None
    target_date: date | None = None
    risks: list[str] = Field(default_factory=list, max_length=MAX_RISKS)
    summary: str = Field(default="", max_length=SUMMARY_CHARS)
    id: str = Field(default="", pattern=f"^(?:{_ID.pattern})?$")

    def to_editor(self) -> dict[str, Any]:
        """The row as the page's table holds it (risks as lines of one text cell)."""
        return {
            "name": self.name,
            "owner": self.owner,
            "status": self.status,
            "progress_pct": self.progress_pct,
            "next_milestone": self.next_milestone,
            "due_date": self.due_date,
            "target_date": self.target_date,
            "risks": "\n".join(self.risks),
            "summary": self.summary,
            "id": self.id,
        }


def _status(value: Any, row: int, problems: list[Problem]) -> str | None:
    if is_blank(value):
        problems.append(Problem(row, "status", f"is empty; choose one of {_STATUS_CHOICES}"))
        return None
    text = "_".join(str(value).strip().lower().replace("-", " ").split())
    if text not in STATUSES:
        problems.append(Problem(row, "status", f"'{shorten(str(value))}' is not one of {_STATUS_CHOICES}"))
        return None
    return text


def _progress(value: Any, row: int, problems: list[Problem]) -> int | None:
    if is_blank(value):
        problems.append(Problem(row, "progress_pct", "is empty; give a percent from 0 to 100"))
        return None
    if isinstance(value, bool):
        number: float | None = None
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(str(value).strip().rstrip("%").strip())
        except ValueError:
            number = None
    if number is None or not number.is_integer() or not 0 <= number <= 100:
        problems.append(Problem(row, "progress_pct", f"'{shorten(str(value))}' is not a whole percent from 0 to 100"))
        return None
    return int(number)


def _due(value: Any, row: int, problems: list[Problem], column: str = "due_date") -> date | None:
    if is_blank(value):
        return None
    day: date | None = None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            day = None
    if day is None:
        problems.append(Problem(row, column, f"'{shorten(str(value))}' is not a date (write it as 2026-03-31)"))
        return None
    if not EARLIEST <= day <= LATEST:
        problems.append(Problem(row, column, f"{day.isoformat()} is out of range (2000-2100)"))
        return None
    return day


def validate_rock_rows(records: Sequence[Mapping[str, Any]]) -> list[RockRow]:
    """Check the page's big-rocks table row by row.

    Rows left entirely empty (a row added and never filled) are skipped. Row numbers in
    problems count from 1, as the table shows them.

    Args:
        records: One mapping per table row, keyed by :data:`COLUMNS` (missing keys are empty).

    Returns:
        The rows, in table order.

    Raises:
        ContextInputError: If any row has a problem, there is no rock, or more than :data:`MAX_ROCKS`.
    """
    problems: list[Problem] = []
    rows: list[RockRow] = []
    seen: dict[str, int] = {}
    ids: set[str] = set()  # the unseen ids kept so far (a copied row does not keep its twin's)
    filled = 0
    for number, record in enumerate(records, start=1):
        if all(is_blank(record.get(c)) for c in COLUMNS if c != "id"):  # the unseen id alone is no row
            continue
        filled += 1
        if filled > MAX_ROCKS:
            raise ContextInputError.single(f"There are more than {MAX_ROCKS} rocks; keep the ones that matter most.")
        before = len(problems)
        name = clean_text(record.get("name"), limit=NAME_CHARS, column="name", row=number, problems=problems)
        if not name and len(problems) == before:
            problems.append(Problem(number, "name", "is empty; every rock needs a name"))
        owner = clean_text(record.get("owner"), limit=OWNER_CHARS, column="owner", row=number, problems=problems)
        status = _status(record.get("status"), number, problems)
        progress = _progress(record.get("progress_pct"), number, problems)
        milestone = clean_text(
            record.get("next_milestone"), limit=MILESTONE_CHARS, column="next_milestone", row=number, problems=problems
        )
        due = _due(record.get("due_date"), number, problems)
        target = _due(record.get("target_date"), number, problems, "target_date")
        summary = clean_text(
            record.get("summary"), limit=SUMMARY_CHARS, column="summary", row=number, problems=problems, multiline=True
        )
        risks_text = clean_text(
            record.get("risks"), limit=RISKS_CHARS, column="risks", row=number, problems=problems, multiline=True
        )
        risks = [risk for line in risks_text.split("\n") if (risk := _LIST_MARKER.sub("", line).strip())]
        if len(risks) > MAX_RISKS:
            problems.append(Problem(number, "risks", f"has {len(risks)} lines; at most {MAX_RISKS} risks per rock"))
        key = name.lower()
        if name and key in seen:
            problems.append(Problem(number, "name", f"'{shorten(name)}' is already on row {seen[key]}; each rock once"))
        elif name:
            seen[key] = number
        if len(problems) == before and status is not None and progress is not None:
            rows.append(
                RockRow(
                    name=name,
                    owner=owner,
                    status=status,  # type: ignore[arg-type]  # checked against STATUSES above
                    progress_pct=progress,
                    next_milestone=milestone,
                    due_date=due,
                    target_date=target,
                    risks=risks,
                    summary=summary,
                    id=_kept_id(record.get("id"), ids),
                )
            )
    if problems:
        raise ContextInputError([replace(p, column=HEADERS.get(p.column or "", p.column)) for p in problems])
    if not rows:
        raise ContextInputError.single("Add at least one rock before saving, or use Clear to go back to the demo data.")
    return rows


def _kept_id(value: Any, ids: set[str]) -> str:
    """A row's unseen id, kept when it is one and no earlier row has it ("" otherwise: made from the name)."""
    text = "" if is_blank(value) else str(value)
    if not _ID.fullmatch(text) or text in ids:
        return ""
    ids.add(text)
    return text


def big_rocks_of(rows: Sequence[RockRow], today: date) -> list[BigRock]:
    """A user's rows as the :class:`BigRock` objects the tools read.

    A row's milestone is the rock's one milestone; one without a due date is told in the
    summary instead. A rock without a target date of its own is due with that milestone.

    Args:
        rows: The user's rows.
        today: The day that decides what is overdue.

    Returns:
        The rocks, in order: a demo rock with the demo file's id, the others with ids made
        from their names.
    """

    taken: set[str] = {r.id for r in rows if r.id}
    rocks = []
    for r in rows:
        milestones: list[Milestone] = []
        summary = r.summary
        if r.next_milestone and r.due_date is not None:
            milestones.append(Milestone(name=r.next_milestone, due=r.due_date, done=False, overdue=r.due_date < today))
        elif r.next_milestone:
            summary = f"{summary} Next milestone: {r.next_milestone} (no due date).".strip()
        rocks.append(
            BigRock(
                id=r.id or slugify(r.name, taken),
                name=r.name,
                owner=r.owner,
                status=r.status,
                progress_pct=r.progress_pct,
                target_date=r.target_date or r.due_date,
                summary=summary,
                risks=list(r.risks),
                milestones=milestones,
            )
        )
    return rocks


def rows_of_rock_entries(entries: Sequence[RockEntry], today: date) -> list[RockRow]:
    """The demo file's rocks as rows a user can edit, with absolute dates.

    Each row keeps the earliest milestone not done yet and its due date, the rock's target date
    and its summary: saved unchanged, the rocks read as the demo's did. Done milestones are
    left out (a row holds one milestone).

    Args:
        entries: The ``[[rocks]]`` of ``big_rocks.toml``.
        today: The day relative dates count from.

    Returns:
        One row per rock, in file order.
    """

    rows = []
    for rock in rocks_from_entries(list(entries), today):
        nxt = rock.next_milestone()
        rows.append(
            RockRow(
                name=rock.name,
                owner=rock.owner,
                status=rock.status,
                progress_pct=rock.progress_pct,
                next_milestone=nxt.name if nxt else "",
                due_date=nxt.due if nxt else None,
                target_date=rock.target_date,
                risks=list(rock.risks)[:MAX_RISKS],
                summary=rock.summary[:SUMMARY_CHARS],
                id=rock.id if _ID.fullmatch(rock.id) else "",
            )
        )
    return rows
