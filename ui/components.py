"""Streamlit drawing shared by the pages: a stored transcript's turns and tool steps, and the
reader's time zone for clock times.

The chat page and the sessions page's detail both draw stored turns the same way; only the
tool-step container (a status box in chat, an expander in the detail) and the footer row
(editable feedback in chat, read-only feedback in the detail) differ, and each page passes those.
Wording and formatting come from :mod:`assistant.views.conversation`. This is page glue: ``assistant/``
never imports streamlit.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from assistant.chat import DisplayTurn
from assistant.sessions.base import ToolStep, TurnRecord
from assistant.views import conversation as view
from assistant.views.format import resolve_zone
from assistant.views.markdown import pretty_json, question_markdown, screen_markdown, without_unfinished_line
from assistant.views.materials import md_text

NOT_FOUND = "That session was not found. It may have been deleted, or it belongs to someone else."
USER_AVATAR = ":material/person:"
ASSISTANT_AVATAR = ":material/support_agent:"


def browser_zone() -> ZoneInfo:
    """The reader's time zone (``st.context.timezone``), UTC when the browser sent none or an unknown one."""
    return resolve_zone(st.context.timezone)


def pinned_chat_input(placeholder: str, **kwargs: Any) -> str | None:
    """``st.chat_input`` in the bottom container (``st.bottom``), also when called inside a fragment.

    Inside a fragment ``st.chat_input`` would be drawn in place. ``st.bottom`` pins it without
    Streamlit's own "stick to the bottom" scrolling, which cannot be told that the reader
    scrolled up while an answer streams and lets go at the end of some answers: the chat page
    keeps the newest answer in view itself (:func:`follow_newest_answer`).
    """
    value = st.bottom.chat_input(placeholder, **kwargs)
    return None if value is None else str(value)


# Keeps the end of the conversation in view on the chat page:
# - when a session is shown (the page or its ``session`` changes); the welcome of a new session
#   is shown from its top, where its greeting is;
# - from the moment the reader asks (Enter, or a button such as a starter or Retry; not the
#   buttons of a stored answer), while the answer streams (the marker the chat page draws
#   meanwhile), until its footer is drawn.
# It lets go when the reader scrolls up (wheel, touch, keys, the scroll bar) and follows again
# once they are back at the bottom, or when they ask the next question. Streamlit's own
# following (a chat input pinned from the app's body) pulled a reader who scrolled up while it
# animated back down, and let go at the end of two later answers in three (the chat input
# taking the focus back reset its "did anything change size" check). While the reader is more
# than half a screen above the end of a conversation, a "Latest" button (class ``ea-jump``, styled
# by the chat page) takes them back down and follows again (not on a new session's welcome).
# What counts as asking, for the page's following and its announcements alike: Enter in the chat
# input, or a button of the page (a starter, Retry, a stopped answer's Ask again); not a stored
# answer's own buttons (its thumbs, its steps, comparing it) nor "Show earlier". Put in each
# script where ``__ON_ASK__`` stands; it calls that script's ``asked``.
_ON_ASK_JS = """  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && e.target.closest('[data-testid="stChatInput"]')) asked();
  }, true);
  const KEEPS_PLACE = '[class*="st-key-turn-footer-"], [data-testid="stExpander"], .st-key-earlier-turns';
  const ASKS_AGAIN = '[class*="st-key-ask-again-"]';
  document.addEventListener('click', (e) => {
    const button = e.target.closest('[data-testid="stMain"] button, [data-testid="stBottom"] button');
    if (button && button.closest(ASKS_AGAIN)) {
      // It asks (the answer comes below), and it goes once the question is sent again: left
      // focused, Streamlit kept showing it (a run that replaces a focused element keeps it).
      asked();
      button.blur();
    } else if (button && !button.closest(KEEPS_PLACE)) asked();
  }, true);"""

_FOLLOW_JS = """
(() => {
  if (window.__eaFollow) return;
  window.__eaFollow = true;
  const MAIN = '[data-testid="stMain"]';
  const SCROLL_KEYS = new Set(['PageUp', 'ArrowUp', 'Home']);
  let box = null, content = null, sizes = null, shown = null;
  let following = true, answering = false, settleUntil = 0, openedAt = -1e9, shownAt = 0;
  const onChat = () => !!document.querySelector('[data-testid="stBottom"] [data-testid="stChatInput"]');
  const atBottom = (c) => c.scrollHeight - c.scrollTop - c.clientHeight < 2;
  const running = () => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState !== 'notRunning';
  const follow = () => {
    // A session being opened is followed until a second after it is all shown (its run ended,
    // its chat input drawn), up to 15 s: a slow device took longer than the 2 s it was followed
    // for, and the session opened at its top, far from its latest answer.
    const t = performance.now();
    const opening = t - openedAt < 15000 && (!shownAt || t - shownAt < 1000);
    if (opening && !shownAt && onChat() && !running()) shownAt = t;
    if (box && following && (answering || opening || t < settleUntil) && onChat() && !atBottom(box)) {
      box.scrollTop = box.scrollHeight;
    }
    showJump();
  };
  const letGo = () => { following = false; };
  const jump = document.createElement('button');
  jump.className = 'ea-jump';
  jump.type = 'button';
  jump.hidden = true;
  jump.textContent = '\u2193 Latest';
  jump.title = 'Jump to the latest message';
  jump.setAttribute('aria-label', jump.title);
  jump.addEventListener('click', () => {
    following = true;
    if (box) box.scrollTo({top: box.scrollHeight, behavior: 'smooth'});
  });
  document.body.appendChild(jump);
  const showJump = () => {
    const talk = box && box.querySelector('[data-testid="stChatMessage"]');  // not a new session's welcome
    jump.hidden = !(talk && onChat() && box.scrollHeight - box.scrollTop - box.clientHeight > box.clientHeight / 2);
    const app = !jump.hidden && document.querySelector('[data-testid="stApp"]');
    if (app) {  // outside the app, it takes the theme's colours (light or dark) from it when shown
      const look = getComputedStyle(app);
      jump.style.background = look.backgroundColor;
      jump.style.color = look.color;
    }
  };
  // The Stop and Latest buttons float just above the chat input, however tall a draft makes it.
  let pinned = null;
  const inputTop = new ResizeObserver(() => {
    if (pinned) document.body.style.setProperty('--ea-above-input', `${pinned.getBoundingClientRect().height}px`);
  });
  const attach = () => {
    const bottom = document.querySelector('[data-testid="stBottom"]');
    if (bottom !== pinned) {
      if (pinned) inputTop.unobserve(pinned);
      pinned = bottom;
      if (bottom) inputTop.observe(bottom);
    }
    const c = document.querySelector(MAIN);
    const session = new URLSearchParams(location.search).get('session') || '';
    const now = location.pathname + '?' + session;
    if (now !== shown) {
      shown = now;
      following = true;
      // A session shows its end; the welcome (no session yet) its greeting, at the top.
      settleUntil = session ? performance.now() + 2000 : 0;
      openedAt = session ? performance.now() : -1e9;
      shownAt = 0;
      if (!session && c) c.scrollTop = 0;
    }
    const streaming = !!document.querySelector('.answering-marker');
    if (!streaming && answering) settleUntil = performance.now() + 1500;  // its footer and controls
    answering = streaming;
    if (c && c.firstElementChild !== content) {  // what grows as an answer streams
      if (sizes) sizes.disconnect();
      content = c.firstElementChild;
      sizes = new ResizeObserver(follow);
      if (content) sizes.observe(content);
    }
    if (c !== box && c) {
      c.addEventListener('wheel', (e) => { if (e.deltaY < 0) letGo(); }, {passive: true});
      c.addEventListener('touchmove', letGo, {passive: true});
      // the scroll bar, or the bar that shows earlier answers: the reader is going up
      const goingUp = (e) => e.target === c || !!e.target.closest('.st-key-earlier-turns');
      c.addEventListener('pointerdown', (e) => { if (goingUp(e)) letGo(); }, {passive: true});
      c.addEventListener('keydown', (e) => {
        if ((SCROLL_KEYS.has(e.key) && !e.target.closest('textarea, input')) || goingUp(e)) letGo();
      });
      let lastTop = c.scrollTop;
      c.addEventListener('scroll', () => {  // back down at the bottom (not a scroll event that was already queued)
        if (c.scrollTop > lastTop && atBottom(c)) following = true;
        lastTop = c.scrollTop;
        showJump();
      }, {passive: true});
    }
    box = c;
    follow();
  };
  // Asking (_ON_ASK_JS) follows the answer: a reader rating an old answer keeps their place.
  // What the run draws at once (a refusal, a failure) follows as well as an answer does.
  const asked = () => { following = true; settleUntil = Math.max(settleUntil, performance.now() + 3000); };
__ON_ASK__
  // On a phone the sidebar covers the page: picking a session there (or New session) closes it,
  // as Streamlit does for its page links, so the conversation it opens is in sight.
  document.addEventListener('click', (e) => {
    if (window.innerWidth >= 768) return;
    if (!e.target.closest('[data-testid="stSidebar"] :is(.st-key-new-session, .st-key-session-list) button')) return;
    setTimeout(() => document.querySelector('[data-testid="stSidebarCollapseButton"] button')?.click(), 0);
  });
  new MutationObserver(attach).observe(document.body, {childList: true, subtree: true});
  attach();
})();
""".replace("__ON_ASK__", _ON_ASK_JS)


# What a screen reader gets, on every page (installed once per browser page):
# - A Markdown ":material/name:" icon is a <span role="img" aria-label="name icon">: read
#   "payments icon $0.00 of $5.00 today", and a tab named "table_rows icon Sessions". Each is
#   hidden from assistive tech, unless it is all a button, link or tab holds (its only name).
#   Streamlit's own icons (icon=..., page links) are already aria-hidden.
# - A polite live region announces what a screen reader user otherwise learns only by reading
#   the page again: an answer finished (its footer drawn after it streamed), it failed, or a send
#   was refused. The streamed text itself is not live (too chatty).
# - Popovers take the keyboard's focus in and give it back (below).
# - A caption's help button, named "Help" on every prep card, is named after its caption.
# - A progress bar (the sidebar's spend) is named "progress" by Streamlit: it is named after the
#   line Streamlit draws above it ("$0.10 of $5.00 today"), again whenever that line changes.
# - A confirmation that appears (delete a session, the budget, the big rocks) is announced, and
#   the focus moves to its Cancel button: the Delete button that asked had gone with its popover.
# The observer only looks at the nodes each change adds; the rest waits for a check at most
# every 250 ms, a few selector queries.
_A11Y_JS = r"""
(() => {
  if (window.__eaA11y) return;
  window.__eaA11y = true;
  const ICON = 'span[role="img"][aria-label$=" icon"]';
  const HOSTS = 'button, a, [role="tab"], [role="button"], label';
  const hide = (icon) => {
    const host = icon.closest(HOSTS);
    if (host && !host.textContent.replace(icon.textContent, '').trim()) return;  // its only name
    icon.setAttribute('aria-hidden', 'true');
  };
  // A caption's (?) button is named "Help", the same on every card: it is named after its line.
  const HELP = 'p button[aria-label="Help"]';
  const nameHelp = (button) => {
    const line = button.closest('p').cloneNode(true);
    line.querySelectorAll(`button, ${ICON}`).forEach((e) => e.remove());
    const words = line.textContent.trim().replace(/\s+/g, ' ');
    if (words) button.setAttribute('aria-label', `Help for ${words}`);
  };
  const PROGRESS = '[data-testid="stProgress"]';
  const nameProgress = (box) => {
    const bar = box.querySelector('[role="progressbar"]');
    const line = box.querySelector('[data-testid="stMarkdownContainer"]');
    if (!bar || !line) return;
    const copy = line.cloneNode(true);
    copy.querySelectorAll(ICON).forEach((e) => e.remove());
    const words = copy.textContent.trim().replace(/\s+/g, ' ');
    if (words && bar.getAttribute('aria-label') !== words) bar.setAttribute('aria-label', words);
  };
  const hideIn = (node) => {
    if (node.nodeType !== 1) return;
    if (node.matches(ICON)) hide(node);
    else if (node.firstElementChild) {
      node.querySelectorAll(ICON).forEach(hide);
      node.querySelectorAll(HELP).forEach(nameHelp);
    }
  };
  const say = document.createElement('div');
  say.className = 'ea-announce';
  say.setAttribute('role', 'status');
  say.setAttribute('aria-live', 'polite');
  say.dataset.liveAnnouncer = 'true';  // a modal dialog (st.dialog) hides the rest of the page, not this
  say.style.cssText = 'position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap;';
  document.body.appendChild(say);
  const announce = (text) => {
    say.textContent = '';
    setTimeout(() => { say.textContent = text; }, 50);  // a new text, even when it is the same again
  };
  const text = (el) => {  // an alert's words, not its icon's name
    const copy = (el.querySelector('[data-testid="stAlert"]') || el).cloneNode(true);
    copy.querySelectorAll('[data-testid="stIconMaterial"], [aria-hidden="true"], [role="img"]')
      .forEach((i) => i.remove());
    const lines = [...copy.querySelectorAll('p, li')].map((p) => p.textContent);
    return (lines.length ? lines.join(' ') : copy.textContent).trim().replace(/\s+/g, ' ');
  };
  const CONFIRM = '[class*="st-key-confirm-box-"]';  // a container holding a question and its buttons
  const FOOTER = '[class*="st-key-turn-footer-"]';
  const NEWS = `.st-key-refusal, .st-key-failed-turn, ${FOOTER}`;
  const seen = new WeakSet();
  // Waiting for an answer: from a send (Enter in the chat input, a button of the page) or the end
  // of a stream, until its footer, a failure or a refusal is drawn.
  let answering = false, endedAt = 0, timer = 0;
  const asked = () => { endedAt = performance.now(); };
__ON_ASK__
  const check = () => {
    timer = 0;
    document.querySelectorAll(PROGRESS).forEach(nameProgress);  // its line may have changed in place
    const streaming = !!document.querySelector('.answering-marker');
    if (answering && !streaming) endedAt = performance.now();
    answering = streaming;
    // A box is taken once its buttons are drawn: each element comes in a message of its own, and
    // a box taken with its question only was never looked at again: its Cancel never had the focus.
    const asking = [...document.querySelectorAll(CONFIRM)].filter((e) => !seen.has(e) && e.querySelector('button'));
    asking.forEach((e) => seen.add(e));
    if (asking.length) {
      const box = asking[asking.length - 1];
      announce(text(box));
      const cancel = [...box.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Cancel');
      if (cancel) cancel.focus();
    }
    const fresh = [...document.querySelectorAll(NEWS)].filter((e) => !seen.has(e));
    fresh.forEach((e) => seen.add(e));
    if (endedAt && fresh.length) {  // what a send drew; a session opened again is no news
      endedAt = 0;
      const refusal = fresh.find((e) => e.matches('.st-key-refusal'));
      const failure = fresh.find((e) => e.matches('.st-key-failed-turn'));
      const last = fresh[fresh.length - 1].closest('[data-testid="stChatMessage"]');
      const stopped = last && last.querySelector('[aria-label="stop_circle icon"]');
      if (refusal) announce(`Not sent: ${text(refusal)}`);
      else if (failure) announce(`Answer failed: ${text(failure)}`);
      else announce(stopped ? 'Answer stopped' : 'Answer finished');
    }
    if (endedAt && !streaming && performance.now() - endedAt > 10000) endedAt = 0;
  };
  // A popover (Materials, Session actions) opened with the focus left on its button, its content
  // drawn at the end of the page: Tab went on past it, a keyboard could not reach its buttons.
  // Opening one moves the focus to its first control; Tab past its last one closes it and goes
  // on after its button; Escape, or the popover going away, brings the focus back to its button.
  const POPOVER = '[data-testid="stPopoverBody"]';
  const TABBABLE = 'button:not([disabled]), [href], input:not([disabled]), textarea, select, [tabindex="0"]';
  const inside = (root) => [...root.querySelectorAll(TABBABLE)].filter((e) => e.offsetParent !== null);
  let opener = null;
  const enter = (button, tries) => {
    const body = document.querySelector(POPOVER);
    const first = body && button.getAttribute('aria-expanded') === 'true' ? inside(body)[0] : null;
    if (first) { opener = button; first.focus(); } else if (tries) setTimeout(() => enter(button, tries - 1), 50);
  };
  document.addEventListener('click', (e) => {
    const button = e.target.closest('[data-testid="stPopoverButton"]');
    if (button && button.getAttribute('aria-expanded') !== 'true') setTimeout(() => enter(button, 20), 0);
  }, true);
  document.addEventListener('keydown', (e) => {
    const body = opener && e.target.closest && e.target.closest(POPOVER);
    if (!body) return;
    const button = opener;
    if (e.key === 'Escape') { setTimeout(() => { if (button.isConnected) button.focus(); }, 0); return; }
    if (e.key !== 'Tab') return;
    const items = inside(body);
    if (e.shiftKey && e.target === items[0]) { e.preventDefault(); button.focus(); }
    else if (!e.shiftKey && e.target === items[items.length - 1]) {
      e.preventDefault();
      const order = inside(document).filter((x) => !x.closest(POPOVER));
      button.click();  // closes it
      (order[order.indexOf(button) + 1] || button).focus();
      opener = null;
    }
  }, true);
  const backToOpener = () => {
    if (!opener || document.querySelector(POPOVER)) return;
    const active = document.activeElement;
    if (opener.isConnected && (!active || active === document.body)) opener.focus();
    opener = null;
  };
  new MutationObserver((records) => {
    for (const r of records) r.addedNodes.forEach(hideIn);
    if (opener) setTimeout(backToOpener, 0);
    if (!timer) timer = setTimeout(check, 250);
  }).observe(document.body, {childList: true, subtree: true});
  document.querySelectorAll(ICON).forEach(hide);
  document.querySelectorAll(HELP).forEach(nameHelp);
  document.querySelectorAll(PROGRESS).forEach(nameProgress);
  document.querySelectorAll(`${NEWS}, ${CONFIRM}`).forEach((e) => seen.add(e));  // what was there before: no news
  answering = !!document.querySelector('.answering-marker');
})();
""".replace("__ON_ASK__", _ON_ASK_JS)


def assistive_tech_support() -> None:
    """Hide decorative Markdown icons from screen readers, announce finished, failed and refused
    answers politely, and take the keyboard into popovers and back (see ``_A11Y_JS``). Drawn once
    per full run on every page; it installs itself once per browser page."""
    _page_script("ea-a11y", _A11Y_JS)


def _page_script(name: str, script: str) -> None:
    """Run ``script`` in the page from an element that takes no room (it hides its own container).

    ``script`` must hold no text from a request: it is put in the page as it is.
    """
    st.html(
        f'<style>[data-testid="stElementContainer"]:has(.{name}) {{ display: none; }}</style>'
        f'<span class="{name}"></span><script>{script}</script>',
        unsafe_allow_javascript=True,
    )


def follow_newest_answer() -> None:
    """Keep the end of the conversation in view (see ``_FOLLOW_JS``); on a phone, close the
    sidebar once a session is picked there.

    Its script installs itself once per browser page, however often a run draws it.
    """
    _page_script("ea-follow", _FOLLOW_JS)


def show_from_top(view_key: str) -> None:
    """Scroll the page to its top once each time ``view_key`` changes (a session's detail opened).

    Streamlit keeps the page's scroll position when a click swaps what the page shows, so a row
    clicked low in a long table opened its session with the title and buttons out of sight.
    Reruns of the same view (a click on its own controls) leave the reader's place alone.
    """
    # Only a digest of the key goes into the script: it comes from the URL (a session id as
    # typed), and "</script>" in it would end the script and run what follows.
    key = hashlib.sha256(view_key.encode("utf-8", "replace")).hexdigest()[:16]
    script = (
        f"(() => {{ const key = '{key}'; if (window.__eaTop === key) return; window.__eaTop = key;"
        " const c = document.querySelector('[data-testid=\"stMain\"]'); if (c) c.scrollTop = 0; })();"
    )
    _page_script("ea-top", script)


def step_input(value: Any) -> None:
    """A tool step's "Input" section (its arguments as JSON), one element."""
    st.markdown(step_input_markdown(value), anchors=False)


def step_result(text: str | None) -> None:
    """A tool step's "Result" section, one element."""
    st.markdown(step_result_markdown(text), anchors=False)


def step_input_markdown(value: Any) -> str:
    """A tool step's "Input" section as Markdown: a small grey label and the arguments as a JSON block.

    Each section is one element rather than a caption and a block: a long session redraws every
    stored step on each script run, and each element is a websocket message.
    """
    code = pretty_json(value)
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)  # longer than any run of backticks in the JSON
    return f":gray[:small[Input]]\n\n{fence}json\n{code}\n{fence}"


def step_result_markdown(text: str | None) -> str:
    """A tool step's "Result" section as Markdown: a small grey label and the result as typed.

    The result is plain text that quotes meeting titles (other people's text) and the model's
    arguments: each line is shown as itself (:func:`md_text`), an address in it never a link.
    """
    lines = [md_text(line) for line in (text or "(no result)").splitlines() if line.strip()]
    return ":gray[:small[Result]]\n\n" + "  \n".join(lines or ["(no result)"])


def step_body(input_markdown: str, result: str | None) -> str:
    """A finished tool step's content as one Markdown element: its input section, then its result."""
    return f"{input_markdown}\n\n{step_result_markdown(result)}"


def step_icon(status: str) -> str:
    """The icon of a finished tool step: failed, or done."""
    return ":material/error:" if status == "error" else ":material/check_circle:"


def draw_step(step: ToolStep) -> None:
    """One stored tool step, collapsed, with a done or failed icon.

    An expander rather than ``st.status``: Streamlit pauses 50 ms per status box it creates,
    which made every rerun of a long session wait on its stored steps.
    """
    label = view.tool_label(step.name, step.status, step.duration_ms)
    with st.expander(label, icon=step_icon(step.status)):
        st.markdown(step_body(step_input_markdown(step.input), step.result), anchors=False)


def draw_turn(
    item: DisplayTurn,
    *,
    footer_key: str,
    footer: Callable[[TurnRecord], None],
) -> None:
    """One stored turn: the user's message, then the answer's text and tool steps in order,
    a stopped note, and a footer row keyed ``f"{footer_key}-{turn.idx}"`` that ``footer`` fills."""
    turn = item.turn
    with st.chat_message("user", avatar=USER_AVATAR):
        st.markdown(question_markdown(item.user_text), anchors=False)
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        last_text = max((i for i, (kind, _) in enumerate(item.parts) if kind == "text"), default=-1)
        for i, (kind, part) in enumerate(item.parts):
            if kind == "text":
                text = str(part)
                if i == last_text and turn.status == "stopped":
                    text = without_unfinished_line(text)  # a lone "-" it stopped at is no heading underline
                st.markdown(screen_markdown(text), anchors=False)
            else:
                draw_step(part)
        if not item.parts:
            st.caption("(no answer text)")
        note = view.stopped_note(turn)
        if note:
            st.caption(f":material/stop_circle: {note}")
        with st.container(horizontal=True, vertical_alignment="center", key=f"{footer_key}-{turn.idx}"):
            footer(turn)


def hidden_answers_bar(
    key: str,
    hidden: int,
    *,
    later: bool,
    step: int,
    show: Callable[[int], None],
    step_to: int,
    all_to: int,
    button_keys: tuple[str, str],
) -> None:
    """The bar of a long session's answers not drawn: "N earlier/later answers not shown",
    "Show N earlier/more" and, when one step does not show them all, "Show all".

    Args:
        key: The bar's key (its CSS class).
        hidden: How many answers are not shown.
        later: Whether they follow the drawn ones (the Sessions detail) or precede them (the chat).
        step: How many one click shows (at most ``hidden``).
        show: Called with ``step_to`` or ``all_to`` when a button is clicked.
        step_to: What "Show N" passes to ``show``.
        all_to: What "Show all" passes to ``show``.
        button_keys: The keys of the step button and of "Show all".
    """
    step = min(step, hidden)
    where = "later" if later else "earlier"
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key=key):
        icon = ":material/more_horiz:" if later else ":material/history:"
        st.caption(f"{icon} {hidden} {where} {'answer' if hidden == 1 else 'answers'} not shown")
        st.button(
            f"Show {step} {'more' if later else 'earlier'}",
            icon=":material/expand_more:" if later else ":material/expand_less:",
            key=button_keys[0],
            on_click=show,
            args=(step_to,),
        )
        if step < hidden:
            st.button("Show all", key=button_keys[1], on_click=show, args=(all_to,))
