"""Cold start: process start -> chat input visible in a browser that is already running.

For each run, for ours (``streamlit_app.py``, ENV=local, offline model, a SQLite database
already at the schema head - a restarted replica) and for the bare chat page
(``bench/bare_chat.py``) in alternating order: ``python -m streamlit run`` is started, the
bench polls ``/_stcore/health`` every 20 ms (time until it answers 200), then the
already-open Chromium page loads the app and waits for the chat input to be visible (time
from process start to the moment the page itself laid the input out, read from the page's
clock: Playwright's visibility wait answered up to ~0.5 s late in about half the starts).
Medians of ``--runs`` runs; ``ratio`` is ours / bare on the medians.
``--fresh-db`` starts ours on an empty database each time (a first deployment: the schema
is created during the warm start). ``--other-root DIR`` also starts the app of another checkout
(``git worktree add /tmp/before HEAD~1``) in the same runs, as ``other``: before/after a change.

Usage: ``.venv/bin/python bench/cold_start.py [--json] [--runs 5] [--fresh-db]``.
The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path.pop(0)  # a bench script must not shadow a stdlib module
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH") or os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
INPUT = '[data-testid="stChatInputTextArea"]'
TARGET_RATIO = 1.3

# Installed in every page before it loads: notes the moment (epoch ms, the page's own clock) the
# chat input is first laid out and not hidden. Playwright's own visibility wait polls from
# outside the page and answered up to ~0.5 s late in about half the starts (the page's main
# thread busy loading the first run's widget chunks), for both apps; this is what the user sees.
VISIBLE_AT_JS = r"""
(() => {
  window.__inputVisibleAt = null;
  const check = () => {
    if (window.__inputVisibleAt !== null) return;
    const e = document.querySelector('[data-testid="stChatInputTextArea"]');
    if (!e) return;
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden')
      window.__inputVisibleAt = performance.timeOrigin + performance.now();
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
  const every = setInterval(() => { check(); if (window.__inputVisibleAt !== null) clearInterval(every); }, 10);
})();
"""


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(workdir: Path, database: Path) -> dict[str, str]:
    """The server's environment: ENV=local, the offline model, this database, no secrets file."""
    return {
        **os.environ,
        "ENV": "local",
        "DATABASE_URL": f"sqlite:///{database}",
        "ASSISTANT_SECRETS_FILE": os.devnull,
        "MODEL_PROVIDER": "offline",
        "LOG_LEVEL": "WARNING",
    }


def one_start(
    page: Any, app: str, workdir: Path, database: Path, timeout: float = 120.0, root: Path = ROOT
) -> dict[str, float]:
    """Start one server, time health and the visible chat input, stop it."""
    port = free_port()
    script = str(root / "bench" / "bare_chat.py") if app == "bare" else str(root / "streamlit_app.py")
    cmd = [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    url = f"http://127.0.0.1:{port}"
    log = (workdir / f"{app}.log").open("w")
    started = time.perf_counter()
    started_epoch = time.time()
    proc = subprocess.Popen(cmd, cwd=root, env=environment(workdir, database), stdout=log, stderr=subprocess.STDOUT)
    try:
        health = None
        while time.perf_counter() - started < timeout:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{app} exited with {proc.returncode}: {(workdir / f'{app}.log').read_text()[-2000:]}"
                )
            try:
                if requests.get(url + "/_stcore/health", timeout=2).status_code == 200:
                    health = time.perf_counter() - started
                    break
            except requests.RequestException:
                pass
            time.sleep(0.02)
        if health is None:
            raise RuntimeError(f"{app} not healthy in {timeout}s")
        page.goto(url)
        page.wait_for_selector(INPUT, state="visible", timeout=timeout * 1000)
        seen = page.evaluate("window.__inputVisibleAt")  # when the page showed it (epoch ms)
        visible = seen / 1000 - started_epoch if seen else time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
    page.goto("about:blank")
    return {"health_s": health, "input_visible_s": visible}


def main() -> None:
    """Run the cold-start bench and print the results (last line: JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="starts of each app (medians reported)")
    parser.add_argument("--fresh-db", action="store_true", help="ours starts on an empty database each run")
    parser.add_argument(
        "--other-root", type=Path, help="also start the app of another checkout (e.g. before a change), as 'other'"
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    apps = ["ours", "bare"] + (["other"] if args.other_root else [])
    runs: dict[str, list[dict[str, float]]] = {app: [] for app in apps}
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp, sync_playwright() as pw:
        workdir = Path(tmp)
        roots = {"ours": ROOT, "bare": ROOT, "other": args.other_root.resolve() if args.other_root else ROOT}
        databases = {app: workdir / ("other.db" if app == "other" else "app.db") for app in apps}
        if not args.fresh_db:  # a restarted replica: the schema is already at head (each checkout's own)
            for app in {"ours", *apps} - {"bare"}:
                subprocess.run(
                    [sys.executable, "-m", "assistant", "db", "upgrade"],
                    cwd=roots[app],
                    env=environment(workdir, databases[app]),
                    check=True,
                    capture_output=True,
                )
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(VISIBLE_AT_JS)
        page = context.new_page()
        page.goto("about:blank")
        for i in range(args.runs):
            for app in apps if i % 2 == 0 else apps[::-1]:
                db = workdir / f"fresh-{i}-{app}.db" if args.fresh_db else databases[app]
                runs[app].append(one_start(page, app, workdir, db, root=roots[app]))
                if not args.json:
                    print(app, i, runs[app][-1], file=sys.stderr)
        browser.close()

    def med(app: str, key: str) -> float:
        return round(statistics.median(r[key] for r in runs[app]), 2)

    result: dict[str, Any] = {
        "runs": args.runs,
        "database": "fresh" if args.fresh_db else "at head",
        "ours_input_visible_s": med("ours", "input_visible_s"),
        "bare_input_visible_s": med("bare", "input_visible_s"),
        "ours_health_s": med("ours", "health_s"),
        "bare_health_s": med("bare", "health_s"),
        "ours_input_visible_all_s": [round(r["input_visible_s"], 2) for r in runs["ours"]],
        "bare_input_visible_all_s": [round(r["input_visible_s"], 2) for r in runs["bare"]],
    }
    if args.other_root:
        result["other_root"] = str(args.other_root)
        result["other_input_visible_s"] = med("other", "input_visible_s")
        result["other_health_s"] = med("other", "health_s")
        result["other_ratio"] = round(result["other_input_visible_s"] / result["bare_input_visible_s"], 2)
    result["ratio"] = round(result["ours_input_visible_s"] / result["bare_input_visible_s"], 2)
    result["target_ratio"] = TARGET_RATIO
    result["meets_target"] = result["ratio"] <= TARGET_RATIO
    print(json.dumps(result))


if __name__ == "__main__":
    main()
