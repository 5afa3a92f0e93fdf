"""Accessibility audit: axe-core on every page and state of the app, in the light and dark theme.

Starts the app twice (the offline model; and a model whose first call fails, for the failed
answer with Retry), opens each state in Chromium, injects axe-core and lists its violations:
chat (new session, an answer streaming, a finished answer with its tool step open, a failed
answer), My context (demo data, then an uploaded .ics), Sessions & cost (list, a session's
detail, the cost dashboard). Screenshots go to ``--shots`` (default: a temporary folder).

axe-core is not a dependency of the app: install it anywhere with npm and name its file,
``npm install --prefix /tmp/axe axe-core`` then ``--axe /tmp/axe/node_modules/axe-core/axe.min.js``.

Usage: ``.venv/bin/python bench/a11y_audit.py --axe PATH [--json] [--themes light,dark]``.
Exit 1 when a serious or critical violation is found. The last stdout line is one JSON object.
Known and not ours (Streamlit's own widgets): ``presentation-role-conflict`` (minor) on the file
uploaders' drop zones.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path.pop(0)  # a bench script must not shadow a stdlib module
sys.path.insert(0, str(ROOT))

from tests.fixtures.streamlit_server import CHROMIUM, CHROMIUM_ARGS, start_streamlit  # noqa: E402

IDLE = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED'; }"""
INPUT = '[data-testid="stChatInputTextArea"]'
FOOTERS = '[class*="st-key-turn-footer-"]'
RUN_AXE = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map((v) => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.slice(0, 5).map((n) => ({target: n.target.join(' '), summary: n.failureSummary}))}))"""


def one_meeting_ics() -> bytes:
    """A calendar with one meeting tomorrow, as an upload."""
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    stamp = f"{start:%Y%m%dT%H%M%SZ}"
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//audit//EN\r\nBEGIN:VEVENT\r\nUID:audit-1\r\n"
        f"DTSTAMP:{stamp}\r\nDTSTART:{stamp}\r\nDURATION:PT1H\r\nSUMMARY:Audit review\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


class Audit:
    """Opens states in one browser page and records axe's violations for each."""

    def __init__(self, page: Any, axe: Path, theme: str, shots: Path) -> None:
        self.page, self.axe, self.theme, self.shots = page, axe, theme, shots
        self.found: dict[str, list[dict[str, Any]]] = {}

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector('[data-testid="stMain"] :is(h1, h2)')
        self.settle()

    def settle(self) -> None:
        self.page.wait_for_function(IDLE)
        self.page.wait_for_timeout(600)

    def check(self, state: str) -> None:
        name = f"{self.theme}-{state}"
        self.page.add_script_tag(path=str(self.axe))
        self.found[name] = self.page.evaluate(RUN_AXE)
        self.page.screenshot(path=str(self.shots / f"{name}.png"))
        print(f"{name}: {len(self.found[name])} violation(s)")
        for v in self.found[name]:
            print(f"  [{v['impact']}] {v['id']}: {v['help']}")
            for node in v["nodes"]:
                print(f"      {node['target'][:110]}")

    def ask(self, text: str) -> None:
        self.page.fill(INPUT, text)
        self.page.press(INPUT, "Enter")


def audit_theme(browser: Any, urls: tuple[str, str], axe: Path, theme: str, shots: Path) -> dict[str, Any]:
    """Every state of the app in one theme."""
    app, failing = urls
    context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=theme)
    page = context.new_page()
    page.set_default_timeout(30_000)
    audit = Audit(page, axe, theme, shots)
    try:
        audit.open(app)
        audit.check("chat-new")
        audit.ask("What is the status of our big rocks and how is our budget tracking?")
        page.wait_for_selector(".answering-marker", state="attached")
        audit.check("chat-streaming")
        page.wait_for_selector(FOOTERS)
        audit.settle()
        page.locator('[data-testid="stChatMessage"] [data-testid="stExpander"] summary').first.click()
        audit.settle()
        audit.check("chat-answer-with-tool-step")
        session = page.url.split("session=")[-1].split("&")[0]
        audit.open(failing)
        audit.ask("How is our budget tracking?")
        page.get_by_role("button", name="Retry").first.wait_for()
        audit.settle()
        audit.check("chat-failed-with-retry")
        audit.open(app + "/context")
        audit.check("context-demo")
        page.locator("[class*='st-key-cal-upload-'] input[type='file']").set_input_files(
            files=[{"name": "audit.ics", "mimeType": "text/calendar", "buffer": one_meeting_ics()}]
        )
        page.get_by_text("Audit review").first.wait_for(state="attached")  # a table's cell
        audit.settle()
        audit.check("context-uploaded-ics")
        audit.open(app + "/sessions")
        audit.check("sessions-list")
        audit.open(f"{app}/sessions?session={session}")
        audit.check("sessions-detail")
        audit.open(app + "/sessions")
        page.get_by_role("tab", name="Cost dashboard").click()
        audit.settle()
        page.wait_for_timeout(1000)  # the charts draw after the run
        audit.check("sessions-dashboard")
    finally:
        context.close()
    return audit.found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--axe", type=Path, required=True, help="axe-core's axe.min.js")
    parser.add_argument("--themes", default="light,dark")
    parser.add_argument("--shots", type=Path, default=None, help="folder for the screenshots")
    parser.add_argument("--port", type=int, default=None, help="first port of 1 + 1 per theme (default: free)")
    parser.add_argument("--json", action="store_true", help="(the last line is JSON either way)")
    args = parser.parse_args()
    if not args.axe.is_file():
        parser.error(f"--axe: no file at {args.axe} (npm install --prefix /tmp/axe axe-core)")
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="a11y-audit-"))
    shots = args.shots or work / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    themes = [t.strip() for t in args.themes.split(",") if t.strip()]

    def start(name: str, n: int, env: dict[str, str] | None = None) -> Any:
        (work / name).mkdir()
        return start_streamlit(work / name, env, port=args.port + n if args.port else None)

    app = start("app", 0)
    found: dict[str, Any] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for n, theme in enumerate(themes, 1):  # a server whose model fails its first call, per theme
                failing = start(f"failing-{theme}", n, {"MODEL_PROVIDER": "faulty:network"})
                try:
                    found.update(audit_theme(browser, (app.url, failing.url), args.axe, theme, shots))
                finally:
                    failing.stop()
            browser.close()
    finally:
        app.stop()
    serious = sorted(
        {f"{state}:{v['id']}" for state, vs in found.items() for v in vs if v["impact"] in ("serious", "critical")}
    )
    print(f"screenshots: {shots}")
    print(json.dumps({"states": len(found), "violations": found, "serious_or_critical": serious}))
    return 1 if serious else 0


if __name__ == "__main__":
    sys.exit(main())
