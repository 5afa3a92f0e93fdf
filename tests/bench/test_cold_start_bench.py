"""bench/cold_start.py still starts both apps and sees their chat input (one run; no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.streamlit_server import HAVE_BROWSER

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["ours_input_visible_s", "bare_input_visible_s", "ours_health_s", "bare_health_s", "ratio", "meets_target"]

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAVE_BROWSER, reason="needs Chromium and playwright")]


def test_cold_start_bench_prints_json_with_its_baseline() -> None:
    result = subprocess.run(
        [sys.executable, "bench/cold_start.py", "--runs", "1", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert [k for k in KEYS if k not in data] == [], sorted(data)
    assert 0 < data["ours_health_s"] <= data["ours_input_visible_s"]
    assert 0 < data["bare_health_s"] <= data["bare_input_visible_s"]
