"""bench/load.py --quick still drives both apps and reads the database (no timing asserted).

N=1 and 2 browsers, one measured send each plus a warm-up, a 2-send "session grows" run;
one server per app. Every prompt sent must be stored exactly once.
"""

from __future__ import annotations

import pytest

from tests.bench.run import run_bench
from tests.fixtures.streamlit_server import HAVE_BROWSER

LEVEL_KEYS = [
    "users",
    "sends",
    "first_text_p50_ms",
    "first_text_p95_ms",
    "cpu_s_per_send",
    "ws_messages_per_send",
    "turns_per_s",
    "peak_rss_mb",
]
GROW_KEYS = ["cpu_s_per_send_first", "cpu_s_per_send_last", "ws_messages_per_send_first", "ws_messages_per_send_last"]

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAVE_BROWSER, reason="needs Chromium and playwright")]


def test_load_bench_quick_prints_json_and_every_turn_is_stored_once() -> None:
    data = run_bench("load.py", "--quick", "--json", timeout=240)
    assert data["levels"] == [1, 2]
    for app in ("ours", "bare", "bare_defaults"):
        for level in ("1", "2"):
            row = data[app][level]
            assert [k for k in LEVEL_KEYS if k not in row] == [], (app, level, sorted(row))
            assert row["sends"] == int(level) and row["ws_messages_per_send"] > 0
        assert [k for k in GROW_KEYS if k not in data[app]["grow"]] == [], sorted(data[app]["grow"])
    for key in ("1", "2", "grow"):
        ours = data["ours"][key]
        # warm-up sends count too: every prompt sent is in the transcript once
        assert ours["sent"] == ours["stored"] == ours["turn_records"] and ours["sent"] > 0, ours
        assert ours["missing"] == 0 and ours["duplicates"] == 0, ours
    assert data["all_stored_once"] is True
    assert set(data["ours_vs_bare"]) == set(data["ours_vs_bare_defaults"]) == {"1", "2"}
