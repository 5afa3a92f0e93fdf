"""Names that look like a setting but are not one: a key of the secrets file, an environment variable.

Pure checks on what the caller passes (``assistant/config.py`` reads the environment and calls them).
"""

from __future__ import annotations

import difflib
import logging
import tomllib
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from assistant.log import ensure_handler

logger = logging.getLogger(__name__)

_warned: set[str] = set()
_checked: set[tuple[tuple[str, ...], int]] = set()  # environments already checked (difflib: ~3 ms)


def unknown_key(path: Path, known: Collection[str]) -> str | None:
    """The first top-level key of the secrets file that names no setting, with its look-alike.

    A mistyped key (``max_mesage_chars``) was ignored without a word, so the default ran instead.
    Tables (``[auth]``, ``[connections.x]``) are Streamlit's own sections and are left alone.

    Args:
        path: The secrets file.
        known: The settings' names, lower case.

    Returns:
        One line naming the key and the setting it resembles, or None (also for an absent or
        unreadable file: the settings source names that).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for key, value in data.items():
        if isinstance(value, dict) or key.lower() in known:
            continue
        close = difflib.get_close_matches(key.lower(), list(known), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else " (see .streamlit/secrets.toml.example)"
        shown = key if key.isprintable() and len(key) <= 64 else repr(key[:64])
        return f"Invalid secrets file {path}: {shown} is not a setting{hint}"
    return None


def lookalike_env_names(names: Iterable[str], known: Collection[str]) -> list[tuple[str, str]]:
    """Environment variables that name no setting but are a typo away from one.

    ``DATABSE_URL=...`` or ``DAILY_BUDGET=5`` were ignored without a word, and the default ran
    instead (a local SQLite file, the default budget). The match is strict (difflib ratio
    >= 0.85) so that other tools' variables are left alone: ``TEST_DATABASE_URL``,
    ``AWS_DEFAULT_REGION`` and ``STREAMLIT_SERVER_PORT`` are not a setting's look-alike.

    Args:
        names: The environment's variable names.
        known: The settings' names, lower case.

    Returns:
        ``(variable, setting)`` pairs, the setting upper case, in the order given.
    """
    out = []
    choices = list(known)
    for name in names:
        lowered = name.lower()
        if lowered in known or not name.isupper():
            continue
        close = difflib.get_close_matches(lowered, choices, n=1, cutoff=0.85)
        if close:
            out.append((name, close[0].upper()))
    return out


def warn_lookalike_env_names(environ: Mapping[str, str], known: Collection[str]) -> None:
    """Log each look-alike of :func:`lookalike_env_names` once per process (the variable is ignored).

    A warning, not a refusal: the environment is shared with other tools, and a deployment must
    not stop for a variable that is not this app's.

    Args:
        environ: The process environment.
        known: The settings' names, lower case.
    """
    names = tuple(sorted(environ))
    if (names, len(known)) in _checked:  # the same environment as last time: nothing new to say
        return
    _checked.add((names, len(known)))
    for name, setting in lookalike_env_names(names, known):
        if name not in _warned:
            _warned.add(name)
            ensure_handler()  # before LOG_LEVEL is known: in the log's format all the same
            logger.warning(
                "variable=<%s>, did_you_mean=<%s> | environment variable names no setting and is ignored", name, setting
            )
