from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assistant.context.data_files import DataFileError
from assistant.context.demo_calendar import find_meeting, load_meetings, upcoming_meetings
from assistant.context.working_time import shift_working_time
from tests.fixtures.meeting_data import NOW


def test_meetings_are_placed_relative_to_now(data_dir: Path) -> None:
    by_id = {m.id: m for m in load_meetings(data_dir, NOW)}
    assert by_id["acme-qbr"].start == datetime(2025, 3, 12, 14, 0, tzinfo=UTC)
    assert by_id["acme-qbr"].end == datetime(2025, 3, 12, 15, 30, tzinfo=UTC)
    assert by_id["cfo-1on1"].start == datetime(2025, 3, 11, 9, 30, tzinfo=UTC)
    # hours_from_now=3 from 15:07 -> 18:07, rounded up to the next quarter hour
    assert by_id["soon"].start == datetime(2025, 3, 10, 18, 15, tzinfo=UTC)
    # NOW is a Monday: "yesterday" (day_offset -1) is the previous working day, Friday
    assert by_id["yesterday"].start.date() == NOW.date() - timedelta(days=3)


def test_the_demo_week_never_lands_on_a_weekend(data_dir: Path) -> None:
    friday_afternoon = datetime(2025, 3, 14, 15, 7, tzinfo=UTC)
    by_id = {m.id: m for m in load_meetings(data_dir, friday_afternoon)}
    assert by_id["cfo-1on1"].start == datetime(2025, 3, 17, 9, 30, tzinfo=UTC)  # "tomorrow" is Monday
    assert by_id["acme-qbr"].start == datetime(2025, 3, 18, 14, 0, tzinfo=UTC)
    assert by_id["soon"].start == datetime(2025, 3, 14, 18, 15, tzinfo=UTC)  # working_hours = false: kept
    saturday = datetime(2025, 3, 15, 11, 0, tzinfo=UTC)
    on_saturday = {m.id: m for m in load_meetings(data_dir, saturday)}
    assert on_saturday["cfo-1on1"].start == datetime(2025, 3, 18, 9, 30, tzinfo=UTC)  # day 0 is Monday


def test_soon_meeting_stays_in_working_hours(tmp_path: Path) -> None:
    (tmp_path / "calendar.toml").write_text(
        '[[meetings]]\nid = "sync"\ntitle = "Sync"\nhours_from_now = 3\nduration_minutes = 60\n'
    )

    def start_at(now: datetime) -> datetime:
        return next(m for m in load_meetings(tmp_path, now) if m.id == "sync").start

    assert start_at(datetime(2025, 3, 10, 10, 7, tzinfo=UTC)) == datetime(2025, 3, 10, 13, 15, tzinfo=UTC)
    # late evening: tomorrow morning instead of 01:15
    assert start_at(datetime(2025, 3, 10, 22, 0, tzinfo=UTC)) == datetime(2025, 3, 11, 8, 0, tzinfo=UTC)
    # small hours: 08:00 the same day
    assert start_at(datetime(2025, 3, 10, 2, 0, tzinfo=UTC)) == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    # after 14:00 the 3-hour meeting would start after 17:00: next morning
    assert start_at(datetime(2025, 3, 10, 15, 7, tzinfo=UTC)) == datetime(2025, 3, 11, 8, 0, tzinfo=UTC)


def test_same_file_moves_with_the_clock(data_dir: Path) -> None:
    later = NOW + timedelta(days=30)
    qbr = next(m for m in load_meetings(data_dir, later) if m.id == "acme-qbr")
    assert qbr.start.date() == later.date() + timedelta(days=2)


def test_upcoming_excludes_past_and_is_sorted(data_dir: Path) -> None:
    meetings = upcoming_meetings(data_dir, NOW, days_ahead=7)
    ids = [m.id for m in meetings]
    assert ids == ["soon", "cfo-1on1", "acme-qbr"]
    assert all(m.end > NOW for m in meetings)
    assert [m.start for m in meetings] == sorted(m.start for m in meetings)


def test_days_ahead_widens_window(data_dir: Path) -> None:
    # "far" is 9 working days out: Thursday of the week after next
    assert "far" not in [m.id for m in upcoming_meetings(data_dir, NOW, days_ahead=10)]
    assert "far" in [m.id for m in upcoming_meetings(data_dir, NOW, days_ahead=11)]


def test_query_matches_title_attendees_and_all_words(data_dir: Path) -> None:
    assert [m.id for m in upcoming_meetings(data_dir, NOW, query="acme")] == ["acme-qbr"]
    assert [m.id for m in upcoming_meetings(data_dir, NOW, query="MARCUS")] == ["soon", "cfo-1on1"]
    assert [m.id for m in upcoming_meetings(data_dir, NOW, query="marcus 1:1")] == ["cfo-1on1"]
    assert upcoming_meetings(data_dir, NOW, query="nothing-matches") == []


def test_start_times_are_read_in_the_given_zone(data_dir: Path) -> None:
    ny = ZoneInfo("America/New_York")
    qbr = next(m for m in load_meetings(data_dir, NOW, tz=ny) if m.id == "acme-qbr")
    assert qbr.start.tzinfo == ny
    assert (qbr.start.hour, qbr.start.minute) == (14, 0)
    assert qbr.start.utcoffset() == timedelta(hours=-4)


def test_unknown_meeting_lists_known_ids(data_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"No meeting with id 'nope'.*acme-qbr"):
        find_meeting(data_dir, NOW, "nope")


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"calendar\.toml is missing"):
        load_meetings(tmp_path, NOW)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "calendar.toml").write_text("[[meetings]\nid=")
    with pytest.raises(DataFileError, match=r"calendar\.toml is not valid TOML"):
        load_meetings(tmp_path, NOW)


def test_malformed_entry_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "calendar.toml").write_text(
        '[[meetings]]\nid = "x"\ntitle = "X"\nday_offset = 1\nstart = "25:99"\nduration_minutes = 30\n'
    )
    with pytest.raises(DataFileError, match=r"calendar\.toml is malformed: meetings\.0\.start"):
        load_meetings(tmp_path, NOW)


def test_needs_exactly_one_way_to_place_the_meeting(tmp_path: Path) -> None:
    (tmp_path / "calendar.toml").write_text('[[meetings]]\nid = "x"\ntitle = "X"\nduration_minutes = 30\n')
    with pytest.raises(DataFileError, match="either day_offset and start, or hours_from_now"):
        load_meetings(tmp_path, NOW)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    entry = '[[meetings]]\nid = "x"\ntitle = "X"\nhours_from_now = 1\nduration_minutes = 30\n'
    (tmp_path / "calendar.toml").write_text(entry + entry)
    with pytest.raises(DataFileError, match="appears twice"):
        load_meetings(tmp_path, NOW)


def test_naive_now_is_refused(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        load_meetings(data_dir, NOW.replace(tzinfo=None))


def test_shipped_demo_data_is_valid_and_fresh() -> None:
    data = Path(__file__).resolve().parents[2] / "data"
    # Whenever the demo runs (now, and each hour of a whole week), the next meeting is less
    # than a working day away, on a weekday, at a working hour.
    real_now = datetime.now(UTC)
    for now in [real_now, *(datetime(2025, 3, 14, 0, 30, tzinfo=UTC) + timedelta(hours=h) for h in range(0, 24 * 7))]:
        meetings = upcoming_meetings(data, now, days_ahead=14)
        assert len(meetings) >= 6
        soonest = min(meetings, key=lambda m: m.start)
        assert soonest.start <= shift_working_time(now, timedelta(hours=24)) + timedelta(hours=8), now
        assert 8 <= soonest.start.hour <= 17, now
        assert [m.id for m in load_meetings(data, now) if m.start.weekday() >= 5] == [], now
