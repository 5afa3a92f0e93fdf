"""How long an uploaded ICS takes to become the next week's meetings, against icalendar alone.

The calendar is the issue's "200 events": a year of a weekly series (one occurrence moved, one
deleted) plus one-off meetings, 200 VEVENTs in all, starting today
(``tests/fixtures/ics.year_calendar``). Measured in one run, p50 over ``--repeat`` rounds with
the variants interleaved:

- ``ours_7d_ms`` / ``ours_60d_ms``: :func:`assistant.context.ics.parse_ics` from the bytes to
  sorted ``Meeting`` objects for the next 7 / 60 days (checks, parsing, expansion, meetings);
- ``baseline_7d_ms`` / ``baseline_60d_ms``: ``icalendar.Calendar.from_ical`` on the same bytes
  plus ``recurring_ical_events.of(cal).between(...)`` (components only, no meetings built);
- ``check_ms``: :func:`~assistant.context.ics_text.check_ics`, the check an upload gets once;
- ``upload_check_ms`` / ``upload_parse_baseline_ms``: the same check of a file of ``--upload-events``
  VEVENTs (~5 MB at the default, the upload cap), against ``icalendar.Calendar.from_ical`` of it
  (what the check cost when it parsed every event);
- ``cache_hit_ms``: the 60-day window read back the way the cache serves it,
  ``[Meeting.model_validate(d) for d in json.loads(text)]``;
- ``events_per_second``: VEVENTs in the file per second of ``ours_60d_ms`` (and the baseline's);
- ``first_call_7d_ms``: the very first ``parse_ics`` of the process (cold caches).

Target: the next week's meetings in under 1 s (``target_met``). Counts are checked against what
the generator put in the file. Prints a human summary, then one JSON object on the last line.

Usage: .venv/bin/python bench/ics_parse.py [--json] [--repeat N] [--events N]
"""

from __future__ import annotations

import os
import sys

# Python puts the script's folder first on sys.path: drop it so no bench script can shadow a
# standard-library module (icalendar and dateutil import ``calendar``).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import icalendar  # noqa: E402
import recurring_ical_events  # noqa: E402

from assistant.context.ics import parse_ics  # noqa: E402
from assistant.context.ics_text import check_ics  # noqa: E402
from assistant.context.meetings import Meeting  # noqa: E402
from tests.fixtures.ics import year_calendar  # noqa: E402

TZ = ZoneInfo("America/New_York")


def _ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def _baseline(data: bytes, start: datetime, end: datetime) -> list[Any]:
    calendar = icalendar.Calendar.from_ical(data)
    return list(recurring_ical_events.of(calendar).between(start, end))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="(kept for symmetry; the last line is always JSON)")
    parser.add_argument("--repeat", type=int, default=20, help="rounds per variant (p50 reported)")
    parser.add_argument("--events", type=int, default=200, help="VEVENTs in the generated file")
    parser.add_argument("--upload-events", type=int, default=6_500, help="VEVENTs in the big upload's file")
    args = parser.parse_args()

    today = datetime.now(TZ).date()
    generated = year_calendar(today, events=args.events, tz_name=TZ.key)
    data = generated.data
    start = datetime(today.year, today.month, today.day, tzinfo=TZ)
    week_end, sixty_end = start + timedelta(days=7), start + timedelta(days=60)

    first_call_ms, _ = _ms(lambda: parse_ics(data, start, week_end, TZ))
    cached_window = parse_ics(data, start, sixty_end, TZ)
    cache_text = json.dumps([m.model_dump(mode="json") for m in cached_window])  # what the cache row holds

    timings: dict[str, list[float]] = {k: [] for k in ("ours_7d", "ours_60d", "base_7d", "base_60d", "check", "cache")}
    week: list[Meeting] = []
    sixty: list[Meeting] = []
    base_week: list[Any] = []
    base_sixty: list[Any] = []
    vevents = 0
    for _ in range(max(1, args.repeat)):
        elapsed, week = _ms(lambda: parse_ics(data, start, week_end, TZ))
        timings["ours_7d"].append(elapsed)
        elapsed, base_week = _ms(lambda: _baseline(data, start, week_end))
        timings["base_7d"].append(elapsed)
        elapsed, sixty = _ms(lambda: parse_ics(data, start, sixty_end, TZ))
        timings["ours_60d"].append(elapsed)
        elapsed, base_sixty = _ms(lambda: _baseline(data, start, sixty_end))
        timings["base_60d"].append(elapsed)
        elapsed, vevents = _ms(lambda: check_ics(data, 5_000_000))
        timings["check"].append(elapsed)
        elapsed, cached = _ms(lambda: [Meeting.model_validate(d) for d in json.loads(cache_text)])
        timings["cache"].append(elapsed)
        if cached != cached_window:
            raise SystemExit("the cached window does not read back as the same meetings")

    big = year_calendar(today, events=args.upload_events, tz_name=TZ.key).data
    for _ in range(2):
        elapsed, big_events = _ms(lambda: check_ics(big, len(big)))
        timings.setdefault("upload_check", []).append(elapsed)
        elapsed, _ = _ms(lambda: icalendar.Calendar.from_ical(big))
        timings.setdefault("upload_base", []).append(elapsed)

    p50 = {key: round(statistics.median(values), 3) for key, values in timings.items()}
    result: dict[str, Any] = {
        "events_in_file": vevents,
        "file_bytes": len(data),
        "repeats": max(1, args.repeat),
        "meetings_next_7_days": len(week),
        "expected_next_7_days": generated.count_between(start, week_end),
        "meetings_60_days": len(sixty),
        "expected_60_days": generated.count_between(start, sixty_end),
        "baseline_occurrences_60_days": len(base_sixty),
        "baseline_occurrences_7_days": len(base_week),
        "ours_7d_ms": p50["ours_7d"],
        "ours_60d_ms": p50["ours_60d"],
        "baseline_7d_ms": p50["base_7d"],
        "baseline_60d_ms": p50["base_60d"],
        "check_ms": p50["check"],
        "cache_hit_ms": p50["cache"],
        "upload_file_bytes": len(big),
        "upload_events": big_events,
        "upload_check_ms": p50["upload_check"],
        "upload_parse_baseline_ms": p50["upload_base"],
        "cache_json_bytes": len(cache_text),
        "first_call_7d_ms": round(first_call_ms, 3),
        "events_per_second": round(vevents / (p50["ours_60d"] / 1000)) if p50["ours_60d"] else None,
        "baseline_events_per_second": round(vevents / (p50["base_60d"] / 1000)) if p50["base_60d"] else None,
        "speedup_60d_vs_baseline": round(p50["base_60d"] / p50["ours_60d"], 2) if p50["ours_60d"] else None,
    }
    result["counts_match"] = bool(
        result["meetings_next_7_days"] == result["expected_next_7_days"]
        and result["meetings_60_days"] == result["expected_60_days"]
    )
    result["target"] = "next week's meetings from a 200-event upload in under 1 s"
    result["target_met"] = bool(max(result["ours_7d_ms"], result["first_call_7d_ms"]) < 1000)
    print(
        f"{vevents} VEVENTs ({len(data) / 1000:.0f} kB): next 7 days {len(week)} meetings in "
        f"{result['ours_7d_ms']:.1f} ms (first call {result['first_call_7d_ms']:.1f} ms; icalendar alone "
        f"{result['baseline_7d_ms']:.1f} ms); 60 days {len(sixty)} meetings in {result['ours_60d_ms']:.1f} ms "
        f"(icalendar alone {result['baseline_60d_ms']:.1f} ms); check {result['check_ms']:.1f} ms; "
        f"cache hit {result['cache_hit_ms']:.2f} ms; a {len(big) / 1e6:.1f} MB upload checked in "
        f"{result['upload_check_ms']:.0f} ms (icalendar parsing it {result['upload_parse_baseline_ms']:.0f} ms)"
    )
    print(json.dumps(result))
    return 0 if result["counts_match"] else 1


if __name__ == "__main__":
    sys.exit(main())
