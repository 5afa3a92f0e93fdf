from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.context.big_rocks import big_rocks_status, load_big_rocks
from assistant.context.data_files import DataFileError
from tests.fixtures.meeting_data import NOW


def test_dates_are_relative_and_attention_flags(data_dir: Path) -> None:
    by_id = {r.id: r for r in load_big_rocks(data_dir, NOW)}
    launch = by_id["launch"]
    assert launch.target_date == NOW.date() + timedelta(days=45)
    nxt = launch.next_milestone()
    assert nxt is not None and nxt.name == "GA" and not nxt.overdue
    assert launch.needs_attention  # at risk
    assert not by_id["growth"].needs_attention
    soc2 = by_id["soc2"]
    assert soc2.milestones[0].overdue
    assert soc2.to_dict()["needs_attention"] is True


def test_initiative_filter(data_dir: Path) -> None:
    assert [r.id for r in big_rocks_status(data_dir, NOW, "platform v3")] == ["launch"]
    assert [r.id for r in big_rocks_status(data_dir, NOW, "SOC2")] == ["soc2"]
    with pytest.raises(ValueError, match="No big rock matches 'moonshot'"):
        big_rocks_status(data_dir, NOW, "moonshot")


def test_bad_status_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "big_rocks.toml").write_text('[[rocks]]\nid = "x"\nname = "X"\nstatus = "meh"\nprogress_pct = 5\n')
    with pytest.raises(DataFileError, match=r"big_rocks\.toml is malformed: rocks\.0\.status"):
        load_big_rocks(tmp_path, NOW)


def test_shipped_rocks_are_valid() -> None:
    rocks = load_big_rocks(Path(__file__).resolve().parents[2] / "data", datetime.now(UTC))
    assert {r.status for r in rocks} >= {"on_track", "at_risk"}
