"""Logging set up once, in the seed's format: ``field=<value>, ... | lowercase message``."""

from __future__ import annotations

import logging
import sys

_FORMAT = "%(asctime)s %(levelname)s %(name)s | %(message)s"
_configured = False


def setup_logging(level: str = "INFO") -> None:
    """Configure the ``assistant`` logger hierarchy once per process.

    Args:
        level: Log level name for the app's own loggers.
    """
    global _configured
    if _configured:
        logging.getLogger("assistant").setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger("assistant")
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    logging.getLogger("strands").setLevel(logging.WARNING)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    _configured = True
