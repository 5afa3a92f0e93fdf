"""bench/providers.py still runs on the fake provider APIs and prints its JSON line (no timing is asserted)."""

from __future__ import annotations

from tests.bench.run import run_bench


def test_providers_bench_prints_a_row_per_provider() -> None:
    data = run_bench("providers.py", "--quick", "--providers", "offline,openai,ollama,anthropic")
    assert set(data["providers"]) == {"offline", "openai", "ollama", "anthropic"}
    for name, row in data["providers"].items():
        assert row["bare_agent_ms"] > 0 and row["ours_ms"] > 0 and row["turns_per_variant"] == 2
        # warm-up and measured: 2 + 2 turns per variant, 2 variants, 2 model calls (tool, then text) per turn
        assert name == "offline" or row["http_requests"] == 16
