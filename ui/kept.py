"""What the browser already shows of a conversation is not sent to it again on a fragment rerun.

Streamlit's page drops every element of a rerun fragment that the run does not send again, so
each send on the chat page (a rerun of its conversation fragment) sent every earlier answer
again: most of a send's websocket messages. The page keeps, however, an element that carries no
fragment id, as long as the blocks around it (chat messages, expanders, rows) are sent again:
a block sent again with the same type keeps its children. So while :meth:`Kept.plain` is on,
blocks and plain elements (text, captions, alerts, code, a progress bar; not widgets, whose
clicks must still rerun the fragment alone) are sent without their fragment id, and on a later
fragment rerun a plain element is not sent at all when the browser holds the very same element
at the same place. Blocks and widgets are sent on every run.

What the browser holds is recorded per browser tab, from the messages each run sends:
- a full run starts from nothing (the page then drops whatever the run does not send);
- a block sent again with another type, or an element sent where a block was, loses its
  children; a block not sent again is dropped by the page with its children;
- a kept element that a fragment rerun no longer draws, inside a block it sent again, would
  stay on the page: the run's end replaces it with an empty element (which the next rerun drops).

A run cut short by a click inside the fragment loses the messages still queued that carry the
fragment's id, and keeps those that carry none. So nothing is sent without the id where it could
end up without its place: below a block or after a widget that this run put at a new place
(those go with the id, as before). What the browser holds after such a run is unknown, so the
next run drops nothing and keeps only what was there before the cut. A run that ends normally
loses them too when a click came while it ran: Streamlit holds that click's rerun until the run
ends and starts it at once, and the new run's start drops what is still queued with the id (the
end of this run: the thumbs and figures of an answer drawn last). So it counts as cut short.

Blocks and widgets too (the frame). The page drops what a rerun did not send again only inside a
block that carries the fragment's id and was sent in that run: Streamlit's own container of the
fragment, which it sends first on every rerun (Streamlit 1.67's ``ClearStaleNodeVisitor``). So a
rerun that knows what the browser shows sends that container once more without the id (as the
full run sent it, recorded by :func:`watch`), and the page keeps every node it is not sent again.
Such a run then sends no block, widget or element the browser holds identically at the same
place, unless a block above it was sent with the id (which drops what it is not sent again), and
replaces what it no longer draws with an empty element itself. With every earlier answer's chat
messages, rows and thumbs not sent again, a send's messages no longer grow with the session.

Except inside a block that carries the fragment's id (what the fragment draws outside
:meth:`Kept.plain`: the welcome, its Prep queue cards). Setting anything below such a block, even
one download button whose file id is new every run, makes the page count every block above it
as this run's, and then drop each of their children the run did not send again. So such a block,
and all it holds, is sent on every run, as before the frame.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import streamlit as st
from streamlit.proto.Empty_pb2 import Empty as EmptyProto
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

logger = logging.getLogger("assistant.pages.kept")

STATE = "_ea_kept"  # the tab's _Shown
FRAME = "_ea_kept_frame"  # the fragment container's place and block, as the last full run sent it
# Elements that are no widget: the page keeps them across fragment reruns when they carry no fragment id.
PLAIN = frozenset({"markdown", "alert", "code", "progress"})
SIDEBAR = (1,)  # the sidebar's root container

Path = tuple[int, ...]


def _below(path: Path, paths: Iterator[Path] | list[Path] | set[Path]) -> list[Path]:
    n = len(path)
    return [p for p in paths if len(p) > n and p[:n] == path]


@dataclass
class _Shown:
    """What one browser tab holds below the conversation fragment's container."""

    elements: dict[Path, bytes] = field(default_factory=dict)  # plain elements sent without a fragment id
    blocks: dict[Path, str] = field(default_factory=dict)  # the type of each block there
    present: set[Path] = field(default_factory=set)  # every place the page fills (blocks and elements)
    slots: dict[Path, bytes] = field(default_factory=dict)  # the sidebar's placeholders filled by the fragment
    bodies: dict[Path, bytes] = field(default_factory=dict)  # every block and element there, as last sent
    ids: dict[Path, str] = field(default_factory=dict)  # the element id of each widget (and keyed block) there
    prints: dict[Path, str] = field(default_factory=dict)  # what each held-able block was drawn from (hold)
    id_blocks: set[Path] = field(default_factory=set)  # the blocks there that carry the fragment's id
    whole: bool = True  # the last run ended normally: all it sent reached the browser

    def forget_below(self, path: Path) -> None:
        """Forget what lay inside ``path`` (a block the page dropped or replaced)."""
        for p in _below(path, list(self.elements)):
            del self.elements[p]
        for p in _below(path, list(self.blocks)):
            del self.blocks[p]
        for known in (self.bodies, self.ids, self.prints):
            for p in _below(path, list(known)):
                del known[p]
        self.present.difference_update(_below(path, self.present))
        self.id_blocks.difference_update(_below(path, self.id_blocks))

    def forget(self, path: Path) -> None:
        """Forget ``path`` and what lay inside it."""
        self.forget_below(path)
        for known in (self.elements, self.blocks, self.bodies, self.ids, self.prints):
            known.pop(path, None)
        self.present.discard(path)
        self.id_blocks.discard(path)


class Kept:
    """The filter of one script run of the conversation fragment (see the module docstring)."""

    def __init__(
        self,
        ctx: Any,
        shown: _Shown,
        fragment_run: bool,
        root: Path,
        fragment_id: str = "",
        frame: tuple[Path, bytes] | None = None,
    ) -> None:
        self._ctx = ctx
        self._fragment_id = fragment_id  # the conversation fragment's (its empties carry it)
        self._send: Callable[[ForwardMsg], None] = ctx.enqueue
        self._shown = shown
        self._fragment_run = fragment_run
        self._trust = fragment_run and shown.whole  # drop what the browser shows (it is known)
        self._before = set(shown.present)  # the places filled before this run
        self._root = root
        self._touched: set[Path] = set()
        self._with_id: set[Path] = set()  # new places this run filled with the fragment's id
        self._sent_with_id: set[Path] = set()  # blocks this run sent with the id (they drop what is not sent)
        self._plain = False
        self._skipped_block: Path | None = None  # the last message was this block, not sent again
        self.skipped = 0  # elements not sent again
        # The page keeps what this run does not send again (module docstring): the frame.
        self._frame = self._trust and frame is not None and frame[0] == root
        if self._frame and frame is not None:
            self._send(_frame_at(root, frame[1]))

    @contextmanager
    def plain(self) -> Iterator[None]:
        """While on, blocks and plain elements go without a fragment id, and not at all when already shown."""
        self._plain = True
        try:
            yield
        finally:
            self._plain = False

    def _may_go_without_id(self, path: Path) -> bool:
        """Whether ``path`` and each block above it keep their place if the run is cut short:
        nothing before them at their level is at a new place with the fragment's id."""
        for depth in range(len(self._root) + 1, len(path) + 1):
            here = path[:depth]
            if depth < len(path) and here in self._with_id:
                return False
            if any(len(p) == depth and p[:-1] == here[:-1] and p[-1] < here[-1] for p in self._with_id):
                return False
        return True

    def __call__(self, msg: ForwardMsg) -> None:
        path = tuple(msg.metadata.delta_path) if msg.WhichOneof("type") == "delta" else ()
        if path[:1] == SIDEBAR and self._plain:
            self._slot(msg, path)
            return
        n = len(self._root)
        if len(path) <= n or path[:n] != self._root:
            self._send(msg)
            return
        shown = self._shown
        shown.whole = False  # until close(): what this run sent may not all reach the browser
        self._touched.add(path)
        self._skipped_block = None
        kind = msg.delta.WhichOneof("type")
        block = msg.delta.add_block.WhichOneof("type") or "" if kind == "add_block" else None
        element = msg.delta.new_element.WhichOneof("type") if kind == "new_element" else None
        if shown.blocks.get(path) != block:  # the page keeps a block's children only for the same type
            shown.forget_below(path)
            self._before.difference_update(_below(path, self._before))
            if block is None:
                shown.blocks.pop(path, None)
            else:
                shown.blocks[path] = block
        without_id = self._plain and (block is not None or element in PLAIN) and self._may_go_without_id(path)
        _note_id(shown, msg, path, block is not None)
        block_with_id = block is not None and not without_id and bool(msg.delta.fragment_id)
        if self._frame and self._shown_as_is(msg, path, without_id, block_with_id):
            self.skipped += 1
            if block is not None:
                self._skipped_block = path
            return
        if block_with_id:
            shown.id_blocks.add(path)
        elif block is not None:
            shown.id_blocks.discard(path)
        if not without_id:
            shown.elements.pop(path, None)
            if path not in self._before:
                self._with_id.add(path)
            if block is not None:
                self._sent_with_id.add(path)
            self._send(msg)
            return
        msg.delta.ClearField("fragment_id")
        if block is not None:
            shown.elements.pop(path, None)
            self._send(msg)
            return
        body = msg.delta.new_element.SerializeToString(deterministic=True)
        if self._trust and path in self._before and shown.elements.get(path) == body:
            self.skipped += 1
            return
        shown.elements[path] = body
        self._send(msg)

    def _shown_as_is(self, msg: ForwardMsg, path: Path, without_id: bool, block_with_id: bool) -> bool:
        """Whether the browser holds this very block or element at ``path``, where the page keeps it;
        records what goes otherwise.

        Never inside a block the page holds with the fragment's id, nor such a block itself: once
        anything below it is sent again (a download button, which gets a new file id every run),
        the page counts the blocks above as this run's and drops every child of theirs the run
        did not send (a Prep queue card lost its title and time, and a later send into a place
        the page had dropped blanked the page). Likewise below a block sent with the id in this run.
        """
        body = msg.delta.SerializeToString(deterministic=True)
        if without_id:
            body = b"-" + body  # the same message, to go without the id: not what went with it
        shown = self._shown
        above = (path[:depth] for depth in range(len(self._root) + 1, len(path)))
        carries_id = block_with_id or any(p in self._sent_with_id or p in shown.id_blocks for p in above)
        if path in self._before and shown.bodies.get(path) == body and not carries_id:
            return True
        shown.bodies[path] = body
        shown.prints.pop(path, None)
        return False

    def hold(self, drawn_from: str) -> list[str] | None:
        """Called first thing inside a block just opened: when the browser holds that block, drawn
        from the same ``drawn_from`` (see :meth:`drawn`), the caller need not draw what is inside
        it. Returns the element ids of the widgets inside, which the caller keeps registered (their
        clicks must still reach their callbacks); None when the caller must draw it."""
        path = self._skipped_block
        shown = self._shown
        if not self._frame or path is None or shown.prints.get(path) != drawn_from:
            return None
        inside = _below(path, shown.present)
        self._touched.update(inside)
        self.skipped += len(inside)
        return [shown.ids[p] for p in inside if p in shown.ids]

    def drawn(self, path: Path, drawn_from: str) -> None:
        """The block at ``path`` was drawn whole from ``drawn_from`` (a digest of what it shows)."""
        self._shown.prints[path] = drawn_from

    def _slot(self, msg: ForwardMsg, path: Path) -> None:
        """A sidebar placeholder the fragment fills on every run (its wrapper block is Streamlit's)."""
        element = msg.delta.new_element.WhichOneof("type") if msg.delta.WhichOneof("type") == "new_element" else None
        if not self._fragment_run or element not in PLAIN:  # a full run may create the wrapper block: with the id
            self._send(msg)
            return
        msg.delta.ClearField("fragment_id")
        body = msg.delta.new_element.SerializeToString(deterministic=True)
        if self._trust and self._shown.slots.get(path) == body:
            self.skipped += 1
            return
        self._shown.slots[path] = body
        self._send(msg)

    def close(self, ended: bool) -> None:
        """End of the run: stop filtering; when it ended normally, clear what it no longer draws."""
        self._ctx.enqueue = self._send
        if not ended:
            logger.debug("skipped=<%d> | run cut short", self.skipped)
            return
        shown = self._shown
        if self._frame:
            self._empty_what_is_no_longer_drawn()
        elif self._fragment_run:
            for path in [p for p in shown.blocks if p not in self._touched]:
                if path in shown.blocks:  # the page drops a block not sent again, with its children
                    del shown.blocks[path]
                    shown.forget_below(path)
            for path in [p for p in shown.elements if p not in self._touched]:
                del shown.elements[path]
                parent = path[:-1]
                if parent == self._root or (parent in shown.blocks and parent in self._touched):
                    self._send(_empty_at(path, self._fragment_id))  # else it would stay
                    self._touched.add(path)
        shown.present = self._touched
        # a rerun already waiting starts at once and drops what is still queued with the id (module docstring)
        shown.whole = not _rerun_waiting(self._ctx)
        logger.debug("skipped=<%d>, whole=<%s> | elements already shown not sent again", self.skipped, shown.whole)

    def _empty_what_is_no_longer_drawn(self) -> None:
        """With the frame, the page keeps what this run did not draw: each such outermost place
        (its block above was drawn) gets an empty element, which takes its children with it."""
        shown = self._shown
        stale = sorted(p for p in shown.present | set(shown.bodies) if p not in self._touched)
        for path in stale:
            if path[:-1] == self._root or path[:-1] in self._touched:
                self._send(_empty_at(path, self._fragment_id))
            shown.forget(path)  # an empty is not recorded: nothing at its place to empty again


def _rerun_waiting(ctx: Any) -> bool:
    """Whether a rerun was requested while this run went on (it starts as soon as this run ends)."""
    requests = getattr(ctx, "script_requests", None)
    return getattr(requests, "_state", None) == ScriptRequestType.RERUN


def _note_id(shown: _Shown, msg: ForwardMsg, path: Path, is_block: bool) -> None:
    """Record the element id of a widget or keyed block at ``path`` (what :meth:`Kept.hold` keeps registered)."""
    if is_block:
        element_id = msg.delta.add_block.id
    else:
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        sub = getattr(element, kind) if kind else None
        element_id = getattr(sub, "id", "") if sub is not None and "id" in sub.DESCRIPTOR.fields_by_name else ""
    if element_id:
        shown.ids[path] = str(element_id)
    else:
        shown.ids.pop(path, None)


def keep_registered(element_ids: list[str]) -> None:
    """Count these widgets as drawn in this run (Streamlit drops the state and callbacks of a
    widget a run of its fragment does not draw): they stay on the page unchanged (Kept.hold)."""
    from streamlit.runtime.state.common import user_key_from_element_id

    ctx = get_script_run_ctx()
    if ctx is None:
        return
    for element_id in element_ids:
        user_key = user_key_from_element_id(element_id)
        if user_key:
            ctx.shared.widget_user_keys_this_run.check_and_add(user_key)
        ctx.shared.widget_ids_this_run.check_and_add(element_id)


def _frame_at(root: Path, block: bytes) -> ForwardMsg:
    """The fragment's container sent again without the fragment's id (module docstring)."""
    msg = ForwardMsg()
    msg.metadata.delta_path[:] = list(root)
    msg.delta.add_block.ParseFromString(block)
    return msg


def _empty_at(path: Path, fragment_id: str) -> ForwardMsg:
    msg = ForwardMsg()
    msg.metadata.delta_path[:] = list(path)
    msg.delta.new_element.empty.CopyFrom(EmptyProto())
    msg.delta.fragment_id = fragment_id
    return msg


def container_path() -> Path:
    """The path of the container drawn into now (a fragment's own container, inside the fragment)."""
    from streamlit.delta_generator_singletons import context_dg_stack

    cursor = context_dg_stack.get()[-1]._cursor
    return (cursor.root_container, *cursor.parent_path) if cursor is not None else ()


def start(fragment_run: bool, root: Path) -> Kept | None:
    """Filter what this run of the conversation fragment sends below ``root`` (its container's path).

    Call :meth:`Kept.close` when the run ends. None without a script run context or a root.
    """
    ctx = get_script_run_ctx()
    if ctx is None or not root:
        return None
    shown = st.session_state.get(STATE)
    if not isinstance(shown, _Shown) or not fragment_run:
        shown = _Shown(whole=not fragment_run)  # a full run: the page keeps only what it sends
        st.session_state[STATE] = shown
    frame = st.session_state.get(FRAME)
    kept = Kept(ctx, shown, fragment_run, root, ThreadState.get().fragment_id or "", frame)
    ctx.enqueue = kept  # type: ignore[method-assign]  # this run only: close() puts it back
    return kept


@contextmanager
def watch() -> Iterator[None]:
    """Around the conversation fragment's call in a full run: records the block of the container
    Streamlit opens for it (its first block sent with a fragment id), which a later rerun sends
    again without the id (the frame, in the module docstring)."""
    ctx = get_script_run_ctx()
    if ctx is None:
        yield
        return
    send: Callable[[ForwardMsg], None] = ctx.enqueue
    st.session_state.pop(FRAME, None)
    recorded = False

    def record(msg: ForwardMsg) -> None:
        nonlocal recorded
        if (
            not recorded
            and msg.WhichOneof("type") == "delta"
            and msg.delta.WhichOneof("type") == "add_block"
            and msg.delta.fragment_id
        ):
            block = msg.delta.add_block.SerializeToString(deterministic=True)
            st.session_state[FRAME] = (tuple(msg.metadata.delta_path), block)
            recorded = True
        send(msg)

    ctx.enqueue = record  # type: ignore[method-assign]
    try:
        yield
    finally:
        ctx.enqueue = send  # type: ignore[method-assign,assignment]
