"""Budget context from ``budget.toml``: utilisation, forecast variance and flags.

Figures in the file are year-to-date amounts with the plan to date next to them, so the
flags do not drift as the calendar moves (the demo never goes stale).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.context.data_files import DataFileError, describe_validation_error, read_data_file, some_of

logger = logging.getLogger(__name__)

BUDGET_FILE = "budget.toml"


class BudgetThresholds(BaseModel):
    """When an area gets flagged (editable in ``budget.toml`` under ``[thresholds]``)."""

    model_config = ConfigDict(extra="forbid")

    over_budget_pct: float = Field(default=2.0, ge=0)
    ahead_of_plan_pct: float = Field(default=5.0, ge=0)
    underspend_pct: float = Field(default=10.0, ge=0)


class BudgetArea(BaseModel):
    """One ``[[areas]]`` entry of ``budget.toml``."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=120)
    owner: str = Field(default="", max_length=120)
    annual_budget: float = Field(gt=0)
    spent_ytd: float = Field(ge=0)
    plan_ytd: float | None = Field(default=None, gt=0)
    forecast: float = Field(ge=0)
    notes: str = Field(default="", max_length=2000)


class BudgetFile(BaseModel):
    """The whole of ``budget.toml``."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field(default="USD", max_length=8)
    fiscal_year: str = Field(default="", max_length=20)
    thresholds: BudgetThresholds = Field(default_factory=BudgetThresholds)
    areas: list[BudgetArea] = Field(min_length=1)


class BudgetStatus(BaseModel):
    """An area with the computed figures."""

    id: str
    name: str
    owner: str
    currency: str
    annual_budget: float
    spent_ytd: float
    plan_ytd: float | None
    forecast: float
    remaining: float
    utilisation_pct: float
    ytd_vs_plan_pct: float | None
    forecast_variance: float
    forecast_variance_pct: float
    flags: list[str]
    needs_attention: bool
    notes: str

    def headline(self) -> str:
        """One line such as ``Engineering: 64.3% used, forecast +5.9% vs budget (over budget)``."""
        flags = f" ({', '.join(flag.replace('_', ' ') for flag in self.flags)})" if self.flags else ""
        return (
            f"{self.name}: {self.utilisation_pct:.1f}% used, forecast "
            f"{self.forecast_variance_pct:+.1f}% vs budget{flags}"
        )


def compute_status(area: BudgetArea, *, currency: str, thresholds: BudgetThresholds) -> BudgetStatus:
    """Compute utilisation, variance and flags for one area.

    Args:
        area: The area as written in the file.
        currency: Currency code of the file.
        thresholds: Flag thresholds.

    Returns:
        The area with its computed figures.
    """
    utilisation = 100.0 * area.spent_ytd / area.annual_budget
    variance = area.forecast - area.annual_budget
    variance_pct = 100.0 * variance / area.annual_budget
    flags: list[str] = []
    # What is spent is spent: past the full-year plan the area is over budget, whatever the
    # forecast says, and a forecast below the spend to date is stale (not yet updated), never
    # an underspend.
    over = variance_pct > thresholds.over_budget_pct or area.spent_ytd > area.annual_budget
    stale = area.forecast < area.spent_ytd
    if over:
        flags.append("over_budget")
    ytd_vs_plan = 100.0 * (area.spent_ytd - area.plan_ytd) / area.plan_ytd if area.plan_ytd else None
    if ytd_vs_plan is not None and ytd_vs_plan > thresholds.ahead_of_plan_pct:
        flags.append("spending_ahead_of_plan")
    if stale:
        flags.append("forecast_below_spend")
    elif -variance_pct > thresholds.underspend_pct and not over:
        flags.append("underspend")
    return BudgetStatus(
        id=area.id,
        name=area.name,
        owner=area.owner,
        currency=currency,
        annual_budget=area.annual_budget,
        spent_ytd=area.spent_ytd,
        plan_ytd=area.plan_ytd,
        forecast=area.forecast,
        remaining=round(area.annual_budget - area.spent_ytd, 2),
        utilisation_pct=round(utilisation, 1),
        ytd_vs_plan_pct=round(ytd_vs_plan, 1) if ytd_vs_plan is not None else None,
        forecast_variance=round(variance, 2),
        forecast_variance_pct=round(variance_pct, 1),
        flags=flags,
        needs_attention=bool(flags),
        notes=area.notes,
    )


def largest_gaps_first(statuses: list[BudgetStatus]) -> list[BudgetStatus]:
    """The areas by the size of their forecast gap, over or under budget, largest first (ties in file
    order): how a long list of flagged areas is cut to the few worth naming (page and budget tool)."""
    return sorted(statuses, key=lambda s: abs(s.forecast_variance), reverse=True)


def read_budget_file(data_dir: Path) -> BudgetFile:
    """``budget.toml`` as written (currency, thresholds and areas), validated.

    Args:
        data_dir: Folder holding ``budget.toml``.

    Returns:
        The parsed file.

    Raises:
        DataFileError: If the file is missing or malformed, or area ids are duplicated.
    """
    path = Path(data_dir) / BUDGET_FILE
    raw = read_data_file(data_dir, BUDGET_FILE)
    try:
        parsed = BudgetFile.model_validate(raw)
    except ValidationError as e:
        raise DataFileError(describe_validation_error(path, e)) from e
    if len({a.id for a in parsed.areas}) != len(parsed.areas):
        raise DataFileError(f"Data file {path} is malformed: area ids must be unique.")
    return parsed


def budget_statuses(file: BudgetFile) -> list[BudgetStatus]:
    """Every area of an already-loaded budget (the demo file or a user's own) with its figures.

    Args:
        file: The budget.

    Returns:
        The areas with utilisation, variance and flags, in order.
    """
    return [compute_status(a, currency=file.currency, thresholds=file.thresholds) for a in file.areas]


def load_budget(data_dir: Path, now: datetime) -> list[BudgetStatus]:
    """Every budget area with computed utilisation and flags, in file order.

    Args:
        data_dir: Folder holding ``budget.toml``.
        now: Current time (kept for symmetry with the other loaders; figures are year-to-date).

    Returns:
        The areas.

    Raises:
        DataFileError: If the file is missing or malformed.
    """
    return budget_statuses(read_budget_file(data_dir))


def _names_within(area: BudgetStatus, text: str) -> bool:
    """Whether ``text`` (lower case) holds the area's name or id as whole words."""
    return any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) for word in (area.name.lower(), area.id))


def match_areas(areas: list[BudgetStatus], area: str | None) -> list[BudgetStatus]:
    """The areas matching ``area`` (id or words of the name; else the areas named, as whole words,
    inside it, the longest name first), or all of them when it is empty.

    Args:
        areas: The areas to search.
        area: Optional area id or name fragment (case-insensitive).

    Returns:
        The matching areas.

    Raises:
        ValueError: If ``area`` matches nothing (the message lists the known areas).
    """
    if not area or not area.strip():
        return areas
    needle = area.strip().lower()
    exact = [a for a in areas if a.id == needle or a.name.lower() == needle]
    matches = exact or [a for a in areas if needle in a.id or needle in a.name.lower()]
    if not matches:  # "Team 004 look", "the marketing budget": the area named inside what was asked
        inside = [a for a in areas if _names_within(a, needle)]
        longest = max((len(a.name) for a in inside), default=0)
        matches = [a for a in inside if len(a.name) == longest]
    if not matches:
        known = some_of([f"{a.id} ({a.name})" for a in areas])
        raise ValueError(f"No budget area matches '{area}'. Known areas: {known}.")
    return matches


def budget_context_of(file: BudgetFile, area: str | None = None) -> list[BudgetStatus]:
    """Areas of an already-loaded budget matching ``area``, or all of them.

    Args:
        file: The budget (the demo file or a user's own).
        area: Optional area id or name fragment (case-insensitive).

    Returns:
        The matching areas with their figures.

    Raises:
        ValueError: If ``area`` matches nothing (the message lists the known areas).
    """
    return match_areas(budget_statuses(file), area)


def budget_context(data_dir: Path, now: datetime, area: str | None = None) -> list[BudgetStatus]:
    """Budget areas matching ``area`` (id or words of the name), or all of them.

    Args:
        data_dir: Folder holding ``budget.toml``.
        now: Current time.
        area: Optional area id or name fragment (case-insensitive).

    Returns:
        The matching areas.

    Raises:
        ValueError: If ``area`` matches nothing (the message lists the known areas).
        DataFileError: If the file is missing or malformed.
    """
    return match_areas(load_budget(data_dir, now), area)


def budget_summary(areas: list[BudgetStatus]) -> dict[str, Any]:
    """Totals over ``areas`` (budget, spent, forecast, utilisation and variance percent).

    Args:
        areas: Areas to total; all must share one currency.

    Returns:
        A JSON-ready dict.
    """
    budget = sum(a.annual_budget for a in areas)
    spent = sum(a.spent_ytd for a in areas)
    forecast = sum(a.forecast for a in areas)
    return {
        "currency": areas[0].currency if areas else "USD",
        "annual_budget": budget,
        "spent_ytd": spent,
        "forecast": forecast,
        "utilisation_pct": round(100.0 * spent / budget, 1) if budget else 0.0,
        "forecast_variance_pct": round(100.0 * (forecast - budget) / budget, 1) if budget else 0.0,
    }
