"""Per-turn overhead of ChatService over a bare strands Agent, on every model provider's fake API.

For each provider the same Meeting Coordinator agent (same tools and dependencies, same system
prompt) answers the same questions in the same run:

- bare_agent: ``Agent.invoke_async`` with no persistence (the zero point);
- ours: ``ChatService.run_turn`` (limits, event stream, thread bridge, one SQLite transaction).

Providers: ``offline`` (the demo model with its delays removed, no HTTP) and ``anthropic``,
``openai``, ``ollama`` through strands' own model classes and the real SDKs, each against its
fake server on 127.0.0.1 (tests/fixtures/fake_llm_servers.py) answering at once: every turn is
a tool call (``get_upcoming_meetings``, a real tool run) and then a text answer, so two model
calls per turn. The figure that should not depend on the provider is ``added_ms`` (ours minus
bare): what this stack adds per turn.

Prints a human summary, then one JSON object on the last line.
Usage: .venv/bin/python bench/providers.py [--quick] [--providers openai,ollama]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path.pop(0)  # run as a script: a bench file named like a stdlib module must not shadow it
sys.path.insert(0, str(ROOT))

from strands.models import Model  # noqa: E402

from assistant.agents.meeting_coordinator import create_meeting_coordinator  # noqa: E402
from assistant.chat import ChatService, Done  # noqa: E402
from assistant.config import Settings, load_settings  # noqa: E402
from assistant.context.calendar import CalendarService  # noqa: E402
from assistant.db import make_engine  # noqa: E402
from assistant.factory import get_prices  # noqa: E402
from assistant.migrate import upgrade  # noqa: E402
from assistant.models.offline import OfflineModel  # noqa: E402
from assistant.models.registry import get_model  # noqa: E402
from assistant.sessions.base import utcnow  # noqa: E402
from assistant.sessions.sql_store import SqlSessionStore  # noqa: E402
from assistant.tools.deps import ToolDeps  # noqa: E402
from tests.fixtures.fake_llm_servers import KINDS, FakeLLMServer  # noqa: E402

SCRIPT = [
    "What meetings do I have this week?",
    "And the next few days?",
    "Which of them need preparation?",
    "List them again, please.",
]
PROVIDERS = ("offline", *KINDS)


def run_bare(
    engine: Any, settings: Settings, model: Callable[[], Model], sessions: int, turns: int, user: str
) -> list[float]:
    """A bare agent per session, all sessions on one event loop sharing one model (as ChatService does)."""
    times: list[float] = []

    async def all_sessions() -> None:
        shared = model()
        for i in range(sessions):
            deps = ToolDeps(
                data_dir=settings.data_dir,
                engine=engine,
                user_id=user,
                session_id=f"{user}-{i}",
                now=utcnow,
                calendar=CalendarService(engine, settings, clock=utcnow),
            )
            start = time.perf_counter()  # the first turn includes getting the agent ready, as in ours
            agent = create_meeting_coordinator(model=shared, deps=deps)
            for t in range(turns):
                await agent.invoke_async(SCRIPT[t % len(SCRIPT)])
                times.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()

    asyncio.run(all_sessions())
    return times


def run_ours(
    engine: Any, settings: Settings, model: Callable[[], Model], sessions: int, turns: int, user: str
) -> list[float]:
    store = SqlSessionStore(engine, expiry_hours=settings.session_expiry_hours)
    service = ChatService(settings, store, prices=get_prices(settings), model_factory=lambda _name: model())
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


def measure_provider(
    provider: str, engine: Any, base: dict[str, Any], sessions: int, turns: int, rounds: int
) -> dict[str, float]:
    """Bare agent and ChatService on one provider (its fake server started here), interleaved by round."""
    fake = FakeLLMServer(provider).start() if provider != "offline" else None  # type: ignore[arg-type]
    try:
        settings = load_settings(**base, **(fake.settings() if fake is not None else {}))

        def model() -> Model:
            if fake is None:
                return OfflineModel(chunk_delay_s=0.0, first_token_delay_s=0.0)
            return get_model(None, settings)

        run_bare(engine, settings, model, 1, 2, f"warm-bare-{provider}")  # imports, SDK clients, first agent
        run_ours(engine, settings, model, 1, 2, f"warm-ours-{provider}")
        bare: list[float] = []
        ours: list[float] = []
        for r in range(rounds):
            bare += run_bare(engine, settings, model, sessions, turns, f"bare-{provider}-{r}")
            ours += run_ours(engine, settings, model, sessions, turns, f"ours-{provider}-{r}")
        if fake is not None and fake.violations:
            raise SystemExit(f"the fake {provider} API refused requests: {fake.violations[:3]}")
        requests = len(fake.requests) if fake is not None else None
    finally:
        if fake is not None:
            fake.stop()
    out: dict[str, float] = {
        "turns_per_variant": len(ours),
        "bare_agent_ms": round(statistics.median(bare), 3),
        "ours_ms": round(statistics.median(ours), 3),
    }
    out["added_ms"] = round(out["ours_ms"] - out["bare_agent_ms"], 3)
    out["ratio_vs_bare"] = round(out["ours_ms"] / out["bare_agent_ms"], 3)
    if requests is not None:
        out["http_requests"] = requests
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer turns (smoke run)")
    parser.add_argument("--providers", default=",".join(PROVIDERS), help=f"comma-separated subset of {PROVIDERS}")
    args = parser.parse_args()
    chosen = [p.strip() for p in args.providers.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in PROVIDERS]
    if unknown:
        parser.error(f"unknown provider(s) {unknown}; choose from {PROVIDERS}")
    sessions, turns, rounds = (1, 2, 1) if args.quick else (3, 4, 3)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = "sqlite:///" + str(Path(tmp) / "bench.db")
        engine = make_engine(url)
        upgrade(engine)
        base = {"database_url": url, "messages_per_minute": 100_000, "daily_budget_usd": 0}
        for provider in chosen:
            results[provider] = measure_provider(provider, engine, base, sessions, turns, rounds)
            f = results[provider]
            print(
                f"{provider:>9}: per-turn median bare agent {f['bare_agent_ms']:.2f} ms, ours {f['ours_ms']:.2f} ms "
                f"(+{f['added_ms']:.2f} ms, x{f['ratio_vs_bare']:.3f}) over {int(f['turns_per_variant'])} turns"
            )
    added = [f["added_ms"] for f in results.values()]
    summary: dict[str, object] = {
        "profile": "zero_delay fake servers (tool call + text per turn)",
        "providers": results,
        "added_ms_min": round(min(added), 3),
        "added_ms_max": round(max(added), 3),
        "added_ms_spread": round(max(added) - min(added), 3),
    }
    for provider, figures in results.items():
        summary[f"{provider}_added_ms"] = figures["added_ms"]
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
