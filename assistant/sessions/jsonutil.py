"""JSON encoding for stored session data, in one pass.

Bytes (images, documents in strands content blocks) are written in strands' own session
encoding (``{"__bytes_encoded__": true, "data": <base64>}``), so a snapshot restored by
strands decodes them back; datetimes become ISO strings. Nothing is silently turned
into its ``repr``. UTF-16 surrogates (an emoji streamed as two escaped halves, or half of one),
which no UTF-8 encoder accepts, are joined into their character or replaced by U+FFFD.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Any

from assistant.inputs import whole_characters


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes_encoded__": True, "data": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"cannot store a value of type {type(value).__name__} in a session")


def dumps(value: Any) -> str:
    """Serialise session data (messages, snapshots, documents) compactly.

    Args:
        value: JSON-like data, possibly holding bytes or datetimes.

    Returns:
        The JSON text.
    """
    text = json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))
    return whole_characters(text)  # a pair becomes its character, a lone half U+FFFD


def loads(text: str) -> Any:
    """Read session data back as strands reads a snapshot: its encoded bytes decoded to bytes.

    Args:
        text: What :func:`dumps` wrote.

    Returns:
        The data (datetimes stay ISO strings).
    """
    return json.loads(text, object_hook=_decode_bytes)


def _decode_bytes(obj: dict[str, Any]) -> Any:
    """strands' ``decode_bytes_values`` for one JSON object (``{"__bytes_encoded__": true, "data": ...}``)."""
    if obj.get("__bytes_encoded__") is True and "data" in obj:
        return base64.b64decode(obj["data"])
    return obj
