"""The turn: one API (:class:`ChatService`) the chat page, the CLI and the benchmarks use.

A send goes through :meth:`ChatService.start_turn`: the message is validated once, one
transaction begins the turn (the session's row, the limits decision of :mod:`.limits`, the
send counted, the question kept as pending), the session's strands agent answers on the
service's event loop while :mod:`.recorder` collects what strands reports, and the turn is
committed once: messages, turn record, agent snapshot and ledger rows in a single store write.
A model or storage fault leaves the stored session as it was before the turn, so Retry sends
the question exactly once; failed model calls still go to the ledger.

Modules: :mod:`.events` (what a turn streams, and the refusals), :mod:`.display` (a stored
transcript as the page draws it), :mod:`.recorder` (hooks and per-turn facts), :mod:`.limits`
(budget and rate: "may this user send now?"), :mod:`.pending` (questions not yet answered),
:mod:`.bridge` (the event loop and the sync bridge), :mod:`.model_choice` (which models are
offered, to whom), :mod:`.slots` (one live agent per session), :mod:`.runner` (a begun turn:
agent, stream, one store write), :mod:`.turn` (the commit of a finished turn, what a failed one
tells the user), :mod:`.service` (the public API).

Importing this package imports no strands: :mod:`.runner` (and with it strands, the agent and its
tools, :mod:`.recorder`, :mod:`.turn`) is imported by the first send, or ahead of it by
:meth:`ChatService.prepare_first_send`, so the chat page draws without them.
"""

from assistant.chat.display import (
    DEFAULT_TITLE,
    STOP_NOTES,
    STOPPED_DURING_TOOL,
    STOPPED_EARLY,
    DisplayTurn,
    build_display_turns,
    derive_title,
    summarize_tool_result,
)
from assistant.chat.events import (
    AlreadyAnsweredError,
    ChatEvent,
    ChatInputError,
    Done,
    ErrorEvent,
    LimitExceededError,
    ModelChoiceError,
    SessionBusyError,
    StartedTurn,
    TextDelta,
    ToolFinished,
    ToolStarted,
    UsageEvent,
)
from assistant.chat.service import ChatService

__all__ = [
    "DEFAULT_TITLE",
    "STOPPED_DURING_TOOL",
    "STOPPED_EARLY",
    "STOP_NOTES",
    "AlreadyAnsweredError",
    "ChatEvent",
    "ChatInputError",
    "ChatService",
    "DisplayTurn",
    "Done",
    "ErrorEvent",
    "LimitExceededError",
    "ModelChoiceError",
    "SessionBusyError",
    "StartedTurn",
    "TextDelta",
    "ToolFinished",
    "ToolStarted",
    "UsageEvent",
    "build_display_turns",
    "derive_title",
    "summarize_tool_result",
]
