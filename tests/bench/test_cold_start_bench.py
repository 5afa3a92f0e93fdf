"""bench/cold_start.py still starts both apps and sees their chat input (one run; no timing asserted)."""

from __future__ import annotations

import pytest

from tests.bench.run import run_bench
from tests.fixtures.streamlit_server import HAVE_BROWSER

KEYS = ["ours_input_visible_s", "bare_input_visible_s", "ours_health_s", "bare_health_s", "ratio", "meets_target"]

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAVE_BROWSER, reason="needs Chromium and playwright")]


def test_cold_start_bench_prints_json_with_its_baseline() -> None:
    data = run_bench("cold_start.py", "--runs", "1", "--json", timeout=240)
    assert [k for k in KEYS if k not in data] == [], sorted(data)
    assert 0 < data["ours_health_s"] <= data["ours_input_visible_s"]
    assert 0 < data["bare_health_s"] <= data["bare_input_visible_s"]
