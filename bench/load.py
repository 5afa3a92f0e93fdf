"""Load: N concurrent browsers on one Streamlit process, ours beside a bare chat page.

For each N (default 1, 5, 10, 20) a fresh server is started for each app (``--reuse-server``:
one per app for the whole run) - ours
(``streamlit_app.py``, ENV=local, a temp SQLite database, the offline model) and the bare
page (``bench/bare_chat.py``: chat_input, chat_message, ``st.write_stream`` of ~30 words) -
and N headless Chromium pages, each in its own browser context, send K messages each (after
one warm-up send per page, then until the server is idle). The bare page runs twice: ``bare``
is served like ours (the repository's ``.streamlit/config.toml``, which switches off Streamlit's
full garbage collection after every script run), ``bare_defaults`` with Streamlit's own
defaults (served from an empty folder: what a bare Streamlit chat page costs out of the box,
the baseline the issue measured at 0.12-0.13 CPU-s per send). All run under the same
drive in the same run; by default the offline model and the bare page stream with no delay
(``--shipped-delays``: the model's own 0.2 s first token and 15 ms per chunk, and the same pacing on the bare page).

Per app and N: turns sent vs stored and duplicates (ours: every prompt carries a unique tag,
counted in the ``messages`` table afterwards), p50/p95 time to first text (Enter keydown ->
the answer's first text in the page, ``performance.now()``), server CPU-seconds per send
(utime+stime of the server process from /proc/<pid>/stat, over the measured sends), websocket
messages per send (frames the pages received, counted with Playwright), turns per second and
the server's peak RSS (VmHWM). A "session grows" run sends ``--grow-sends`` messages in one
session from one page and compares CPU and websocket messages per send of the first 5 with
the last 5.

An answer is finished when the server's ``script_finished`` message (FINISHED_SUCCESSFULLY, or
FINISHED_FRAGMENT_RUN_SUCCESSFULLY: ours answers a later turn in a rerun of its conversation
fragment) has arrived and the page shows it (ours: a new turn footer; bare: the answer's chat message).

Usage: ``.venv/bin/python bench/load.py [--json] [--users 1,5,10,20] [--sends 5]
[--grow-sends 30] [--shipped-delays] [--quick]``. The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path.pop(0)  # a bench script must not shadow a stdlib module
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH") or os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
]
PROMPT = "What meetings do I have this week?"
INPUT = '[data-testid="stChatInputTextArea"]'
CLK_TCK = os.sysconf("SC_CLK_TCK")
FINISHED = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
OFFLINE_FIRST_TOKEN_DELAY_S = 0.2  # assistant/models/registry.py, as shipped
OFFLINE_CHUNK_DELAY_S = 0.015

# Installed before each send: times Enter -> the new answer's first text. Ours: a live answer
# showing the streaming cursor (an answer already on the page never has one), or the new
# turn's footer when the whole answer arrived at once; bare: the new assistant message (the
# page draws its whole history, so it is message number ``before + 2``) showing text.
INSTALL_JS = r"""
([kind, before]) => {
  const input = document.querySelector('[data-testid="stChatInputTextArea"]');
  window.__t = { keydown: null, first: null };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && window.__t.keydown === null) window.__t.keydown = performance.now();
  }, { capture: true, once: true });
  const lastIdx = () => Math.max(-1, ...[...document.querySelectorAll('[class*="st-key-turn-footer-"]')]
    .map((e) => parseInt((e.className.match(/st-key-turn-footer-(\d+)/) || [0, -1])[1], 10)));
  const shown = () => {
    if (kind === 'ours') {
      for (const e of document.querySelectorAll('.st-key-live-answer [data-testid="stMarkdown"]'))
        if (e.innerText.includes('\u258d')) return true;
      return lastIdx() > before;
    }
    const msgs = document.querySelectorAll('[data-testid="stChatMessage"]');
    const md = msgs.length >= before + 2 ? msgs[before + 1].querySelector('[data-testid="stMarkdown"]') : null;
    return md !== null && md.innerText.trim().length > 0;
  };
  const check = () => {
    if (window.__t.first !== null || window.__t.keydown === null) return;
    if (shown()) { window.__t.first = performance.now(); obs.disconnect(); }
  };
  const obs = new MutationObserver(check);
  obs.observe(document.body, { childList: true, subtree: true, characterData: true });
}
"""
# ours: the highest stored turn index drawn (footer keys); bare: the number of chat messages
OURS_DONE_JS = r"""
() => Math.max(-1, ...[...document.querySelectorAll('[class*="st-key-turn-footer-"]')]
  .map((e) => parseInt((e.className.match(/st-key-turn-footer-(\d+)/) || [0, -1])[1], 10)))
"""
BARE_DONE_JS = "() => document.querySelectorAll('[data-testid=\"stChatMessage\"]').length"
INPUT_READY_JS = (
    "() => { const e = document.querySelector('[data-testid=\"stChatInputTextArea\"]'); return e && !e.disabled }"
)


# --------------------------------------------------------------------------- server


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    values = {k: int(re.search(rf"^{k}:\s+(\d+)", status, re.M).group(1)) / 1024 for k in ("VmRSS", "VmHWM")}  # type: ignore[union-attr]
    return values["VmRSS"], values["VmHWM"]


# Quiet windows in a row that make a server idle (``--quick``: 0, no wait; it times nothing that counts).
QUIET_WINDOWS = {"n": 4}


async def settled(pid: int, *, quiet_cpu_s: float = 0.02, every_s: float = 0.5, timeout_s: float = 20.0) -> None:
    """Wait until the server is idle (under ``quiet_cpu_s`` CPU in each of QUIET_WINDOWS windows
    of ``every_s`` in a row): what it does once after starting (ours: what the first send needs,
    the other pages' imports and the heap freeze, in a step that starts 1.5 s after the first
    script run) is not counted against the measured sends. One quiet window was not enough: it
    could fall in that 1.5 s pause, and the step then landed on the first measured sends."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while time.monotonic() < deadline and quiet < QUIET_WINDOWS["n"]:
        before = cpu_seconds(pid)
        await asyncio.sleep(every_s)
        quiet = quiet + 1 if cpu_seconds(pid) - before < quiet_cpu_s else 0


@dataclass
class Server:
    """A ``bench/serve.py`` process serving one app."""

    app: str
    url: str
    proc: subprocess.Popen[bytes]
    database: Path | None
    log_path: Path

    def stop(self) -> None:
        """Terminate this server process only."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def start_server(app: str, workdir: Path, *, shipped_delays: bool, timeout: float = 90.0) -> Server:
    """Start ``ours``, ``bare`` or ``bare_defaults`` (see the module docstring) on a free port; wait for health."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "load.db"
    env = {
        **os.environ,
        "ENV": "local",
        "DATABASE_URL": f"sqlite:///{database}",
        "ASSISTANT_SECRETS_FILE": os.devnull,
        "MODEL_PROVIDER": "offline",
        "MESSAGES_PER_MINUTE": "100000",
        "LOG_LEVEL": "WARNING",
    }
    if shipped_delays:
        env["BARE_FIRST_TOKEN_DELAY_S"] = str(OFFLINE_FIRST_TOKEN_DELAY_S)
        env["BARE_CHUNK_DELAY_S"] = str(OFFLINE_CHUNK_DELAY_S)
    script = "streamlit_app.py" if app == "ours" else str(ROOT / "bench" / "bare_chat.py")
    # bare_defaults runs where no .streamlit/config.toml is (Streamlit reads the working directory's)
    cwd = workdir if app == "bare_defaults" else ROOT
    cmd = [sys.executable, str(ROOT / "bench" / "serve.py")]
    if not shipped_delays and app == "ours":
        cmd.append("--zero-delay")
    cmd += [
        script,
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    log_path = workdir / f"{app}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{app} server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(url + "/_stcore/health", timeout=1).status_code == 200:
                return Server(app, url, proc, database if app == "ours" else None, log_path)
        except requests.RequestException:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{app} server not healthy in {timeout}s:\n{log_path.read_text()[-3000:]}")


# ours; the bare page served like ours; the bare page on Streamlit's defaults (module docstring)
APPS = ["ours", "bare", "bare_defaults"]


# --------------------------------------------------------------------------- one browser user


@dataclass
class User:
    """One browser page: its websocket frame count and finished script runs."""

    app: str
    name: str
    page: Any = None
    frames: int = 0
    finished: int = 0
    finished_event: asyncio.Event = field(default_factory=asyncio.Event)
    sent: list[str] = field(default_factory=list)
    first_text_ms: list[float] = field(default_factory=list)
    fallbacks: int = 0
    done: int = -1  # ours: last turn footer index; bare: chat messages drawn

    def on_frame(self, payload: str | bytes) -> None:
        """Count a frame from the server; note each script run that finished successfully."""
        self.frames += 1
        if not isinstance(payload, bytes):
            return
        msg = ForwardMsg.FromString(payload)
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished in FINISHED:
            self.finished += 1
            self.finished_event.set()

    async def open(self, browser: Any, url: str) -> None:
        """A new browser context and page on the app, ready to type."""
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = await context.new_page()
        self.page.set_default_timeout(120_000)
        self.page.on("websocket", lambda ws: ws.on("framereceived", self.on_frame))
        await self.page.goto(url)
        await self.page.wait_for_selector(INPUT)
        await self.page.wait_for_function(INPUT_READY_JS)
        self.done = await self.page.evaluate(OURS_DONE_JS if self.app == "ours" else BARE_DONE_JS)

    async def send(self, text: str, *, timed: bool = True) -> None:
        """Type ``text``, press Enter, wait until the answer is finished and drawn."""
        page = self.page
        await page.wait_for_function(INPUT_READY_JS)
        await page.fill(INPUT, text)
        await page.evaluate(INSTALL_JS, [self.app, self.done])
        finished_before = self.finished
        self.finished_event.clear()
        await page.press(INPUT, "Enter")
        self.sent.append(text)
        while self.finished <= finished_before:
            await asyncio.wait_for(self.finished_event.wait(), timeout=120)
            self.finished_event.clear()
        if self.app == "ours":
            await page.wait_for_function(f"() => ({OURS_DONE_JS})() > {self.done}")
            self.done = await page.evaluate(OURS_DONE_JS)
        else:
            await page.wait_for_function(f"() => ({BARE_DONE_JS})() >= {self.done + 2}")
            self.done = await page.evaluate(BARE_DONE_JS)
        t = await page.evaluate("() => window.__t")
        if t["first"] is None:  # not seen by the observer (should not happen): count it at "drawn"
            self.fallbacks += 1
            t["first"] = await page.evaluate("() => performance.now()")
        if timed:
            self.first_text_ms.append(float(t["first"] - t["keydown"]))

    async def close(self) -> None:
        """Close this user's browser context."""
        await self.page.context.close()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def stored_counts(database: Path, sent: list[str]) -> dict[str, int]:
    """How many of the sent prompts the database holds once, more than once, or not at all.

    ``turn_records``: the turns stored in the sessions these prompts went to.
    """
    con = sqlite3.connect(database)
    try:
        rows = list(con.execute("SELECT session_id, content FROM messages WHERE role = 'user'"))
        turns = dict(con.execute("SELECT session_id, COUNT(*) FROM turns GROUP BY session_id").fetchall())
    finally:
        con.close()
    stored = missing = duplicates = 0
    sessions: set[str] = set()
    for text in sent:
        tag = text.rsplit("[", 1)[1].rstrip("]")
        hits = [session_id for session_id, content in rows if f"[{tag}]" in content]
        sessions.update(hits)
        stored += bool(hits)
        missing += not hits
        duplicates += max(0, len(hits) - 1)
    return {
        "sent": len(sent),
        "stored": stored,
        "missing": missing,
        "duplicates": duplicates,
        "turn_records": sum(turns.get(s, 0) for s in sessions),
    }


# --------------------------------------------------------------------------- scenarios


async def run_level(browser: Any, server: Server, users: int, sends: int, label: str) -> dict[str, Any]:
    """``users`` pages each send one warm-up and ``sends`` measured messages, all at once."""
    crowd = [User(server.app, f"{label}u{i}") for i in range(users)]
    await asyncio.gather(*(u.open(browser, server.url) for u in crowd))
    await asyncio.gather(*(u.send(f"{PROMPT} [{u.name}w]", timed=False) for u in crowd))
    await settled(server.proc.pid)

    async def drive(u: User) -> None:
        for k in range(sends):
            await u.send(f"{PROMPT} [{u.name}s{k}]")

    frames_before = sum(u.frames for u in crowd)
    cpu_before = cpu_seconds(server.proc.pid)
    started = time.perf_counter()
    await asyncio.gather(*(drive(u) for u in crowd))
    wall = time.perf_counter() - started
    cpu = cpu_seconds(server.proc.pid) - cpu_before
    frames = sum(u.frames for u in crowd) - frames_before
    rss, peak = rss_mb(server.proc.pid)
    firsts = [x for u in crowd for x in u.first_text_ms]
    total = users * sends
    result: dict[str, Any] = {
        "users": users,
        "sends": total,
        "first_text_p50_ms": round(statistics.median(firsts), 1),
        "first_text_p95_ms": round(percentile(firsts, 95), 1),
        "cpu_s_per_send": round(cpu / total, 4),
        "ws_messages_per_send": round(frames / total, 1),
        "turns_per_s": round(total / wall, 2),
        "rss_mb": round(rss, 1),
        "peak_rss_mb": round(peak, 1),
        "first_text_at_drawn": sum(u.fallbacks for u in crowd),
    }
    if server.database is not None:
        result.update(stored_counts(server.database, [t for u in crowd for t in u.sent]))
    await asyncio.gather(*(u.close() for u in crowd))
    return result


async def run_grow(browser: Any, server: Server, sends: int, window: int) -> dict[str, Any]:
    """One page, ``sends`` messages in one session: per-send CPU and frames, first vs last ``window``."""
    u = User(server.app, "grow")
    await u.open(browser, server.url)
    await u.send(f"{PROMPT} [groww]", timed=False)  # the session exists; its agent is built
    await settled(server.proc.pid)
    cpu: list[float] = []
    frames: list[int] = []
    for k in range(sends):
        c0, f0 = cpu_seconds(server.proc.pid), u.frames
        await u.send(f"{PROMPT} [grows{k}]")
        cpu.append(cpu_seconds(server.proc.pid) - c0)
        frames.append(u.frames - f0)
    result: dict[str, Any] = {
        "sends": sends + 1,
        "cpu_s_per_send_first": round(statistics.mean(cpu[:window]), 4),
        "cpu_s_per_send_last": round(statistics.mean(cpu[-window:]), 4),
        "ws_messages_per_send_first": round(statistics.mean(frames[:window]), 1),
        "ws_messages_per_send_last": round(statistics.mean(frames[-window:]), 1),
        "first_text_p50_ms_first": round(statistics.median(u.first_text_ms[:window]), 1),
        "first_text_p50_ms_last": round(statistics.median(u.first_text_ms[-window:]), 1),
        "peak_rss_mb": round(rss_mb(server.proc.pid)[1], 1),
    }
    if server.database is not None:
        result.update(stored_counts(server.database, u.sent))
    await u.close()
    return result


async def run_all(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Every level and the grow run, for both apps, alternating which app goes first."""
    from playwright.async_api import async_playwright

    levels = [int(x) for x in args.users.split(",")]
    out: dict[str, Any] = {app: {} for app in APPS}
    shared: dict[str, Server] = {}

    def server_for(app: str, name: str) -> Server:
        if not args.reuse_server:
            return start_server(app, workdir / f"{app}-{name}", shipped_delays=args.shipped_delays)
        if app not in shared:
            shared[app] = start_server(app, workdir / app, shipped_delays=args.shipped_delays)
        return shared[app]

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for i, users in enumerate(levels):
                for app in APPS if i % 2 == 0 else APPS[::-1]:
                    server = server_for(app, str(users))
                    try:
                        out[app][str(users)] = await run_level(browser, server, users, args.sends, f"n{users}")
                    finally:
                        if not args.reuse_server:
                            server.stop()
                    print(app, users, out[app][str(users)], file=sys.stderr)
            if args.grow_sends:
                for app in APPS:
                    server = server_for(app, "grow")
                    try:
                        out[app]["grow"] = await run_grow(browser, server, args.grow_sends, args.grow_window)
                    finally:
                        if not args.reuse_server:
                            server.stop()
                    print(app, "grow", out[app]["grow"], file=sys.stderr)
        finally:
            await browser.close()
            for server in shared.values():
                server.stop()
    return out


def main() -> None:
    """Run the load bench and print the results (last line: JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", default="1,5,10,20", help="comma-separated concurrent users per level")
    parser.add_argument("--sends", type=int, default=5, help="measured messages per user (after one warm-up)")
    parser.add_argument("--grow-sends", type=int, default=30, help="sends in the one-session run (0: skip)")
    parser.add_argument("--grow-window", type=int, default=5, help="first/last sends compared in that run")
    parser.add_argument("--shipped-delays", action="store_true", help="keep the offline model's delays")
    parser.add_argument(
        "--reuse-server", action="store_true", help="one server per app for every level (peak RSS is then cumulative)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="N=1,2, 1 send each, a 2-send grow run, servers reused, short settling"
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args()
    if args.quick:
        args.users, args.sends, args.grow_sends, args.grow_window, args.reuse_server = "1,2", 1, 2, 1, True
        QUIET_WINDOWS["n"] = 0  # a smoke run: waiting out the servers' after-start work (~20 s) measured nothing

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        out = asyncio.run(run_all(args, Path(tmp)))
    result: dict[str, Any] = {
        "model_delays": "shipped" if args.shipped_delays else "zero",
        "levels": [int(x) for x in args.users.split(",")],
        "sends_per_user": args.sends,
        "server_per_level": not args.reuse_server,
        **out,
    }
    for baseline in ("bare", "bare_defaults"):
        ratios: dict[str, Any] = {}
        for level in result["levels"]:
            ours, bare = out["ours"][str(level)], out[baseline][str(level)]
            ratios[str(level)] = {
                "cpu_per_send": round(ours["cpu_s_per_send"] / max(bare["cpu_s_per_send"], 1e-9), 2),
                "ws_messages_per_send": round(
                    ours["ws_messages_per_send"] / max(bare["ws_messages_per_send"], 1e-9), 2
                ),
            }
        result[f"ours_vs_{baseline}"] = ratios
    result["all_stored_once"] = all(
        out["ours"][k]["stored"] == out["ours"][k]["sent"] and out["ours"][k]["duplicates"] == 0 for k in out["ours"]
    )
    result["seconds"] = round(time.perf_counter() - started, 1)
    if not args.json:
        for app in APPS:
            for key, row in out[app].items():
                print(app, key, row)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
