"""Ask another model: one answered question re-run on a second model, in a branch session, side by side.

The comparison is *measured*: both answers really ran, and their figures (tokens, cost, time to
first token, total time) are the stored turn records, which the commit built from the same
model calls it wrote to the usage ledger. (The Sessions page's what-if pricing stays an
estimate on other models' prices.)

How a comparison is built (:func:`start_comparison`):

- The question is the stored turn's ``user_text`` (as sent: control characters removed, as a
  guardrail may have redacted it).
- It runs in a NEW session (the branch), created with the other model and linked to the
  original by ``continued_from``; the original session is only read, never written.
- The branch sees what the original model saw: for the session's first question, nothing; for
  a later one, the original's conversation up to (not including) that question, seeded as the
  branch agent's starting context the way "Continue in a new session" seeds a whole
  conversation. When the stored conversation cannot be cut at that question (the agent's
  window dropped early messages), the branch starts from the question alone and says so
  (:attr:`Branch.context`).
- Limits (budget, rate) are decided before the branch exists, so a refused comparison leaves
  nothing behind; the branch then is an ordinary session of the user's, answering with the
  other model (it can be opened and continued).

:func:`gather` reads both turns back for drawing. No Streamlit here: the chat page only draws.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Literal

from assistant.chat.display import DisplayTurn, build_display_turns
from assistant.chat.events import ModelChoiceError, StartedTurn
from assistant.chat.service import ChatService
from assistant.models.registry import ModelNameError, canonical_model_name, describe_model
from assistant.sessions.base import PendingTurn, SessionDocument, SessionError, SessionMeta, TurnRecord

logger = logging.getLogger(__name__)

Context = Literal["none", "earlier turns", "question only"]
"""What the branch's agent started from besides the question."""

TITLE_PREFIX = "Compared on "


@dataclass(frozen=True)
class Branch:
    """A comparison that has started: the branch session's answer is streaming.

    Attributes:
        session_id: The original session.
        turn_idx: The compared turn of the original session.
        model: The other model (registry name, as MODELS spells it).
        started: The branch's turn (``started.session`` is the branch; iterate ``events``).
        context: What the branch's agent started from besides the question.
    """

    session_id: str
    turn_idx: int
    model: str
    started: StartedTurn
    context: Context

    @property
    def branch_id(self) -> str:
        """The branch session's id."""
        return self.started.session.id


@dataclass(frozen=True)
class Side:
    """One model's answer to the compared question, with its measured figures.

    Attributes:
        session_id: The session the answer is stored in.
        model: Registry name of the model that answered.
        turn: The stored turn (tokens, cost, time to first token, total time, status), or None
            when the branch's answer was not stored (failed, or still being written).
        answer: The answer's text parts and tool steps, as the chat page draws a turn.
        pending: The branch's question when it failed (error message, Retry in the branch).
    """

    session_id: str
    model: str
    turn: TurnRecord | None
    answer: DisplayTurn | None = None
    pending: PendingTurn | None = None


@dataclass(frozen=True)
class Comparison:
    """The two answers to one question, for drawing side by side."""

    question: str
    original: Side
    other: Side
    branch: SessionMeta
    context: Context = "none"


def compare_choices(service: ChatService, meta: SessionMeta, user_email: str | None) -> list[str]:
    """The models this user may ask instead of the session's own (empty: no "Ask another model").

    Nothing is offered for a session that cannot take new turns (completed, expired, damaged,
    its model withdrawn): the comparison's figures would describe a model the session no longer uses.
    """
    if len(service.offered_models) < 2 or meta.read_only or meta.damaged or service.model_refusal(meta):
        return []
    own = _key(meta.model or service.model_name)
    return [name for name in service.models_for(user_email) if _key(name) != own]


def start_comparison(
    service: ChatService,
    user_id: str,
    session_id: str,
    turn_idx: int,
    model: str,
    *,
    user_email: str | None = None,
    tz: tzinfo | None = None,
) -> Branch:
    """Re-run a stored turn's question on ``model`` in a new branch session (the original is only read).

    Args:
        service: The chat service.
        user_id: The owner of the session (and of the branch).
        session_id: The session holding the answer to compare.
        turn_idx: The turn whose question is asked again.
        model: The other model (one of :func:`compare_choices`).
        user_email: The user's email (admin-only models; recorded on the branch).
        tz: The user's time zone, for the tools.

    Returns:
        The started branch; iterate ``branch.started.events`` to stream the answer.

    Raises:
        ModelChoiceError: The model is the session's own, not offered, or not to this user.
        ValueError: The session has no stored turn ``turn_idx``.
        LimitExceededError: Budget or rate; nothing was written.
        SessionError: The session cannot be read, or the branch cannot be stored.
    """
    doc = service.open_session(session_id, user_id)
    turn = _turn(doc, turn_idx)
    if _key(model) == _key(doc.meta.model or service.model_name):
        raise ModelChoiceError("That model already answered this question; pick another one to compare.")
    chosen = service.choose_model(model, user_email)  # not offered, or admin-only: refused with the reason
    if not compare_choices(service, doc.meta, user_email):
        raise ModelChoiceError("This session takes no new messages, so its answers cannot be compared.")
    question = service.validate_message(turn.user_text)
    service.check_limits(user_id, chosen)  # before the branch exists: a refusal leaves nothing behind
    seed, context = context_before(doc, turn)
    label = describe_model(chosen).label
    branch = service.store.create_session(
        user_id,
        model=chosen,
        user_email=user_email,
        title=f"{TITLE_PREFIX}{label}: {doc.meta.title}",
        continued_from=session_id,
        seed_snapshot=seed,
    )
    try:
        started = service.start_turn(user_id, question, session_id=branch.id, user_email=user_email, tz=tz)
    except BaseException:
        with contextlib.suppress(SessionError):
            service.delete(branch.id, user_id)  # the question never started: no empty branch left
        raise
    logger.info(
        "user_id=<%s>, session_id=<%s>, turn=<%s>, branch=<%s>, model=<%s>, context=<%s> | comparing on another model",
        user_id,
        session_id,
        turn_idx,
        branch.id,
        chosen,
        context,
    )
    return Branch(session_id=session_id, turn_idx=turn_idx, model=chosen, started=started, context=context)


def context_before(doc: SessionDocument, turn: TurnRecord) -> tuple[dict[str, Any] | None, Context]:
    """The original agent's snapshot cut just before ``turn``'s question, for the branch to start from.

    Args:
        doc: The original session.
        turn: The compared turn.

    Returns:
        ``(snapshot, context)``: no snapshot for the first question (``"none"``); the stored
        snapshot with only the messages before the question (``"earlier turns"``); or no snapshot
        when the stored conversation is not the transcript message for message, so it cannot be
        cut there (``"question only"``).
    """
    if turn.first_message_idx == 0:
        return None, "none"
    snapshot = doc.agent_snapshot
    data = snapshot.get("data") if isinstance(snapshot, dict) else None
    messages = data.get("messages") if isinstance(data, dict) else None
    manager = data.get("conversation_manager_state") if isinstance(data, dict) else None
    removed = manager.get("removed_message_count", 0) if isinstance(manager, dict) else 0
    if not isinstance(messages, list) or len(messages) != len(doc.messages) or removed:
        return None, "question only"
    assert snapshot is not None and isinstance(data, dict)
    seeded = dict(snapshot)
    # the other model starts without the first model's own state (e.g. a provider's response ids)
    seeded["data"] = dict(data, messages=messages[: turn.first_message_idx], model_state={})
    return seeded, "earlier turns"


def gather(service: ChatService, user_id: str, session_id: str, turn_idx: int, branch_id: str) -> Comparison:
    """Both answers and their stored figures: the original turn, and the branch's answer to the same question.

    Args:
        service: The chat service.
        user_id: The owner of both sessions.
        session_id: The original session.
        turn_idx: The compared turn.
        branch_id: The branch session :func:`start_comparison` created.

    Returns:
        The comparison; ``other.turn`` is None while the branch has no stored answer (it failed:
        ``other.pending`` says why, and Retry is in the branch session).

    Raises:
        SessionError: Either session cannot be read (e.g. the branch was deleted).
        ValueError: The original has no turn ``turn_idx``.
    """
    original = service.open_session(session_id, user_id)
    turn = _turn(original, turn_idx)
    branch = service.open_session(branch_id, user_id)
    shown = {t.turn.idx: t for t in build_display_turns(original)}
    other_turns = build_display_turns(branch)
    answer = other_turns[0] if other_turns else None
    pending = None
    if answer is None:
        with contextlib.suppress(SessionError):
            pending = service.pending_turn(branch_id, user_id)
    return Comparison(
        question=turn.user_text,
        original=Side(session_id, turn.model or original.meta.model, turn, shown.get(turn_idx)),
        other=Side(branch_id, branch.meta.model, answer.turn if answer else None, answer, pending),
        branch=branch.meta,
        context=context_before(original, turn)[1],
    )


def _turn(doc: SessionDocument, turn_idx: int) -> TurnRecord:
    for turn in doc.turns:
        if turn.idx == turn_idx:
            return turn
    raise ValueError(f"Session {doc.meta.id} has no answer {turn_idx}")


def _key(name: str) -> str | None:
    try:
        return canonical_model_name(name)
    except ModelNameError:
        return None
