"""bench/ui_latency.py still times a send in a new session and one in a long session (no timing asserted).

It hung unnoticed once: a later turn stopped rerunning the page, and its "answer stored" check
waited for a rerun that never came.
"""

from __future__ import annotations

import pytest

from tests.bench.run import run_bench
from tests.fixtures.streamlit_server import HAVE_BROWSER

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not HAVE_BROWSER, reason="needs Chromium and playwright")]


def test_ui_latency_bench_times_later_turns_and_a_long_session() -> None:
    # 3 sends after the warm-up: the 2nd and 3rd are later turns of the same session
    data = run_bench("ui_latency.py", "--sends", "3", "--long-turns", "4", "--json")
    # a later turn's first text is the new answer's, not the previous answer still on the page
    assert data["first_token_ms"] > 0.5 * data["model_first_token_ms"], data
    assert data["full_answer_ms"] >= data["first_token_ms"], data
    assert data["long_session_full_answer_ms"] >= data["long_session_first_token_ms"] > 0, data
