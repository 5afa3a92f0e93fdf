"""Big-rock rows from the page's table: checked row by row, and turned into the tools' rocks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from assistant.context.big_rocks import big_rocks_status_of, read_rock_entries, rocks_from_entries
from assistant.context.rocks_io import MAX_ROCKS, RockRow, big_rocks_of, rows_of_rock_entries, validate_rock_rows
from assistant.context.row_checks import ContextInputError
from tests.fixtures.streamlit_server import ROOT

TODAY = date(2026, 3, 10)
NAN = float("nan")


def rock(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": "Launch Platform v3",
        "owner": "Priya",
        "status": "at_risk",
        "progress_pct": 62,
        "next_milestone": "EU GA",
        "due_date": date(2026, 4, 1),
        "risks": "Latency regression\n\n- Two engineers left",
    }
    row.update(overrides)
    return row


def test_good_rows_from_a_data_editor() -> None:
    records = [
        rock(),
        rock(name="Hire a CFO", status="On track", progress_pct=10.0, due_date=datetime(2026, 5, 1, 0, 0), risks=None),
        {
            "name": None,
            "owner": NAN,
            "status": None,
            "progress_pct": NAN,
            "due_date": None,
            "risks": "",
        },  # added, empty
        rock(name="Grow ARR", progress_pct="40%", due_date="2026-06-30", next_milestone=NAN),
    ]
    rows = validate_rock_rows(records)
    assert [r.name for r in rows] == ["Launch Platform v3", "Hire a CFO", "Grow ARR"]
    assert rows[0].risks == ["Latency regression", "Two engineers left"]
    assert rows[1].status == "on_track" and rows[1].due_date == date(2026, 5, 1) and rows[1].risks == []
    assert rows[2].progress_pct == 40 and rows[2].due_date == date(2026, 6, 30) and rows[2].next_milestone == ""


def test_risks_pasted_from_a_word_list_lose_their_bullets_and_numbers() -> None:
    """Risks copied from a Word list arrive with its markers and a tab ("1.\tVendor delay",
    "–\tBudget cut", Word's second-level "o\t"): the agenda and the answers read them so."""
    pasted = "1.\tVendor delay\n2)\tHiring freeze\n–\tBudget cut\n▪\tChurn\n◦ Legal review\no\tSub point\n(3) Audit"
    [row] = validate_rock_rows([rock(risks=pasted)])
    assert row.risks == ["Vendor delay", "Hiring freeze", "Budget cut", "Churn", "Legal review", "Sub point", "Audit"]
    [kept] = validate_rock_rows([rock(risks="2026 budget freeze\no-ring supplier late\n3D printer")])
    assert kept.risks == ["2026 budget freeze", "o-ring supplier late", "3D printer"]


def test_every_problem_is_named_by_row_and_column() -> None:
    records = [
        rock(),
        rock(name="", status="late", progress_pct=140),
        rock(name="launch platform v3", progress_pct=12.5, due_date="next week"),
    ]
    with pytest.raises(ContextInputError) as info:
        validate_rock_rows(records)
    assert [str(p) for p in info.value.problems] == [
        "row 2, column Initiative: is empty; every rock needs a name",
        "row 2, column Status: 'late' is not one of On track, At risk, Off track",
        "row 2, column Complete: '140' is not a whole percent from 0 to 100",
        "row 3, column Complete: '12.5' is not a whole percent from 0 to 100",
        "row 3, column Milestone due: 'next week' is not a date (write it as 2026-03-31)",
        "row 3, column Initiative: 'launch platform v3' is already on row 1; each rock once",
    ]


def test_a_name_of_invisible_characters_is_empty() -> None:
    """A name of zero-width spaces (pasted, or typed to get past "is empty") was saved: a rock
    with a blank name on the page and for the assistant. Visible text keeps its joiners."""
    with pytest.raises(ContextInputError) as info:
        validate_rock_rows([rock(name="\u200b \u2060\ufeff", owner="\u200b")])
    assert [str(p) for p in info.value.problems] == ["row 1, column Initiative: is empty; every rock needs a name"]
    assert validate_rock_rows([rock(name="Hire \U0001f469\u200d\U0001f4bb leads")])[0].name == (
        "Hire \U0001f469\u200d\U0001f4bb leads"
    )


def test_cells_a_nullable_column_leaves_empty_are_empty() -> None:
    """pandas' pd.NA (the empty cell of a string or nullable-integer column) was not blank: a name
    of pd.NA was saved as the rock "<NA>", and an added empty row was not skipped."""
    import pandas as pd

    with pytest.raises(ContextInputError) as info:
        validate_rock_rows([rock(name=pd.NA)])
    assert [str(p) for p in info.value.problems] == ["row 1, column Initiative: is empty; every rock needs a name"]
    empty = dict.fromkeys(rock(), pd.NA)
    assert [r.name for r in validate_rock_rows([rock(), empty])] == ["Launch Platform v3"]


def test_empty_table_and_too_many_rocks_are_refused() -> None:
    with pytest.raises(ContextInputError, match="at least one rock"):
        validate_rock_rows([{"name": None}])
    with pytest.raises(ContextInputError, match=f"more than {MAX_ROCKS} rocks"):
        validate_rock_rows([rock(name=f"Rock {i}") for i in range(MAX_ROCKS + 1)])


def test_rows_become_rocks_with_one_milestone_and_overdue_computed() -> None:
    rows = [
        RockRow(
            name="Late one", status="on_track", progress_pct=5, next_milestone="Kickoff", due_date=TODAY - timedelta(1)
        ),
        RockRow(name="No date", status="off_track", progress_pct=0, next_milestone="Plan"),
        RockRow(name="Late one!", status="on_track", progress_pct=5),
    ]
    rocks = big_rocks_of(rows, TODAY)
    assert [r.id for r in rocks] == ["late-one", "no-date", "late-one-2"]
    assert rocks[0].target_date == TODAY - timedelta(1)
    assert rocks[0].milestones[0].overdue and rocks[0].needs_attention
    assert rocks[1].milestones == [] and "Plan" in rocks[1].summary
    assert not rocks[2].needs_attention
    assert [r.id for r in big_rocks_status_of(rocks, "no date")] == ["no-date"]
    with pytest.raises(ValueError, match="No big rock matches"):
        big_rocks_status_of(rocks, "nothing like it")


def test_demo_rocks_become_rows_with_absolute_dates() -> None:
    rows = rows_of_rock_entries(read_rock_entries(ROOT / "data"), TODAY)
    platform = rows[0]
    assert platform.name == "Launch Platform v3"
    assert platform.next_milestone == "EU data residency GA"
    assert platform.due_date == TODAY + timedelta(days=20)
    soc2 = next(r for r in rows if r.name.startswith("SOC 2"))
    assert soc2.due_date == TODAY - timedelta(days=5)  # overdue hire stays overdue
    assert big_rocks_of([soc2], TODAY)[0].milestones[0].overdue
    assert validate_rock_rows([r.to_editor() for r in rows]) == rows


def test_statuses_match_the_tools() -> None:
    from typing import get_args

    from assistant.context import big_rocks, rocks_io

    assert get_args(rocks_io.RockStatus) == get_args(big_rocks.RockStatus)


def test_the_demo_rocks_saved_unchanged_read_as_the_demos_do() -> None:
    """Save on the page without an edit gave every rock its next milestone's date as its target:
    "due 21 Jan 2027" read "due 27 Dec 2026", and SOC 2's became a date already past. Its summary
    went too."""
    demo = {r.name: r for r in big_rocks_status_of(rocks_from_entries(read_rock_entries(ROOT / "data"), TODAY))}
    rows = rows_of_rock_entries(read_rock_entries(ROOT / "data"), TODAY)
    saved = {
        r.name: r for r in big_rocks_status_of(big_rocks_of(validate_rock_rows([r.to_editor() for r in rows]), TODAY))
    }
    assert saved.keys() == demo.keys()
    for name, rock_ in demo.items():
        assert saved[name].target_date == rock_.target_date, name
        assert saved[name].summary == rock_.summary, name
        assert (saved[name].status, saved[name].progress_pct, saved[name].risks) == (
            rock_.status,
            rock_.progress_pct,
            rock_.risks,
        )
        mine, theirs = saved[name].next_milestone(), rock_.next_milestone()
        assert (
            (mine.name, mine.due, mine.overdue) == (theirs.name, theirs.due, theirs.overdue) if theirs else mine is None
        )


def test_a_row_saved_before_its_target_date_existed_is_due_with_its_milestone() -> None:
    # rows stored by earlier releases hold no target date: the rock is due when its milestone is
    old = RockRow.model_validate({"name": "Old", "status": "on_track", "progress_pct": 5, "due_date": "2026-06-01"})
    assert big_rocks_of([old], TODAY)[0].target_date == date(2026, 6, 1)
    own = old.model_copy(update={"target_date": date(2026, 9, 30)})
    assert big_rocks_of([own], TODAY)[0].target_date == date(2026, 9, 30)


def test_a_target_date_that_is_no_date_is_named_by_its_column() -> None:
    with pytest.raises(ContextInputError) as e:
        validate_rock_rows([rock(target_date="next spring")])
    assert [(p.row, p.column) for p in e.value.problems] == [(1, "Target")]  # its header on the page


def test_the_demo_rocks_saved_as_the_users_own_are_still_the_rocks_the_demo_meetings_name() -> None:
    """Load demo data, then Save: the ids were made from the names ("launch-platform-v3") while the
    demo calendar's meetings name the demo's ("platform-v3"), and every demo agenda lost its big
    rocks (the Board meeting's "Big rock off track: SOC 2 ..." went)."""
    from assistant.context.demo_calendar import load_meetings
    from assistant.context.related import with_related

    demo = rocks_from_entries(read_rock_entries(ROOT / "data"), TODAY)
    rows = rows_of_rock_entries(read_rock_entries(ROOT / "data"), TODAY)
    saved = big_rocks_of(validate_rock_rows([r.to_editor() for r in rows]), TODAY)
    assert [r.id for r in saved] == [r.id for r in demo]
    meetings = load_meetings(ROOT / "data", datetime(2026, 3, 10, 9, 0).astimezone())
    assert any(m.related_rocks for m in meetings)
    for m in meetings:
        assert with_related(m, [], saved).related_rocks == with_related(m, [], demo).related_rocks, m.title


def test_a_rows_unseen_id_is_kept_once_and_only_when_it_is_an_id() -> None:
    rows = validate_rock_rows(
        [
            rock(id="platform-v3"),
            rock(name="Platform v3 (copy)", id="platform-v3"),  # a row copied with its unseen id
            rock(name="EU expansion", id="<b>x</b>"),
            rock(name="Hiring", id=NAN),  # a row added in the table
        ]
    )
    assert [r.id for r in rows] == ["platform-v3", "", "", ""]
    assert [r.id for r in big_rocks_of(rows, TODAY)] == ["platform-v3", "platform-v3-copy", "eu-expansion", "hiring"]
    # a row whose cells were all cleared is no row, although its unseen id stays behind
    cleared = {key: None for key in rock()} | {"id": "platform-v3"}
    assert validate_rock_rows([cleared, rock(name="Hiring")])[0].name == "Hiring"
