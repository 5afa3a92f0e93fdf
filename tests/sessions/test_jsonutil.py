"""Stored session JSON keeps bytes (strands' encoding) and refuses unknown objects."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from strands.types.session import decode_bytes_values

from assistant.sessions import jsonutil


def test_bytes_round_trip_in_strands_encoding() -> None:
    content = [{"image": {"format": "png", "source": {"bytes": b"\x89PNG\x00\x01"}}}, {"text": "chart"}]
    stored = jsonutil.dumps(content)
    assert decode_bytes_values(json.loads(stored)) == content


def test_datetimes_become_iso_and_unknown_objects_are_refused() -> None:
    assert json.loads(jsonutil.dumps({"at": datetime(2026, 11, 25, tzinfo=UTC)})) == {"at": "2026-11-25T00:00:00+00:00"}
    with pytest.raises(TypeError, match="cannot store"):
        jsonutil.dumps({"x": object()})


def test_loads_reads_bytes_back_as_strands_decodes_a_snapshot() -> None:
    stored = jsonutil.dumps(
        [{"role": "assistant", "content": [{"reasoningContent": {"redactedContent": b"\x00\xff"}}]}]
    )
    assert jsonutil.loads(stored) == [
        {"role": "assistant", "content": [{"reasoningContent": {"redactedContent": b"\x00\xff"}}]}
    ]
