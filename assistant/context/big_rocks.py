"""Strategic initiatives ("big rocks") from ``big_rocks.toml``, with dates relative to today."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.context.data_files import DataFileError, read_table_list, some_of

logger = logging.getLogger(__name__)

BIG_ROCKS_FILE = "big_rocks.toml"

RockStatus = Literal["on_track", "at_risk", "off_track"]


class MilestoneEntry(BaseModel):
    """A milestone as written in the file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    due_in_days: int = Field(ge=-3650, le=3650)
    done: bool = False


class RockEntry(BaseModel):
    """One ``[[rocks]]`` entry as written in the file."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    owner: str = Field(default="", max_length=120)
    status: RockStatus
    progress_pct: int = Field(ge=0, le=100)
    target_in_days: int | None = Field(default=None, ge=-3650, le=3650)
    summary: str = Field(default="", max_length=2000)
    risks: list[str] = Field(default_factory=list)
    milestones: list[MilestoneEntry] = Field(default_factory=list)


class Milestone(BaseModel):
    """A milestone with its real due date."""

    name: str
    due: date
    done: bool
    overdue: bool


class BigRock(BaseModel):
    """A strategic initiative with real dates."""

    id: str
    name: str
    owner: str
    status: RockStatus
    progress_pct: int
    target_date: date | None
    summary: str
    risks: list[str]
    milestones: list[Milestone]

    @property
    def needs_attention(self) -> bool:
        """Whether the rock is at risk, off track, or has an overdue milestone."""
        return self.status != "on_track" or any(m.overdue for m in self.milestones)

    def next_milestone(self) -> Milestone | None:
        """The earliest milestone not done yet."""
        pending = [m for m in self.milestones if not m.done]
        return min(pending, key=lambda m: m.due) if pending else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict for tool results."""
        data = self.model_dump(mode="json")
        data["needs_attention"] = self.needs_attention
        nxt = self.next_milestone()
        data["next_milestone"] = nxt.model_dump(mode="json") if nxt else None
        return data


def rocks_from_entries(entries: list[RockEntry], today: date) -> list[BigRock]:
    """Rocks as written in ``big_rocks.toml`` placed on the calendar relative to ``today``.

    Args:
        entries: The file's entries.
        today: The day ``due_in_days`` / ``target_in_days`` count from.

    Returns:
        The rocks with real dates, in order.
    """
    rocks = []
    for entry in entries:
        milestones = []
        for m in entry.milestones:
            due = today + timedelta(days=m.due_in_days)
            milestones.append(Milestone(name=m.name, due=due, done=m.done, overdue=not m.done and due < today))
        rocks.append(
            BigRock(
                id=entry.id,
                name=entry.name,
                owner=entry.owner,
                status=entry.status,
                progress_pct=entry.progress_pct,
                target_date=today + timedelta(days=entry.target_in_days) if entry.target_in_days is not None else None,
                summary=entry.summary,
                risks=entry.risks,
                milestones=milestones,
            )
        )
    return rocks


def read_rock_entries(data_dir: Path) -> list[RockEntry]:
    """The ``[[rocks]]`` entries of ``big_rocks.toml``, validated, in file order.

    Args:
        data_dir: Folder holding ``big_rocks.toml``.

    Returns:
        The entries (dates still relative).

    Raises:
        DataFileError: If the file is missing or malformed, or ids are duplicated.
    """
    path = Path(data_dir) / BIG_ROCKS_FILE
    entries = read_table_list(data_dir, BIG_ROCKS_FILE, "rocks", RockEntry)
    if len({e.id for e in entries}) != len(entries):
        raise DataFileError(f"Data file {path} is malformed: rock ids must be unique.")
    return entries


def load_big_rocks(data_dir: Path, now: datetime) -> list[BigRock]:
    """Every big rock of ``big_rocks.toml``, in file order, with dates placed relative to ``now``.

    Args:
        data_dir: Folder holding ``big_rocks.toml``.
        now: Current time.

    Returns:
        The rocks.

    Raises:
        DataFileError: If the file is missing or malformed, or ids are duplicated.
    """
    return rocks_from_entries(read_rock_entries(data_dir), now.date())


def big_rocks_status_of(rocks: list[BigRock], initiative: str | None = None) -> list[BigRock]:
    """Already-loaded rocks (the demo file's or a user's own) matching ``initiative``, or all of them.

    Args:
        rocks: The rocks to search.
        initiative: Optional id or name fragment (case-insensitive); every word must appear
            in the id, name or owner.

    Returns:
        The matching rocks.

    Raises:
        ValueError: If ``initiative`` matches nothing (the message lists the known ones).
    """
    if not initiative or not initiative.strip():
        return rocks
    needle = initiative.strip().lower()
    exact = [r for r in rocks if r.id == needle or r.name.lower() == needle]
    if exact:
        return exact
    words = needle.split()
    matches = [r for r in rocks if all(w in f"{r.id} {r.name} {r.owner}".lower() for w in words)]
    if not matches:
        known = some_of([f"{r.id} ({r.name})" for r in rocks])
        raise ValueError(f"No big rock matches '{initiative}'. Known initiatives: {known}.")
    return matches


def big_rocks_status(data_dir: Path, now: datetime, initiative: str | None = None) -> list[BigRock]:
    """Big rocks matching ``initiative`` (id or words of the name/owner), or all of them.

    Args:
        data_dir: Folder holding ``big_rocks.toml``.
        now: Current time.
        initiative: Optional id or name fragment (case-insensitive).

    Returns:
        The matching rocks.

    Raises:
        ValueError: If ``initiative`` matches nothing (the message lists the known ones).
        DataFileError: If the file is missing or malformed.
    """
    return big_rocks_status_of(load_big_rocks(data_dir, now), initiative)
