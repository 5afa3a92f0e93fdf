"""What-if pricing of the seeded ledger's tokens on every model of a small price table."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from assistant.usage.pricing import PriceTable
from assistant.usage.whatif import what_if
from tests.usage.seeded_ledger import D1, D4


def test_what_if(ledger: Engine, tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        'version = "w"\n'
        '[[price]]\nmatch = "cheap"\nlabel = "Cheap"\nprovider = "b"\ninput_per_mtok = 1.0\noutput_per_mtok = 2.0\n'
        "cache_read_per_mtok = 0.5\ncache_write_per_mtok = 3.0\neffective_from = 2025-01-01\n"
        '[[price]]\nmatch = "dear"\nlabel = "Dear"\nprovider = "b"\ninput_per_mtok = 10.0\noutput_per_mtok = 10.0\n'
        "effective_from = 2025-01-01\n"
        '[[price]]\nmatch = "^offline"\nlabel = "Offline"\nprovider = "offline"\ninput_per_mtok = 0\n'
        "output_per_mtok = 0\neffective_from = 2020-01-01\n"
        '[[price]]\nmatch = "future"\nlabel = "Future"\nprovider = "b"\ninput_per_mtok = 1\noutput_per_mtok = 1\n'
        "effective_from = 2030-01-01\n",
        encoding="utf-8",
    )
    table = PriceTable.load(path)
    result = what_if(ledger, "alice", D1, D4, table)
    tin, tout, tcr, tcw = 6010, 601, 500, 100
    assert result == [
        ("Cheap", pytest.approx((tin * 1 + tout * 2 + tcr * 0.5 + tcw * 3) / 1e6)),
        ("Dear", pytest.approx((tin + tout) * 10 / 1e6)),
    ]
    assert [e.label for e in what_if(ledger, None, D1, D4, table, include_free=True)] == ["Offline", "Cheap", "Dear"]


def test_models_of_one_label_are_told_apart_by_provider(ledger: Engine) -> None:
    """The shipped table prices Claude on Bedrock and on Anthropic's API under one label: the
    what-if chart stacked the two into one bar twice as long as its figure."""
    table = PriceTable.load(Path(__file__).resolve().parents[2] / "data" / "prices.toml")
    labels = [e.label for e in what_if(ledger, None, D1, D4, table)]
    assert len(labels) == len(set(labels)), labels
    assert {"Claude Sonnet 4.5 (Bedrock)", "Claude Sonnet 4.5 (Anthropic)", "Amazon Nova Lite", "GPT-4o"} <= set(labels)
