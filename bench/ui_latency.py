"""UI latency of the chat page: Enter -> first streamed token visible, and -> full answer.

Starts ``streamlit run streamlit_app.py`` with the offline model (temp SQLite, high rate
limit), drives headless Chromium, and times each send inside the page with
``performance.now()``: at the Enter keydown (capture listener) and when the live answer
first shows text (MutationObserver), then when the stored answer's footer is drawn. The
same prompt is timed without any UI through ``ChatService.send_sync`` with the same
offline model delays. The last stdout line is one JSON object.

A second run sends into a session that already holds ``--long-turns`` answers (the page
draws the latest 20), the case of a heavy user's long prep thread.

Usage: ``.venv/bin/python bench/ui_latency.py --json [--sends 20] [--long-turns 60]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.streamlit_server import CHROMIUM, CHROMIUM_ARGS, start_streamlit  # noqa: E402

PROMPT = "What is the status of our big rocks?"
SENDS_PER_SESSION = 5

INSTALL_JS = r"""
() => {
  const input = document.querySelector('[data-testid="stChatInputTextArea"]');
  window.__t = { keydown: null, first: null, full: null };
  // the stored answer is detected by a footer with a higher turn index (a long session
  // draws a sliding window of answers, so the footer count alone can stay the same)
  const lastIdx = () => Math.max(-1, ...[...document.querySelectorAll('[class*="st-key-turn-footer-"]')]
    .map((e) => parseInt((e.className.match(/st-key-turn-footer-(\d+)/) || [0, -1])[1], 10)));
  const before = lastIdx();
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && window.__t.keydown === null) window.__t.keydown = performance.now();
  }, { capture: true, once: true });
  const check = () => {
    // the new answer's first text: the live answer showing its streaming cursor (a previous
    // answer left on the page never has one), or its footer when it arrived whole
    if (window.__t.first === null && window.__t.keydown !== null) {
      const streaming = [...document.querySelectorAll('.st-key-live-answer [data-testid="stMarkdown"]')]
        .some((e) => e.innerText.includes('\u258d'));
      if (streaming || lastIdx() > before) window.__t.first = performance.now();
    }
    // stored: its footer is drawn (a later turn draws it in place, under the live answer)
    if (window.__t.full === null && window.__t.first !== null && lastIdx() > before) {
      window.__t.full = performance.now();
      obs.disconnect();
    }
  };
  const obs = new MutationObserver(check);
  obs.observe(document.body, { childList: true, subtree: true, characterData: true });
}
"""


def seed_long_session(database_url: str, turns: int) -> str:
    """A session of ``turns`` stored answers for the dev-login user (written before the server starts)."""
    from assistant.chat import ChatService
    from assistant.config import load_settings
    from assistant.factory import build_store, get_prices
    from assistant.models.offline import OfflineModel

    settings = load_settings(env="local", database_url=database_url, messages_per_minute=100000)
    service = ChatService(
        settings,
        build_store(settings),
        prices=get_prices(settings),
        model_factory=lambda _name: OfflineModel(chunk_delay_s=0, first_token_delay_s=0),
    )
    meta = service.create_session(settings.test_user_id)
    prompts = [PROMPT, "Prepare me for the Acme QBR", "How is the budget tracking?", "Draft the agenda for it"]
    for i in range(turns):
        service.run_turn(meta.id, settings.test_user_id, prompts[i % len(prompts)])
    return meta.id


def measure_ui(url: str, sends: int, session_id: str | None = None) -> tuple[list[float], list[float]]:
    """Time ``sends`` messages in the browser (a new session every few sends, or all in ``session_id``)."""
    from playwright.sync_api import sync_playwright

    first: list[float] = []
    full: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(30_000)
        page.goto(url + (f"/?session={session_id}" if session_id else ""))
        page.wait_for_selector('[data-testid="stChatInputTextArea"]')
        for i in range(sends + 1):  # the first send warms up the agent and is not counted
            if session_id is None and i % SENDS_PER_SESSION == 0:
                page.locator(".st-key-new-session button").click()
                page.wait_for_selector(".st-key-welcome")
                # the previous session's answers can linger in the DOM for a moment: the
                # "answer stored" detector counts footers, so start from none
                page.wait_for_function(
                    "() => document.querySelectorAll('[class*=\"st-key-turn-footer-\"]').length === 0"
                )
            page.wait_for_function(
                "() => { const e = document.querySelector('[data-testid=\"stChatInputTextArea\"]');"
                " return e && !e.disabled }"
            )
            page.fill('[data-testid="stChatInputTextArea"]', PROMPT)
            page.evaluate(INSTALL_JS)
            page.press('[data-testid="stChatInputTextArea"]', "Enter")
            try:
                page.wait_for_function("() => window.__t.full !== null")
            except Exception:
                print("stuck:", i, page.evaluate("() => window.__t"), file=sys.stderr)
                raise
            t = page.evaluate("() => window.__t")
            if i > 0:
                first.append(float(t["first"] - t["keydown"]))
                full.append(float(t["full"] - t["keydown"]))
        browser.close()
    return first, full


def measure_model(database_url: str, sends: int) -> tuple[list[float], list[float]]:
    """Time the same prompt through ChatService alone (same offline model delays, no UI)."""
    from assistant.chat import ChatService, ErrorEvent, TextDelta
    from assistant.config import load_settings
    from assistant.factory import build_store, get_prices

    settings = load_settings(
        env="local", database_url=database_url, model_provider="offline", messages_per_minute=100000
    )
    service = ChatService(settings, build_store(settings), prices=get_prices(settings))
    first: list[float] = []
    full: list[float] = []
    meta = service.create_session("bench-user")
    for i in range(sends + 1):
        if i % SENDS_PER_SESSION == 0:
            meta = service.create_session("bench-user")
        start = time.perf_counter()
        got_first = None
        for event in service.send_sync(meta.id, "bench-user", PROMPT):
            if got_first is None and isinstance(event, TextDelta):
                got_first = time.perf_counter()
            if isinstance(event, ErrorEvent):
                raise RuntimeError(event.message)
        end = time.perf_counter()
        if i > 0 and got_first is not None:
            first.append((got_first - start) * 1000)
            full.append((end - start) * 1000)
    return first, full


def main() -> None:
    """Run the benchmark and print the results (last line: JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sends", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.add_argument("--long-turns", type=int, default=60, help="stored answers in the long-session run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        long_id = seed_long_session(f"sqlite:///{workdir / 'e2e.db'}", args.long_turns)
        server = start_streamlit(workdir, {"MESSAGES_PER_MINUTE": "100000", "LOG_LEVEL": "WARNING"})
        try:
            ui_first, ui_full = measure_ui(server.url, args.sends)
            long_first, long_full = measure_ui(server.url, max(5, args.sends // 4), long_id)
        finally:
            server.stop()
        model_first, model_full = measure_model(f"sqlite:///{workdir / 'model.db'}", args.sends)

    result: dict[str, Any] = {
        "sends": args.sends,
        "prompt": PROMPT,
        "first_token_ms": round(statistics.median(ui_first), 1),
        "full_answer_ms": round(statistics.median(ui_full), 1),
        "model_first_token_ms": round(statistics.median(model_first), 1),
        "model_full_answer_ms": round(statistics.median(model_full), 1),
        "first_token_p90_ms": round(sorted(ui_first)[int(0.9 * (len(ui_first) - 1))], 1),
    }
    result["long_session_turns"] = args.long_turns
    result["long_session_first_token_ms"] = round(statistics.median(long_first), 1)
    result["long_session_full_answer_ms"] = round(statistics.median(long_full), 1)
    result["ui_added_first_token_ms"] = round(result["first_token_ms"] - result["model_first_token_ms"], 1)
    result["ui_added_full_answer_ms"] = round(result["full_answer_ms"] - result["model_full_answer_ms"], 1)
    result["target_ui_added_first_token_ms"] = 150
    result["meets_target"] = result["ui_added_first_token_ms"] < 150
    if not args.json:
        print(f"UI first token: {ui_first}")
        print(f"model first token: {model_first}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
