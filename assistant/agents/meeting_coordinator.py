"""The Meeting Coordinator agent: an executive assistant that prepares the user for meetings."""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from strands import Agent
from strands.hooks import BeforeInvocationEvent, HookProvider, HookRegistry
from strands.models import Model

from assistant.tools import build_tools
from assistant.tools.deps import ToolDeps

logger = logging.getLogger(__name__)

PROMPT_FILE = Path(__file__).resolve().parent / "prompts" / "meeting_coordinator.md"
AGENT_ID = "meeting_coordinator"
AGENT_NAME = "Meeting Coordinator"
DEFAULT_USER_NAME = "the executive"


@functools.cache
def _prompt_template() -> str:
    """The prompt file's text, read once (the prompt is refilled before every question)."""
    return PROMPT_FILE.read_text(encoding="utf-8")


def load_system_prompt(now: datetime, user_name: str | None = None) -> str:
    """Read the prompt file and fill in today's date and the user's name.

    Placeholders ``{today}`` and ``{user_name}`` are replaced literally (no format
    string evaluation of the file content).

    Args:
        now: Current time; its date (in its own zone) is shown as today.
        user_name: How to address the user; defaults to "the executive".

    Returns:
        The system prompt.

    Raises:
        FileNotFoundError: If the prompt file is missing.
    """
    text = _prompt_template()
    name = " ".join((user_name or "").split()) or DEFAULT_USER_NAME
    today = f"{now:%A %d %B %Y}"
    return text.replace("{today}", today).replace("{user_name}", name)


class TodayInPrompt(HookProvider):
    """Keeps the prompt's "Today is ..." the executive's date at every question.

    An agent lives on between the questions of a session: built on Sunday 23:50, it still told
    the model "Today is Sunday" at 00:10 on Monday (and after the browser moved to another zone),
    so "what's on tomorrow?" was answered with Monday's meetings.
    """

    def __init__(self, deps: ToolDeps, user_name: str | None) -> None:
        self._deps = deps
        self._user_name = user_name

    def register_hooks(self, registry: HookRegistry, **kwargs: Any) -> None:
        """Refresh the prompt before each invocation."""
        registry.add_callback(BeforeInvocationEvent, self._refresh)

    def _refresh(self, event: BeforeInvocationEvent) -> None:
        prompt = load_system_prompt(self._deps.local_now(), self._user_name)
        if event.agent.system_prompt != prompt:
            event.agent.system_prompt = prompt


def create_meeting_coordinator(
    *,
    model: Model,
    deps: ToolDeps,
    user_name: str | None = None,
    **agent_kwargs: Any,
) -> Agent:
    """Build a Meeting Coordinator agent with its five tools bound to ``deps``.

    Args:
        model: The strands model (offline demo model, Bedrock, ...).
        deps: Data folder, database, user, session and clock for the tools.
        user_name: How the prompt addresses the user.
        **agent_kwargs: Passed to :class:`strands.Agent` (session_manager, hooks,
            conversation_manager, trace_attributes, messages, state ...).

    Returns:
        The agent.
    """
    logger.debug("user_id=<%s>, session_id=<%s> | creating meeting coordinator", deps.user_id, deps.session_id)
    hooks = [*(agent_kwargs.pop("hooks", None) or []), TodayInPrompt(deps, user_name)]
    return Agent(
        model=model,
        system_prompt=load_system_prompt(deps.local_now(), user_name),
        tools=list(build_tools(deps)),
        agent_id=AGENT_ID,
        name=AGENT_NAME,
        callback_handler=None,
        hooks=hooks,
        **agent_kwargs,
    )
