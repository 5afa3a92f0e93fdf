"""Price table loading, selection by effective date, costs and the printed table."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from assistant.usage.pricing import DEFAULT_PRICES_FILE, PriceTable, PriceTableError

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load(DEFAULT_PRICES_FILE)


@pytest.mark.parametrize(
    ("model_id", "label", "rates"),
    [
        ("us.amazon.nova-micro-v1:0", "Amazon Nova Micro", (0.035, 0.14)),
        ("us.amazon.nova-lite-v1:0", "Amazon Nova Lite", (0.06, 0.24)),
        ("amazon.nova-pro-v1:0", "Amazon Nova Pro", (0.80, 3.20)),
        ("anthropic.claude-3-haiku-20240307-v1:0", "Claude 3 Haiku", (0.25, 1.25)),
        ("us.anthropic.claude-3-5-haiku-20241022-v1:0", "Claude 3.5 Haiku", (0.80, 4.00)),
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "Claude 3.5 Sonnet", (3.0, 15.0)),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", "Claude Sonnet 4", (3.0, 15.0)),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude Sonnet 4.5", (3.0, 15.0)),
        ("offline", "Offline demo model", (0.0, 0.0)),
    ],
)
def test_shipped_table_covers_the_models(
    table: PriceTable, model_id: str, label: str, rates: tuple[float, float]
) -> None:
    price = table.price_for(model_id, NOW)
    assert price is not None
    assert price.label == label
    assert (price.input_per_mtok, price.output_per_mtok) == rates
    if "claude" in model_id:
        assert price.cache_read_per_mtok == pytest.approx(price.input_per_mtok * 0.10)
        assert price.cache_write_per_mtok == pytest.approx(price.input_per_mtok * 1.25)


def test_cost_maths(table: PriceTable) -> None:
    cost, version = table.cost("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 1000, 2000, 10_000, 4000, NOW)
    assert version == table.version == "2026-12-04"
    assert cost == pytest.approx((1000 * 3 + 2000 * 15 + 10_000 * 0.30 + 4000 * 3.75) / 1e6)
    lite, _ = table.cost("us.amazon.nova-lite-v1:0", 1_000_000, 1_000_000, 0, 0, NOW)
    assert lite == pytest.approx(0.30)


def test_offline_is_zero_and_unknown_is_none(table: PriceTable) -> None:
    assert table.cost("offline", 5000, 5000, 0, 0, NOW) == (0.0, table.version)
    cost, version = table.cost("mistral.some-model-v1", 100, 100, 0, 0, NOW)
    assert cost is None
    assert version == table.version


def write(tmp_path: Path, body: str, name: str = "prices.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


DATED = """
version = "test-1"

[[price]]
match = "amazon\\\\.nova-lite"
label = "Nova Lite (old)"
provider = "bedrock"
input_per_mtok = 1.0
output_per_mtok = 2.0
effective_from = 2025-01-01

[[price]]
match = "amazon\\\\.nova-lite"
label = "Nova Lite (new)"
provider = "bedrock"
input_per_mtok = 0.5
output_per_mtok = 1.0
cache_read_per_mtok = 0.1
cache_write_per_mtok = 0.0
effective_from = 2026-06-01

[[price]]
match = "amazon\\\\.nova"
label = "Any other Nova"
provider = "bedrock"
input_per_mtok = 9.0
output_per_mtok = 9.0
effective_from = 2025-01-01
"""


def test_price_in_force_at_call_time(tmp_path: Path) -> None:
    table = PriceTable.load(write(tmp_path, DATED))
    assert table.price_for("us.amazon.nova-lite-v1:0", datetime(2024, 12, 31, 23, 59, tzinfo=UTC)) is None
    assert table.price_for("us.amazon.nova-lite-v1:0", date(2025, 1, 1)).label == "Nova Lite (old)"  # type: ignore[union-attr]
    assert table.price_for("us.amazon.nova-lite-v1:0", datetime(2026, 5, 31, 23, tzinfo=UTC)).label == "Nova Lite (old)"  # type: ignore[union-attr]
    assert table.price_for("us.amazon.nova-lite-v1:0", datetime(2026, 6, 1, 0, tzinfo=UTC)).label == "Nova Lite (new)"  # type: ignore[union-attr]
    assert table.cost("us.amazon.nova-lite-v1:0", 1_000_000, 0, 0, 0, datetime(2026, 1, 1, tzinfo=UTC))[0] == 1.0
    assert table.cost("us.amazon.nova-lite-v1:0", 1_000_000, 0, 0, 0, datetime(2026, 7, 1, tzinfo=UTC))[0] == 0.5
    # first matching `match` in file order decides the model
    assert table.price_for("us.amazon.nova-pro-v1:0", NOW).label == "Any other Nova"  # type: ignore[union-attr]
    # non-UTC times are converted to the UTC date
    from datetime import timedelta, timezone

    tokyo = timezone(timedelta(hours=9))
    assert table.price_for("amazon.nova-lite", datetime(2026, 6, 1, 8, tzinfo=tokyo)).label == "Nova Lite (old)"  # type: ignore[union-attr]


def test_models_for_what_if(tmp_path: Path, table: PriceTable) -> None:
    dated = PriceTable.load(write(tmp_path, DATED))
    assert [p.label for p in dated.models(NOW)] == ["Nova Lite (new)", "Any other Nova"]
    assert [p.label for p in dated.models(datetime(2025, 2, 1, tzinfo=UTC))] == ["Nova Lite (old)", "Any other Nova"]
    labels = [p.label for p in table.models(NOW, include_free=False)]
    assert "Offline demo model" not in labels
    assert "Offline demo model" in [p.label for p in table.models(NOW)]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('version = "x"\n[[price]]\nmatch = "("\nlabel = "Broken"\nprovider = "b"\ninput_per_mtok = 1\n'
         "output_per_mtok = 1\neffective_from = 2025-01-01\n", "entry #1 (Broken)"),
        ('version = "x"\n[[price]]\nmatch = "a"\nlabel = "Negative"\nprovider = "b"\ninput_per_mtok = -1\n'
         "output_per_mtok = 1\neffective_from = 2025-01-01\n", "input_per_mtok"),
        ('version = "x"\n[[price]]\nmatch = "a"\nlabel = "NoDate"\nprovider = "b"\ninput_per_mtok = 1\n'
         "output_per_mtok = 1\n", "entry #1 (NoDate)"),
        ('version = "x"\n[[price]]\nmatch = "a"\nlabel = "Typo"\nprovider = "b"\ninput_per_mtok = 1\n'
         "output_per_mtok = 1\neffective_from = 2025-01-01\noutput_per_mtoks = 2\n", "output_per_mtoks"),
        ("version = \n", "not valid TOML"),
        ('version = "x"\n', "price"),
    ],
)  # fmt: skip
def test_bad_files_name_file_and_entry(tmp_path: Path, body: str, needle: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(PriceTableError) as info:
        PriceTable.load(path)
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PriceTableError, match="cannot be read"):
        PriceTable.load(tmp_path / "nope.toml")


def test_load_is_memoized_per_mtime(tmp_path: Path) -> None:
    path = write(tmp_path, DATED)
    first = PriceTable.load(path)
    assert PriceTable.load(path) is first
    path.write_text(DATED.replace('"test-1"', '"test-2"'), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = PriceTable.load(path)
    assert second is not first
    assert second.version == "test-2"


def test_format_table(table: PriceTable) -> None:
    text = table.format_table()
    lines = text.splitlines()
    assert "2026-12-04" in lines[0]
    assert "per 1M tokens" in lines[0]
    assert len(lines) == 3 + len(table)
    assert any("Claude Sonnet 4.5" in line and "$3.00" in line and "$15.00" in line for line in lines)
    assert any("Amazon Nova Micro" in line and "$0.035" in line and "$0.00875" in line for line in lines)


def test_a_price_file_saved_in_a_windows_encoding_says_so(tmp_path: Path) -> None:
    # Notepad's "ANSI": a "€" in a comment is byte 0x80, and the app stopped on a UnicodeDecodeError
    path = tmp_path / "prices.toml"
    text = DEFAULT_PRICES_FILE.read_text(encoding="utf-8")
    path.write_bytes(("# prices in € per 1M tokens\n" + text).encode("cp1252", errors="replace"))
    with pytest.raises(PriceTableError) as info:
        PriceTable.load(path)
    assert str(path) in str(info.value) and "not UTF-8" in str(info.value) and "save it as UTF-8" in str(info.value)
