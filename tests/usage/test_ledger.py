"""One user's spend today and one session's ledger rows, over the seeded ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from assistant.usage.ledger import session_usage, spend_today
from tests.usage.seeded_ledger import D2


def test_spend_today(ledger: Engine) -> None:
    assert spend_today(ledger, "alice", D2 + timedelta(hours=12)).usd == pytest.approx(1.0)
    assert spend_today(ledger, "alice", D2 - timedelta(milliseconds=1)).usd == pytest.approx(0.3)
    assert spend_today(ledger, "bob", D2 + timedelta(hours=23)).usd == pytest.approx(0.5)
    assert spend_today(ledger, "nobody", D2) == (0.0, 0)
    # a call on a model without a price: not in the dollars, counted so the spend reads as a lower bound
    assert spend_today(ledger, "alice", D2 + timedelta(hours=12)).unpriced_calls == 1
    assert spend_today(ledger, "bob", D2 + timedelta(hours=23)).unpriced_calls == 0


def test_session_usage_is_scoped(ledger: Engine) -> None:
    calls = session_usage(ledger, "a2")
    assert [c.call_id for c in calls] == ["c3", "c4"]
    assert calls[1].cost_usd is None
    assert calls[0].started_at == D2
    assert calls[0].started_at.tzinfo is not None
    assert session_usage(ledger, "a2", user_id="bob") == []
    assert len(session_usage(ledger, "a2", user_id="alice")) == 2
