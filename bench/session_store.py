"""Benchmark of session persistence: our SQL and S3 stores against strands' session managers.

One run, everything in process (S3 is moto's ``mock_aws``; fake credentials):

- **per-turn overhead** (median ms): the same offline-model conversation (zero delays, real
  tool calls) driven through (a) our :class:`~assistant.chat.ChatService` over the SQL store
  (SQLite file) and over the S3 store, and (b) a bare strands ``Agent`` with
  ``FileSessionManager`` / ``S3SessionManager``; minus the same bare ``Agent`` with no
  session manager (the zero point). Configurations are interleaved turn by turn so drift
  hits them all alike. ChatService's number includes everything it adds per turn (event
  bridging, turn record, usage costing, the commit), not only the store write.
- **resume** (median ms) of a session holding about 200 messages: for ours, a fresh store
  (empty cache; the process's S3 client and DB pool already exist) reading the session and
  rebuilding the agent, exactly what ChatService does on the first send after a restart;
  for strands, constructing the ``Agent`` with its session manager (``S3SessionManager``
  creates its own boto3 client in its constructor, so that cost is part of its resume).
- **S3 requests** per turn and per resume, counted with botocore ``before-send`` hooks
  (one per HTTP request) for our S3 store and for strands' ``S3SessionManager``.

The daily budget check is switched off (it is a ledger query, not persistence) and the
rate limit raised. The last stdout line is one JSON object.

Usage::

    .venv/bin/python bench/session_store.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ[_name] = _value  # never reach a real account
os.environ.pop("AWS_PROFILE", None)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402
from strands import Agent  # noqa: E402
from strands.hooks import HookProvider, HookRegistry, MessageAddedEvent  # noqa: E402
from strands.session import FileSessionManager, S3SessionManager  # noqa: E402

from assistant.agents.meeting_coordinator import create_meeting_coordinator  # noqa: E402
from assistant.chat import ChatService, Done  # noqa: E402
from assistant.config import load_settings  # noqa: E402
from assistant.db import make_engine  # noqa: E402
from assistant.factory import get_prices  # noqa: E402
from assistant.migrate import upgrade  # noqa: E402
from assistant.models.offline import OfflineModel  # noqa: E402
from assistant.sessions.base import SessionStore  # noqa: E402
from assistant.sessions.s3_store import S3SessionStore  # noqa: E402
from assistant.sessions.sql_store import SqlSessionStore  # noqa: E402
from assistant.tools.deps import ToolDeps  # noqa: E402

BUCKET = "bench-assistant-sessions"
REGION = "us-east-1"
USER = "bench-user"
PROMPTS = [
    "What meetings do I have this week?",
    "What is my budget?",
    "How are my big rocks doing?",
    "Prepare an agenda for the first one",
    "Thanks, what else can you do?",
]


class _RequestCounter:
    """Counts S3 HTTP requests (botocore ``before-send``) by operation."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def __call__(self, request: Any = None, **kwargs: Any) -> None:
        name = str(kwargs.get("event_name", "")).rsplit(".", 1)[-1]
        self.counts[name] = self.counts.get(name, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def reset(self) -> None:
        self.counts.clear()


class _MessageCounter(HookProvider):
    def __init__(self) -> None:
        self.count = 0

    def register_hooks(self, registry: HookRegistry, **kwargs: Any) -> None:
        registry.add_callback(MessageAddedEvent, self._added)

    def _added(self, event: MessageAddedEvent) -> None:
        self.count += 1


def _model() -> OfflineModel:
    return OfflineModel(chunk_delay_s=0.0, first_token_delay_s=0.0)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3) if values else float("nan")


class Bench:
    """Holds the shared fixtures (engine, clients, temp dirs) of one run."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.engine = make_engine("sqlite:///" + str(workdir / "bench.db"))
        upgrade(self.engine)
        self.settings = load_settings(
            database_url=str(self.engine.url), messages_per_minute=1_000_000, daily_budget_usd=0
        )
        self.prices = get_prices(self.settings)
        self.s3_client = boto3.client("s3", region_name=REGION)  # one client per process, as the factory does
        self.s3_client.create_bucket(Bucket=BUCKET)
        self.ours_counter = _RequestCounter()
        self.s3_client.meta.events.register("before-send.s3", self.ours_counter)
        self.strands_counter = _RequestCounter()
        self.strands_boto = boto3.Session(region_name=REGION)
        self.strands_boto.events.register("before-send.s3", self.strands_counter)
        self.files_dir = workdir / "strands-files"
        self.files_dir.mkdir()

    # -- builders -------------------------------------------------------------------
    def service(self, store: SessionStore) -> ChatService:
        svc = ChatService(self.settings, store, prices=self.prices, model_factory=lambda n: _model())
        svc.model()
        return svc

    def sql_store(self) -> SqlSessionStore:
        return SqlSessionStore(self.engine)

    def s3_store(self) -> S3SessionStore:
        return S3SessionStore(self.engine, client=self.s3_client, bucket=BUCKET)

    def agent(self, session_id: str, manager: Any, hooks: list[Any] | None = None) -> Agent:
        deps = ToolDeps(data_dir=self.settings.data_dir, engine=self.engine, user_id=USER, session_id=session_id)
        kwargs: dict[str, Any] = {"hooks": hooks or []}
        if manager is not None:
            kwargs["session_manager"] = manager
        return create_meeting_coordinator(model=_model(), deps=deps, **kwargs)

    def file_manager(self, session_id: str) -> FileSessionManager:
        return FileSessionManager(session_id, storage_dir=str(self.files_dir))

    def s3_manager(self, session_id: str) -> S3SessionManager:
        return S3SessionManager(session_id, bucket=BUCKET, prefix="strands", boto_session=self.strands_boto)


class _Conversation:
    """One session of one configuration, driven a turn at a time."""

    def __init__(self, name: str, turn: Callable[[str], None], messages: Callable[[], int]) -> None:
        self.name = name
        self.turn = turn
        self.messages = messages
        self.times: list[float] = []

    def timed_turn(self, prompt: str) -> float:
        started = time.perf_counter()
        self.turn(prompt)
        elapsed = (time.perf_counter() - started) * 1000
        self.times.append(elapsed)
        return elapsed


def _ours(bench: Bench, name: str, store: SessionStore) -> tuple[_Conversation, str]:
    svc = bench.service(store)
    meta = svc.create_session(USER)
    counts = {"messages": 0}

    def turn(prompt: str) -> None:
        events = svc.run_turn(meta.id, USER, prompt)
        last = events[-1]
        if not isinstance(last, Done):
            raise RuntimeError(f"{name}: turn failed: {last}")
        counts["messages"] = last.meta.message_count

    return _Conversation(name, turn, lambda: counts["messages"]), meta.id


def _strands(bench: Bench, name: str, manager_for: Callable[[str], Any] | None) -> tuple[_Conversation, str]:
    sid = "bench-" + uuid.uuid4().hex[:12]
    counter = _MessageCounter()
    agent = bench.agent(sid, manager_for(sid) if manager_for else None, [counter])

    def turn(prompt: str) -> None:
        agent(prompt)

    return _Conversation(name, turn, lambda: counter.count), sid


def _per_turn(bench: Bench, convs: dict[str, _Conversation], turns: int) -> tuple[list[int], list[int]]:
    """Warm up, then time every configuration turn by turn (rotating who goes first); S3 requests per turn."""
    for conv in convs.values():
        for prompt in PROMPTS[:2]:
            conv.turn(prompt)
    ours_requests: list[int] = []
    strands_requests: list[int] = []
    for i in range(turns):
        prompt = PROMPTS[i % len(PROMPTS)]
        order = list(convs.values())
        order = order[i % len(order) :] + order[: i % len(order)]
        for conv in order:
            bench.ours_counter.reset()
            bench.strands_counter.reset()
            conv.timed_turn(prompt)
            if conv.name == "s3":
                ours_requests.append(bench.ours_counter.total)
            elif conv.name == "s3sm":
                strands_requests.append(bench.strands_counter.total)
    return ours_requests, strands_requests


def _resumes(bench: Bench, ids: dict[str, str], repeats: int) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """Time resuming each configuration's grown session (a restarted process each time); S3 requests per resume."""
    resume: dict[str, list[float]] = {name: [] for name in ("bare", "file", "s3sm", "sql", "s3")}
    resume_requests: dict[str, list[int]] = {"s3": [], "s3sm": []}
    for _ in range(repeats):
        # bare agent construction: the zero point of a resume (tools, prompt, no reading)
        started = time.perf_counter()
        bench.agent("bench-bare-resume", None)
        resume["bare"].append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        bench.agent(ids["file"], bench.file_manager(ids["file"]))
        resume["file"].append((time.perf_counter() - started) * 1000)

        bench.strands_counter.reset()
        started = time.perf_counter()
        bench.agent(ids["s3sm"], bench.s3_manager(ids["s3sm"]))
        resume["s3sm"].append((time.perf_counter() - started) * 1000)
        resume_requests["s3sm"].append(bench.strands_counter.total)

        for name, make in (("sql", bench.sql_store), ("s3", bench.s3_store)):
            svc = bench.service(make())  # a restarted process: empty document cache
            bench.ours_counter.reset()
            started = time.perf_counter()
            meta = svc.store.get_meta(ids[name], USER)
            # exactly ChatService's resume path
            svc._runner.build_agent(svc._slots.for_session(meta.id, meta.user_id), meta)
            resume[name].append((time.perf_counter() - started) * 1000)
            if name == "s3":
                resume_requests["s3"].append(bench.ours_counter.total)
    return resume, resume_requests


def run(turns: int, resume_repeats: int, target_messages: int) -> dict[str, Any]:
    """Run every measurement and return the results."""
    t_start = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench-session-store-"))
    try:
        with mock_aws():
            bench = Bench(workdir)
            sql_store = bench.sql_store()
            s3_store = bench.s3_store()
            convs: dict[str, _Conversation] = {}
            ids: dict[str, str] = {}
            for name, (conv, sid) in {
                "bare": _strands(bench, "bare", None),
                "file": _strands(bench, "file", bench.file_manager),
                "s3sm": _strands(bench, "s3sm", bench.s3_manager),
                "sql": _ours(bench, "sql", sql_store),
                "s3": _ours(bench, "s3", s3_store),
            }.items():
                convs[name], ids[name] = conv, sid

            ours_requests, strands_requests = _per_turn(bench, convs, turns)
            medians = {name: _median(conv.times) for name, conv in convs.items()}
            zero = medians["bare"]

            # -- fresh sessions grown to ~target_messages, then time resumes
            for name, (conv, sid) in {
                "file": _strands(bench, "file", bench.file_manager),
                "s3sm": _strands(bench, "s3sm", bench.s3_manager),
                "sql": _ours(bench, "sql", sql_store),
                "s3": _ours(bench, "s3", s3_store),
            }.items():
                convs[name], ids[name] = conv, sid
                i = 0
                while conv.messages() < target_messages:
                    conv.turn(PROMPTS[i % len(PROMPTS)])
                    i += 1
            resume, resume_requests = _resumes(bench, ids, resume_repeats)
            resume_medians = {name: _median(values) for name, values in resume.items()}
            message_counts = {name: convs[name].messages() for name in ("file", "s3sm", "sql", "s3")}
            object_bytes = len(
                bench.s3_client.get_object(Bucket=BUCKET, Key=s3_store_key(s3_store, ids["s3"]))["Body"].read()
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    return {
        "turns_measured": turns,
        "bare_agent_turn_ms": zero,
        "sql_turn_overhead_ms": round(medians["sql"] - zero, 3),
        "s3_turn_overhead_ms": round(medians["s3"] - zero, 3),
        "file_session_manager_turn_overhead_ms": round(medians["file"] - zero, 3),
        "s3_session_manager_turn_overhead_ms": round(medians["s3sm"] - zero, 3),
        "turn_ms": {name: value for name, value in medians.items()},
        "s3_requests_per_turn": _median([float(n) for n in ours_requests]),
        "s3_requests_per_turn_max": max(ours_requests),
        "baseline_s3_requests_per_turn": _median([float(n) for n in strands_requests]),
        "s3_requests_per_resume": _median([float(n) for n in resume_requests["s3"]]),
        "baseline_s3_requests_per_resume": _median([float(n) for n in resume_requests["s3sm"]]),
        "resume_ms": resume_medians["s3"],
        "sql_resume_ms": resume_medians["sql"],
        "baseline_resume_ms": resume_medians["s3sm"],
        "file_session_manager_resume_ms": resume_medians["file"],
        "bare_agent_construct_ms": resume_medians["bare"],
        "resume_messages": message_counts,
        "s3_object_bytes": object_bytes,
        "elapsed_s": round(time.perf_counter() - t_start, 1),
    }


def s3_store_key(store: S3SessionStore, session_id: str) -> str:
    """The object key of one of the store's sessions (owner from the index)."""
    from assistant.sessions.s3_store import object_key

    return object_key(store.get_meta(session_id, None).user_id, session_id)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print human lines, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="(default) end with one JSON line")
    parser.add_argument("--turns", type=int, default=60, help="measured turns per configuration")
    parser.add_argument("--resume-repeats", type=int, default=7)
    parser.add_argument("--messages", type=int, default=200, help="size of the resumed sessions")
    args = parser.parse_args(argv)
    result = run(args.turns, args.resume_repeats, args.messages)
    print(f"bare strands Agent turn (zero point): {result['bare_agent_turn_ms']:.2f} ms")
    print("per-turn overhead over a bare Agent (median):")
    print(f"  ours, SQL store (SQLite file)   : {result['sql_turn_overhead_ms']:+.2f} ms")
    print(f"  ours, S3 store (moto)           : {result['s3_turn_overhead_ms']:+.2f} ms")
    print(f"  strands FileSessionManager      : {result['file_session_manager_turn_overhead_ms']:+.2f} ms")
    print(f"  strands S3SessionManager (moto) : {result['s3_session_manager_turn_overhead_ms']:+.2f} ms")
    print(
        f"S3 requests per turn: ours {result['s3_requests_per_turn']:g} "
        f"(max {result['s3_requests_per_turn_max']}), S3SessionManager {result['baseline_s3_requests_per_turn']:g}"
    )
    print(f"resume of a ~{args.messages}-message session (median): messages {result['resume_messages']}")
    print(f"  ours, S3 store                  : {result['resume_ms']:.2f} ms")
    print(f"  ours, SQL store                 : {result['sql_resume_ms']:.2f} ms")
    print(f"  strands FileSessionManager      : {result['file_session_manager_resume_ms']:.2f} ms")
    print(f"  strands S3SessionManager        : {result['baseline_resume_ms']:.2f} ms")
    print(f"  (bare Agent construction        : {result['bare_agent_construct_ms']:.2f} ms)")
    print(
        f"S3 requests per resume: ours {result['s3_requests_per_resume']:g}, "
        f"S3SessionManager {result['baseline_s3_requests_per_resume']:g}"
    )
    print(f"elapsed {result['elapsed_s']} s")
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
