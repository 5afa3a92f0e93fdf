"""The benchmark scripts still run and print their JSON line (small sizes; no timing is asserted).

A refactor that renames what a bench drives (it broke ``bench/session_store.py`` once) fails
here instead of on the next person who measures.
"""

from __future__ import annotations

import pytest

from tests.bench.run import run_bench


@pytest.mark.parametrize(
    ("script", "args", "keys"),
    [
        ("turn_overhead.py", ["--quick"], ["ratio_vs_bare", "ratio_vs_bare_zero_delay", "ours_commit_ms_zero_delay"]),
        (
            "session_store.py",
            ["--turns", "3", "--resume-repeats", "1", "--messages", "12"],
            ["sql_turn_overhead_ms", "s3_requests_per_turn", "s3_requests_per_resume"],
        ),
        ("sessions_page.py", ["--sessions", "500", "--repeat", "2"], ["sqlite", "sessions"]),
    ],
)
def test_bench_script_runs_and_prints_json(script: str, args: list[str], keys: list[str]) -> None:
    data = run_bench(script, *args)
    missing = [k for k in keys if k not in data]
    assert not missing, f"{script} printed {sorted(data)}"
