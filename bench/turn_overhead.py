"""What this stack adds per turn over a bare strands Agent (and over strands' FileSessionManager).

All three run the same Meeting Coordinator agent (same tools with the same dependencies -
the user's calendar read through ``CalendarService`` as the service's agent reads it - same
system prompt) on the same offline model, over the same scripted conversation:

- bare_agent: ``Agent.invoke_async`` with no persistence (the zero point);
- file_session_manager: the same agent persisted by strands' FileSessionManager;
- ours: ``ChatService.run_turn`` on ``SqlSessionStore`` over a SQLite file in WAL mode (the
  local default store): the transaction before the model (row, limits, send counted, question
  kept), event stream, thread bridge, and one transaction per turn (transcript, turn record,
  ledger, search row, agent snapshot).

Every variant's first turn of a session includes getting its agent ready: constructing it
(bare, FileSessionManager - which reads its session files there) or resuming it from the
store (ours builds its agent lazily inside the first turn).

Two model profiles are measured in the same run:

- ``zero_delay``: the offline model with every delay removed, so the agent loop itself costs
  ~6 ms and what we add per turn (two database transactions, the thread bridge, the recorder)
  shows; ``*_zero_delay`` keys report it, and ``targets_met`` is read on it
  (``ratio_vs_bare_zero_delay`` <= 1.2);
- ``demo``: the offline model exactly as the app ships it (it streams with small delays,
  like a real model, ~1.2 s a turn); ``ratio_vs_bare`` reports it, but a model that sleeps
  hides the overhead, so it is not the target.

A row per real provider (anthropic, openai, ollama) follows, each through the real SDK on its
zero-delay fake server (``bench/providers.py``'s measurement; keys
``<provider>_{bare_agent_ms,ours_ms,added_ms,ratio_vs_bare}_zero_delay``): our per-turn
overhead should be the same on every provider.

Where ours' added time goes is measured in the same process: the median of each of the two
store transactions of a turn (``ours_begin_turn_ms``, ``ours_commit_ms``; timed around the
store's calls, so they include everything the store does), the rest being the event stream,
the recorder and the thread hops.

Prints a human summary, then one JSON object on the last line.
Usage: .venv/bin/python bench/turn_overhead.py [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path.pop(0)  # run as a script: a bench file named like a stdlib module must not shadow it
sys.path.insert(0, str(ROOT))

from strands.session import FileSessionManager  # noqa: E402

from assistant.agents.meeting_coordinator import create_meeting_coordinator  # noqa: E402
from assistant.chat import ChatService, Done  # noqa: E402
from assistant.config import load_settings  # noqa: E402
from assistant.context.calendar import CalendarService  # noqa: E402
from assistant.db import make_engine  # noqa: E402
from assistant.factory import get_prices  # noqa: E402
from assistant.migrate import upgrade  # noqa: E402
from assistant.models.offline import OfflineModel  # noqa: E402
from assistant.sessions.base import utcnow  # noqa: E402
from assistant.sessions.sql_store import SqlSessionStore  # noqa: E402
from assistant.tools.deps import ToolDeps  # noqa: E402

SCRIPT = [
    "What meetings do I have this week?",
    "Prepare an agenda for the Acme QBR",
    "What's the budget context?",
    "How are my big rocks doing?",
    "Save a prep note: push for a decision on the EU data-residency pilot.",
    "Thanks, what else should I prepare?",
    "What meetings do I have tomorrow?",
    "Prepare an agenda for the leadership sync",
]


PROFILE = {"name": "zero_delay"}


def _model() -> OfflineModel:
    if PROFILE["name"] == "demo":
        from assistant.models.registry import _offline_factory

        model = _offline_factory("demo", load_settings())
        assert isinstance(model, OfflineModel)
        return model
    return OfflineModel(chunk_delay_s=0.0, first_token_delay_s=0.0)


def run_bare(
    engine, settings, sessions: int, turns: int, manager_dir: Path | None, user: str, first: int = 0
) -> list[float]:  # type: ignore[no-untyped-def]
    times: list[float] = []

    async def one_session(i: int) -> None:
        kwargs = {}
        if manager_dir is not None:
            kwargs["session_manager"] = FileSessionManager(session_id=f"{user}-{i}", storage_dir=str(manager_dir))
        # the tools' dependencies as ChatService gives them to its agent (the same calendar source)
        deps = ToolDeps(
            data_dir=settings.data_dir,
            engine=engine,
            user_id=user,
            session_id=f"{user}-{i}",
            now=utcnow,
            calendar=CalendarService(engine, settings, clock=utcnow),
        )
        start = time.perf_counter()  # the first turn includes getting the agent ready, as in ours
        agent = create_meeting_coordinator(model=_model(), deps=deps, **kwargs)
        for t in range(turns):
            await agent.invoke_async(SCRIPT[t % len(SCRIPT)])
            times.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()

    for i in range(first, first + sessions):
        asyncio.run(one_session(i))
    return times


def new_service(engine, settings) -> ChatService:  # type: ignore[no-untyped-def]
    store = SqlSessionStore(engine, expiry_hours=settings.session_expiry_hours)
    return ChatService(settings, store, prices=get_prices(settings), model_factory=lambda _name: _model())


def _timed(call, into: list[float]):  # type: ignore[no-untyped-def]
    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            into.append((time.perf_counter() - start) * 1000)

    return timed


STORE_CALLS: dict[str, list[float]] = {"begin_turn": [], "commit_turn": []}


def run_ours(engine, settings, sessions: int, turns: int, user: str, service: ChatService | None = None) -> list[float]:  # type: ignore[no-untyped-def]
    service = service or new_service(engine, settings)
    for name, into in STORE_CALLS.items():  # the store's two transactions of a turn, timed where they run
        if name not in vars(service.store):
            setattr(service.store, name, _timed(getattr(service.store, name), into))
    times: list[float] = []
    for _ in range(sessions):
        meta = service.create_session(user)
        for t in range(turns):
            start = time.perf_counter()
            events = service.run_turn(meta.id, user, SCRIPT[t % len(SCRIPT)])
            times.append((time.perf_counter() - start) * 1000)
            if not isinstance(events[-1], Done):
                raise SystemExit(f"turn failed: {events[-1]}")
    return times


def measure(settings, engine, tmp_path: Path, sessions: int, turns: int, rounds: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    bare: list[float] = []
    fsm: list[float] = []
    ours: list[float] = []
    run_bare(engine, settings, 1, 2, None, "warm-up")  # imports, data files, first agent
    run_ours(engine, settings, 1, 2, "warm-up")
    for into in STORE_CALLS.values():
        into.clear()
    # Each variant is its own user: the script saves prep notes that later agendas include, so
    # a shared user would give the variant that runs later a longer history to carry.
    # The variants take turns session by session, so a change of load on a shared machine
    # falls on all three alike instead of on whichever variant was running.
    profile = PROFILE["name"]
    for r in range(rounds):
        service = new_service(engine, settings)
        for i in range(sessions):
            bare += run_bare(engine, settings, 1, turns, None, f"bare-{profile}-{r}", first=i)
            fsm += run_bare(engine, settings, 1, turns, tmp_path / f"fsm-{profile}-{r}", f"fsm-{profile}-{r}", first=i)
            ours += run_ours(engine, settings, 1, turns, f"ours-{profile}-{r}", service=service)
    out = {
        "turns_per_variant": len(ours),
        "bare_agent_ms": round(statistics.median(bare), 3),
        "file_session_manager_ms": round(statistics.median(fsm), 3),
        "ours_ms": round(statistics.median(ours), 3),
    }
    out["ours_begin_turn_ms"] = round(statistics.median(STORE_CALLS["begin_turn"]), 3)
    out["ours_commit_ms"] = round(statistics.median(STORE_CALLS["commit_turn"]), 3)
    out["ratio_vs_bare"] = round(out["ours_ms"] / out["bare_agent_ms"], 3)
    out["ours_added_ms"] = round(out["ours_ms"] - out["bare_agent_ms"], 3)
    out["file_session_manager_added_ms"] = round(out["file_session_manager_ms"] - out["bare_agent_ms"], 3)
    return out


def _provider_rows(tmp_path: Path, *, quick: bool) -> dict[str, dict[str, float]]:
    """One row per real provider on its zero-delay fake server (bench/providers.py's measurement)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_providers", Path(__file__).with_name("providers.py"))
    if spec is None or spec.loader is None:  # pragma: no cover - the file is next to this one
        raise SystemExit("bench/providers.py is missing")
    providers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(providers)
    url = "sqlite:///" + str(tmp_path / "providers.db")
    engine = make_engine(url)
    upgrade(engine)
    base = {"database_url": url, "messages_per_minute": 100_000, "daily_budget_usd": 0}
    sessions, turns, rounds = (1, 2, 1) if quick else (2, 4, 2)
    rows = {}
    for provider in ("anthropic", "openai", "ollama"):
        rows[provider] = providers.measure_provider(provider, engine, base, sessions, turns, rounds)
        f = rows[provider]
        print(
            f"{provider:>10}: per-turn median bare agent {f['bare_agent_ms']:.2f} ms, ours {f['ours_ms']:.2f} ms "
            f"(+{f['added_ms']:.2f} ms) on its fake server"
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="(kept for symmetry; the last line is always JSON)")
    parser.add_argument("--quick", action="store_true", help="fewer turns (smoke run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        url = "sqlite:///" + str(tmp_path / "bench.db")
        engine = make_engine(url)
        upgrade(engine)
        settings = load_settings(database_url=url, messages_per_minute=100_000, daily_budget_usd=0)
        PROFILE["name"] = "zero_delay"
        zero = measure(settings, engine, tmp_path, 2 if args.quick else 6, 8, 1 if args.quick else 3)
        PROFILE["name"] = "demo"
        # the demo model sleeps ~1.2 s a turn: the smoke run (--quick) measures 1 turn per variant, not 4
        demo = measure(settings, engine, tmp_path, *((1, 1, 1) if args.quick else (2, 4, 2)))
        providers = _provider_rows(tmp_path, quick=args.quick)
    result: dict[str, object] = dict(demo)
    result["profile"] = "demo (offline model as shipped)"
    for provider, figures in providers.items():
        for key in ("bare_agent_ms", "ours_ms", "added_ms", "ratio_vs_bare"):
            result[f"{provider}_{key}_zero_delay"] = figures[key]
    for key, value in zero.items():
        result[f"{key}_zero_delay"] = value
    result["ours_no_slower_than_file_session_manager"] = bool(demo["ours_ms"] <= demo["file_session_manager_ms"] * 1.02)
    # The target is read on the zero-delay profile (the issue's own words: the demo profile's
    # model sleeps ~1 s a turn, which hides our overhead); the demo ratio is reported beside it.
    result["targets_met"] = bool(zero["ratio_vs_bare"] <= 1.2)
    for name, figures in (("demo", demo), ("zero-delay", zero)):
        print(
            f"{name:>10}: per-turn median bare agent {figures['bare_agent_ms']:.2f} ms, "
            f"FileSessionManager {figures['file_session_manager_ms']:.2f} ms, ours {figures['ours_ms']:.2f} ms "
            f"(x{figures['ratio_vs_bare']:.3f} vs bare, +{figures['ours_added_ms']:.2f} ms; store: before the model "
            f"{figures['ours_begin_turn_ms']:.2f} ms, commit {figures['ours_commit_ms']:.2f} ms)"
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
