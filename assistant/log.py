"""Logging set up once, in the seed's format: ``field=<value>, ... | lowercase message``."""

from __future__ import annotations

import logging
import sys
import threading

_FORMAT = "%(asctime)s %(levelname)s %(name)s | %(message)s"
_HANDLER_NAME = "assistant-stderr"
_lock = threading.Lock()


def setup_logging(level: str = "INFO") -> None:
    """Configure the ``assistant`` logger hierarchy once per process; later calls only set the level.

    Safe under concurrent first calls (Streamlit runs each browser session's script in its
    own thread): the check and the attach happen under one lock, and the handler is found
    by name on the logger itself, so even a reloaded copy of this module never adds a second
    one (which would write every line twice for the life of the process).

    Args:
        level: Log level name for the app's own loggers.
    """
    root = logging.getLogger("assistant")
    with _lock:
        _attach(root)
        root.setLevel(level)


def ensure_handler() -> None:
    """Attach the handler (once) without choosing a level: for a warning written while the settings,
    and so LOG_LEVEL, are still loading (it was written bare, without time, level and logger).

    Left to the root logger's handlers when it has some (a host that set up logging; pytest).
    """
    if logging.getLogger().handlers:
        return
    with _lock:
        _attach(logging.getLogger("assistant"))


def _attach(root: logging.Logger) -> None:
    if not any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
        root.propagate = False
        logging.getLogger("strands").setLevel(logging.WARNING)
        logging.getLogger("botocore").setLevel(logging.WARNING)
