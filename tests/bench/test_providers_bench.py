"""bench/providers.py still runs on the fake provider APIs and prints its JSON line (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_providers_bench_prints_a_row_per_provider() -> None:
    result = subprocess.run(
        [sys.executable, "bench/providers.py", "--quick", "--providers", "offline,openai,ollama,anthropic"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(data["providers"]) == {"offline", "openai", "ollama", "anthropic"}
    for name, row in data["providers"].items():
        assert row["bare_agent_ms"] > 0 and row["ours_ms"] > 0 and row["turns_per_variant"] == 2
        # warm-up and measured: 2 + 2 turns per variant, 2 variants, 2 model calls (tool, then text) per turn
        assert name == "offline" or row["http_requests"] == 16
