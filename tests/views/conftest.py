"""Fixtures of the view tests."""

from __future__ import annotations

import pytest

from assistant.context.classify import MeetingTypes, load_meeting_types
from tests.fixtures.materials import ROOT


@pytest.fixture
def types() -> MeetingTypes:
    """The deployment's meeting types (``data/meeting_types.toml``)."""
    return load_meeting_types(ROOT / "data" / "meeting_types.toml")
