"""Fixtures for the tool tests: a small data folder, a real SQLite file and a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from strands import Agent

from assistant.db import make_engine
from assistant.migrate import upgrade
from assistant.tools import ToolDeps, build_tools
from tests.fixtures.scripted_model import ScriptedModel

NOW = datetime(2025, 3, 10, 15, 7, tzinfo=UTC)  # a Monday

CALENDAR = """
[[meetings]]
id = "soon"
title = "Leadership Sync"
hours_from_now = 3
duration_minutes = 60
type = "leadership"
location = "Boardroom"
description = "Weekly sync. Decide on the launch date."
related_rocks = ["launch", "growth"]
budget_areas = ["eng", "sales"]
attendees = [{ name = "Priya Raman", role = "CTO" }, { name = "Marcus Chen", role = "CFO" }]

[[meetings]]
id = "past-today"
title = "Early standup"
day_offset = 0
start = "08:00"
duration_minutes = 15
type = "internal"
attendees = []

[[meetings]]
id = "acme-qbr"
title = "QBR - Acme Corp"
day_offset = 2
start = "14:00"
duration_minutes = 90
type = "customer"
location = "Acme HQ"
description = "Quarterly review with Acme."
related_rocks = ["launch"]
budget_areas = ["sales"]
attendees = [{ name = "Dana Brooks", role = "SVP Ops", org = "Acme Corp" }, { name = "Sam Patel", role = "Customer Success Manager" }]

[[meetings]]
id = "cfo-1on1"
title = "1:1 with Marcus"
day_offset = 1
start = "09:30"
duration_minutes = 30
type = "1:1"
attendees = [{ name = "Marcus Chen", role = "CFO" }]

[[meetings]]
id = "far"
title = "Roadmap review"
day_offset = 9
start = "13:00"
duration_minutes = 60
type = "strategy"
attendees = [{ name = "Noah Williams", role = "VP Product" }]

[[meetings]]
id = "yesterday"
title = "Old meeting"
day_offset = -1
start = "10:00"
duration_minutes = 30
"""

BUDGET = """
currency = "USD"

[thresholds]
over_budget_pct = 2.0
ahead_of_plan_pct = 5.0
underspend_pct = 10.0

[[areas]]
id = "eng"
name = "Engineering"
owner = "Priya Raman (CTO)"
annual_budget = 1_000_000
spent_ytd = 600_000
plan_ytd = 500_000
forecast = 1_100_000
notes = "Contractors above plan."

[[areas]]
id = "sales"
name = "Sales"
owner = "Elena Garcia (CRO)"
annual_budget = 2_000_000
spent_ytd = 900_000
plan_ytd = 1_000_000
forecast = 1_980_000
notes = "On plan."

[[areas]]
id = "marketing"
name = "Marketing"
owner = "Rachel Kim (CMO)"
annual_budget = 500_000
spent_ytd = 100_000
forecast = 400_000
"""

ROCKS = """
[[rocks]]
id = "launch"
name = "Launch Platform v3"
owner = "Priya Raman (CTO)"
status = "at_risk"
progress_pct = 62
target_in_days = 45
risks = ["EU latency regression"]
milestones = [
  { name = "Beta", due_in_days = -10, done = true },
  { name = "GA", due_in_days = 45, done = false },
]

[[rocks]]
id = "growth"
name = "Grow Enterprise ARR"
owner = "Elena Garcia (CRO)"
status = "on_track"
progress_pct = 71
milestones = [{ name = "Close 5 logos", due_in_days = 20 }]

[[rocks]]
id = "soc2"
name = "SOC 2 Type II"
owner = "Olivia Hart"
status = "off_track"
progress_pct = 35
milestones = [{ name = "Hire Head of Security", due_in_days = -5 }]
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder with a small calendar, budget and big rocks file."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "calendar.toml").write_text(CALENDAR)
    (folder / "budget.toml").write_text(BUDGET)
    (folder / "big_rocks.toml").write_text(ROCKS)
    return folder


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "t.db"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    """A migrated SQLite file."""
    eng = make_engine("sqlite:///" + str(db_path))
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def deps(data_dir: Path, engine: Engine) -> ToolDeps:
    return ToolDeps(data_dir=data_dir, engine=engine, user_id="alice", session_id="s1", now=lambda: NOW)


@pytest.fixture
def agent(deps: ToolDeps) -> Agent:
    """A plain strands Agent holding the tools, for the direct-call API ``agent.tool.x(...)``."""
    return Agent(model=ScriptedModel([]), tools=build_tools(deps), callback_handler=None)
