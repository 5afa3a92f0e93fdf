"""bench/ics_parse.py still runs and reports the right meetings (small repeats; no timing asserted)."""

from __future__ import annotations

from tests.bench.run import run_bench

KEYS = [
    "ours_7d_ms",
    "ours_60d_ms",
    "baseline_7d_ms",
    "baseline_60d_ms",
    "check_ms",
    "cache_hit_ms",
    "first_call_7d_ms",
    "events_per_second",
    "baseline_events_per_second",
    "target_met",
]


def test_calendar_bench_prints_json_with_the_right_meeting_counts() -> None:
    data = run_bench("ics_parse.py", "--json", "--repeat", "2", "--upload-events", "300")
    assert [k for k in KEYS if k not in data] == [], sorted(data)
    assert data["events_in_file"] == 200
    assert data["meetings_next_7_days"] == data["expected_next_7_days"] > 0
    assert data["meetings_60_days"] == data["expected_60_days"] > data["meetings_next_7_days"]
    # icalendar + recurring-ical-events alone find the same occurrences (none is cancelled)
    assert data["baseline_occurrences_60_days"] == data["meetings_60_days"]
    assert data["counts_match"] is True
    assert data["upload_events"] == 300  # the big upload's check counts every event, parsed or not
