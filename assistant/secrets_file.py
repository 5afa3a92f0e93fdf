"""What the secrets file (``.streamlit/secrets.toml``) may hold: a key naming no setting is a typo.

A pure check on a path the caller names (``assistant/config.py`` reads the environment and calls it).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Collection
from pathlib import Path


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
