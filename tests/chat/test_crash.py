"""A process killed with SIGKILL mid-answer: the question is kept, shown as interrupted, and Retry works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import Engine

from assistant.chat import Done
from tests.fixtures.chat import make_service

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import sys
    from assistant.chat import TextDelta
    from assistant.db import make_engine
    from assistant.models.offline import OfflineModel
    from tests.fixtures.chat import make_service

    engine = make_engine(sys.argv[1])
    slow = lambda _n: OfflineModel(chunk_delay_s=0.5, first_token_delay_s=0.0, words_per_chunk=1)
    service = make_service(engine, model=slow)
    for event in service.send_sync(sys.argv[2], "u1", "What meetings do I have this week?"):
        if isinstance(event, TextDelta):
            print("streaming", flush=True)
    """
)


def test_question_survives_kill_9_mid_answer(sqlite_engine: Engine) -> None:
    service = make_service(sqlite_engine)
    meta = service.create_session("u1")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(sqlite_engine.url), meta.id],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "streaming", "the child started answering"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    # the restarted server (a new process: a new service) shows the question, not a turn
    restarted = make_service(sqlite_engine)
    assert restarted.open_session(meta.id, "u1").turns == []
    pending = restarted.pending_turn(meta.id, "u1")
    assert pending is not None, "the question must not vanish"
    assert pending.text == "What meetings do I have this week?"
    assert pending.status == "failed" and pending.error_category == "interrupted" and pending.retryable
    events = restarted.run_turn(meta.id, "u1", pending.text)
    assert isinstance(events[-1], Done)
    assert restarted.pending_turn(meta.id, "u1") is None
    assert [t.user_text for t in restarted.open_session(meta.id, "u1").turns] == [pending.text]
