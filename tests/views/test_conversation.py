"""Tests of the chat page's wording and formatting (assistant/views/conversation.py)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from assistant.sessions.base import SessionMeta, TurnRecord
from assistant.views import conversation as view

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _turn(**kw: object) -> TurnRecord:
    base: dict[str, object] = dict(
        idx=0,
        user_text="hi",
        started_at=NOW,
        ended_at=NOW,
        status="ok",
        first_message_idx=0,
        end_message_idx=2,
        model="offline",
        input_tokens=1500,
        output_tokens=340,
        cost_usd=0.0,
        ttft_ms=420.0,
        latency_ms=2300.0,
    )
    base.update(kw)
    return TurnRecord(**base)  # type: ignore[arg-type]


def _meta(**kw: object) -> SessionMeta:
    base: dict[str, object] = dict(
        id="s1", user_id="u", title="Acme prep", state="active", created_at=NOW, updated_at=NOW, model="offline"
    )
    base.update(kw)
    return SessionMeta(**base)  # type: ignore[arg-type]


def test_footer_offline_is_zero_and_labelled() -> None:
    text = view.turn_footer(_turn())
    assert text == "1.5k in · 340 out tokens · $0.00 (offline demo model) · first token 420 ms · 2.3 s"


def test_footer_unknown_cost_is_never_zero() -> None:
    text = view.turn_footer(_turn(model="bedrock:some-new-model", cost_usd=None, ttft_ms=None))
    assert "cost unknown" in text and "$0" not in text and "first token" not in text


def test_footer_paid_model_shows_cost() -> None:
    assert "$0.0031" in view.turn_footer(_turn(model="bedrock:us.amazon.nova-lite-v1:0", cost_usd=0.0031))


def test_session_cost_text_unknown_and_partial() -> None:
    assert view.session_cost_text(_meta(cost_unknown=True, cost_usd=0.0)) == "unknown"
    assert view.session_cost_text(_meta(cost_unknown=True, cost_usd=0.02)).startswith("at least $0.02")
    assert view.session_cost_text(_meta()) == "$0.00 (offline demo model)"
    assert view.session_summary(_meta(turn_count=1, input_tokens=900, output_tokens=300)).startswith("1 answer · 1.2k")


def test_session_summary_says_when_its_totals_hold_failed_calls() -> None:
    """The sidebar's "This session" counted the billed calls of answers that failed (they are in the
    totals) without a word, so it read more than its answers' footers added up to."""
    assert "failed" not in view.session_summary(_meta(turn_count=1, input_tokens=900, output_tokens=300))
    line = view.session_summary(_meta(turn_count=1, input_tokens=900, output_tokens=300, errors=2))
    assert line.endswith("(incl. 2 failed calls)"), line
    assert view.session_summary(_meta(turn_count=1, errors=1)).endswith("(incl. 1 failed call)")


def test_budget_view() -> None:
    b = view.budget_view(1.25, 5.0)
    assert b.text == "$1.25 of $5.00 today" and b.fraction == 0.25 and not b.over
    assert view.budget_view(6.0, 5.0).fraction == 1.0 and view.budget_view(6.0, 5.0).over
    assert "no daily budget" in view.budget_view(0.0, 0.0).text
    unpriced = view.budget_view(1.25, 5.0, unpriced_calls=1)
    assert unpriced.text == "≥ $1.25 of $5.00 today · 1 call without a price" and unpriced.fraction == 0.25
    assert (
        view.budget_view(0.0, 0.0, unpriced_calls=3).text == "≥ $0.00 today (no daily budget) · 3 calls without a price"
    )


def test_retry_at_text() -> None:
    assert view.retry_at_text(None, NOW) is None
    assert view.retry_at_text(NOW + timedelta(seconds=41.5), NOW) == "You can send again at 12:00:41 UTC (in 42 s)."
    new_york = ZoneInfo("America/New_York")  # NOW is in March, before the switch to daylight time
    text = view.retry_at_text(NOW + timedelta(seconds=41.5), NOW, new_york)
    assert text == "You can send again at 07:00:41 EST (in 42 s)."


def test_a_wait_of_hours_reads_in_hours_and_minutes() -> None:
    """A budget used up in the morning frees at midnight: the wait read "in 900 min 56 s"."""
    midnight = NOW.replace(hour=0, minute=0, second=0) + timedelta(days=1)
    assert view.retry_at_text(midnight, midnight - timedelta(hours=15, seconds=55)) == (
        "You can send again at 00:00:00 UTC (in 15 h 1 min)."
    )
    assert view.retry_at_text(midnight, midnight - timedelta(hours=2, seconds=-1)) == (
        "You can send again at 00:00:00 UTC (in 2 h)."
    )
    assert view.retry_at_text(NOW + timedelta(minutes=14, seconds=2.5), NOW) == (
        "You can send again at 12:14:02 UTC (in 14 min 3 s)."
    )


def test_error_views() -> None:
    conflict = view.error_view("conflict", "The session changed elsewhere.", False)
    assert conflict.action == "reload" and "Reload" in conflict.message
    assert view.error_view("network", "Could not reach the model.", True).action == "retry"
    denied = view.error_view("access_denied", "No access.", False)
    assert denied.action is None and denied.title.startswith("The assistant has no access")
    assert view.error_view("weird", "x", True).title == "Something went wrong"
    overflow = view.error_view(
        "context_overflow", "This conversation is too long for the model. Start a new one.", False
    )
    assert overflow.message == "Start a new one."
    assert view.error_view("timeout", "The model took too long to answer.", True).message == ""


def test_every_model_error_reads_once_under_its_title() -> None:
    """The page draws the title in bold, then the message: "The model is busy right now. The model
    service is busy right now (too many requests)" said it twice."""
    from assistant.models import errors

    kinds = [v for v in vars(errors).values() if isinstance(v, tuple) and len(v) == 3 and isinstance(v[1], str)]
    assert len(kinds) >= 3, "the model errors' (category, message, retryable) triples"
    for category, message, retryable in kinds:
        shown = view.error_view(category, message, retryable)
        words = shown.title.lower().rstrip(".").split()
        for i in range(len(words) - 3):
            phrase = " ".join(words[i : i + 4])
            assert phrase not in shown.message.lower(), (category, shown.title, shown.message)


def test_a_message_whose_first_sentence_runs_on_from_the_title_reads_as_one_sentence() -> None:
    """A stream that sent a chunk that was not JSON showed "**Something went wrong.** While the model
    was answering. Press Retry": the title was cut off the front of the message's own first sentence."""
    from assistant.models.errors import _GENERIC

    category, message, retryable = _GENERIC
    shown = view.error_view(category, message, retryable)
    assert f"**{shown.title}.** {shown.message}" == (
        "**Something went wrong while the model was answering.** Press Retry; if it keeps failing, start a new session."
    )
    assert shown.action == "retry"
    said_once = view.error_view("network", "The model could not be reached: the server is down.", True)
    assert (said_once.title, said_once.message) == ("The model could not be reached", "The server is down.")


def test_feedback_mapping_round_trips() -> None:
    for stored in (1, -1, None):
        assert view.feedback_value(view.feedback_index(stored)) == stored


def test_display_title_is_inert() -> None:
    text = view.display_title("![x](https://evil/?q=1) <script>alert(1)</script> :material/home: **bold**")
    assert "<script>" not in text and "![x](" not in text and "!\\[x\\]" in text
    assert ":material/home:" not in text and "**bold**" not in text
    assert view.display_title("a" * 50, 10) == "aaaaaaaaa…"
    assert view.display_title("   ") == "New session"


def test_an_address_in_a_session_title_is_not_a_link() -> None:
    # A prep session started from the Prep queue is titled by its first message, which quotes the
    # meeting's title ("Prepare me for Verify at https://evil.example/login, …"): someone else's
    # text. The chat page's header and sidebar card, and the Sessions page's detail, drew the
    # address as a clickable link (seen in Chromium). It reads as typed and links nowhere now.
    title = "Prepare me for Verify at https://evil.example/login, www.evil.example or it@evil.example"
    for shown in (view.display_title(title), view.display_title(title, 60)):
        assert "://" not in shown and not re.search(r"www\\?\.", shown) and not re.search(r"@\w", shown), shown
    assert view.display_title(title).replace("\u200b", "").replace("\\", "") == title


def test_tool_label_and_states() -> None:
    assert (
        view.tool_label("get_upcoming_meetings", "success", 12.0)
        == "Get upcoming meetings · `get_upcoming_meetings` · 12 ms"
    )
    assert view.tool_label("x", "running", None).endswith("running…")
    assert view.tool_label("x", "error", 3.0).endswith("failed")
    assert view.state_badge("expired").color == "orange"
    assert view.model_badge("offline demo model", True).icon == ":material/science:"


def test_a_model_served_on_the_deployments_own_machine_is_not_badged_as_a_cloud() -> None:
    """An Ollama model's badge showed a cloud beside "llama3.2 (local)"."""
    from assistant.views.models import model_view

    local, hosted = model_view("ollama:llama3.2"), model_view("anthropic:claude-haiku-4-5")
    assert view.model_badge(local.label, local.is_offline, local.is_local).icon == ":material/computer:"
    assert view.model_badge(hosted.label, hosted.is_offline, hosted.is_local).icon == ":material/cloud:"


def test_stopped_note_and_read_only_notice() -> None:
    assert view.stopped_note(_turn()) is None
    assert view.stopped_note(_turn(status="stopped", error="Stopped by the user.")) == "Stopped by the user."
    assert "expired" in view.read_only_notice(_meta(state="expired"))
    assert "completed" in view.read_only_notice(_meta(state="completed"))


def test_export_filename_is_safe() -> None:
    name = view.export_filename(_meta(title="Q3 / board: <prep>?"), "md")
    assert name == "session-2026-03-02-q3-board-prep.md"


LABEL_ATTACKS = [
    "![x](http://host/leak)",
    "[x](http://host/leak)",
    "[x](javascript:alert(1))",
    "`a` ![x](http://host/leak) `b`",
    "name`![x](http://host/leak)`",
    "<img src=http://host/leak>",
    ":material/home: :red[big] $x^2$ **bold**",
    "line\n\n# heading ![x](http://host/leak)",
]


def _unescaped(text: str, chars: str) -> list[str]:
    """Characters from ``chars`` in ``text`` that Markdown would read as syntax (not backslash-escaped)."""
    return [
        m.group(2) for m in re.finditer(r"(\\*)(.)", text, re.DOTALL) if m.group(2) in chars and not len(m.group(1)) % 2
    ]


def _as_read(markdown: str) -> str:
    """What a reader sees of escaped plain text: escapes, entities and zero-width spaces gone."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown)).replace("\u200b", "")


@pytest.mark.parametrize("name", LABEL_ATTACKS)
def test_tool_label_shows_a_model_supplied_name_as_plain_text(name: str) -> None:
    """Labels render Markdown (links, images, icons): a tool name from the model must stay text."""
    for status, duration in (("running", None), ("success", 12.0), ("error", 3.0)):
        label = view.tool_label(name, status, duration)
        assert not _unescaped(label, "[]<`*$#"), label
        assert ":material/" not in label and "\n" not in label
        assert " ".join(name.split()) in _as_read(label), "the name is still shown, as typed"


@pytest.mark.parametrize("title", LABEL_ATTACKS)
def test_titles_in_labels_are_plain_text(title: str) -> None:
    text = view.display_title(title, view.SIDEBAR_TITLE_CHARS)
    assert not _unescaped(text, "[]<`*$#"), text
    assert ":material/" not in text and "\n" not in text
    assert _as_read(text).startswith(" ".join(title.split())[:20])


def test_export_filename_dates_the_session_on_the_readers_day() -> None:
    # Started at 08:30 in Tokyo on 6 March, its export was named after 5 March (the UTC date).
    meta = _meta(created_at=datetime(2026, 3, 5, 23, 30, tzinfo=UTC))
    assert view.export_filename(meta, "md", ZoneInfo("Asia/Tokyo")) == "session-2026-03-06-acme-prep.md"
    assert view.export_filename(meta, "json") == "session-2026-03-05-acme-prep.json"  # UTC by default


ZALGO = "Z" + "\u0336\u030d\u0346\u0350\u035b" * 24  # one letter and 120 combining marks: one glyph


def test_a_title_of_stacked_combining_marks_is_cut_to_a_few_per_letter() -> None:
    # A session (or meeting) title of one letter and 119 combining marks is one grapheme that no
    # line can break: it ran off the page's right edge (the session header, the sidebar card and
    # list), and with a font that stacks marks it draws a column of them over the text above.
    from assistant.sessions.rows import clean_title

    for shown in (view.display_title(ZALGO), clean_title(ZALGO)):
        assert shown.startswith("Z\u0336\u030d\u0346\u0350") and len(shown) <= 1 + 4, repr(shown)
    vietnamese = "Tiếng Việt, nhà, ả"  # NFD marks on a letter (two at most) stay
    import unicodedata

    nfd = unicodedata.normalize("NFD", vietnamese)
    assert clean_title(nfd) == nfd and view.display_title(nfd) == nfd
    keycap = "1\ufe0f\u20e3 Q3 review"  # an emoji's selector and enclosing mark stay
    assert view.display_title(keycap) == keycap


def test_an_answer_or_message_of_stacked_combining_marks_is_cut_to_a_few_per_letter() -> None:
    # The same glyph in a message, or in an answer quoting a meeting's title, overflowed the chat column.
    from assistant.views.markdown import safe_markdown, screen_markdown

    for shown in (screen_markdown(f"Prep for {ZALGO} today"), safe_markdown(ZALGO)):
        assert "Z\u0336\u030d\u0346\u0350 " in shown + " " and shown.count("\u0336") == 1, repr(shown)


def test_a_title_of_dashes_is_not_a_horizontal_rule() -> None:
    # A session (or meeting) titled "---" is a thematic break in Markdown: its entry in the chat
    # sidebar's session list was an empty button (only the icon), the session unfindable by eye.
    for title in ("---", "- - -", "-----"):
        assert view.display_title(title).startswith("\\-"), title
    assert view.display_title("- Hiring plan") == "\\- Hiring plan"  # renders "- Hiring plan", as before
    assert view.display_title("Q3 - review") == "Q3 - review"


def test_a_kept_question_reads_as_one_sentence_under_its_title() -> None:
    """A question whose answer the server never finished read "**Not answered.** : the server
    restarted while …": the title was cut from the message, its colon was left behind."""
    from assistant.chat.pending import INTERRUPTED_MESSAGE, UNRECORDED_MESSAGE

    for message in (INTERRUPTED_MESSAGE, UNRECORDED_MESSAGE):
        shown = view.error_view("interrupted", message, True)
        assert shown.title == "Not answered"
        assert shown.message[:1].isupper(), shown.message
        assert not shown.message.startswith((":", ".", " ")), shown.message
    assert view.error_view("interrupted", INTERRUPTED_MESSAGE, True).message == (
        "The server restarted while this question was being answered. Nothing was lost."
    )


def test_a_continued_session_says_when_it_answers_with_another_model() -> None:
    """Continuing a session whose model is no longer offered switched to the default silently."""
    earlier = _meta(title="Acme renewal", turn_count=3, model="bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0")
    note = view.continued_note(earlier, "offline")
    assert note.startswith("Continues “Acme renewal” (3 answers): the assistant remembers that conversation. ")
    assert "Claude" in note and "not offered to you now: this one uses " + view.OFFLINE_LABEL in note
    same = view.continued_note(_meta(title="Acme renewal", turn_count=3), "offline")
    assert same == "Continues “Acme renewal” (3 answers): the assistant remembers that conversation."
    assert "not offered" not in view.continued_note(earlier, None)
