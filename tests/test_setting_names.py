"""Names that look like a setting but are not one (``assistant/setting_names.py``): a secrets-file key, a variable."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant import setting_names
from assistant.config import Settings
from assistant.setting_names import lookalike_env_names, unknown_key, warn_lookalike_env_names

KNOWN = frozenset(Settings.model_fields)


def _secrets(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_mistyped_key_is_named_with_the_setting_it_resembles(tmp_path: Path) -> None:
    path = _secrets(tmp_path, 'database_url = "sqlite:///x.db"\nmax_mesage_chars = 10\n')
    assert unknown_key(path, KNOWN) == (
        f"Invalid secrets file {path}: max_mesage_chars is not a setting; did you mean max_message_chars?"
    )


def test_a_key_like_no_setting_points_at_the_example_file(tmp_path: Path) -> None:
    problem = unknown_key(_secrets(tmp_path, "favourite_colour = 'teal'\n"), KNOWN)
    assert problem is not None and problem.endswith(
        "favourite_colour is not a setting (see .streamlit/secrets.toml.example)"
    )


def test_settings_in_any_case_and_streamlits_own_tables_are_fine(tmp_path: Path) -> None:
    text = 'DATABASE_URL = "sqlite:///x.db"\n[auth]\nredirect_uri = "x"\n[connections.db]\nurl = "y"\n'
    assert unknown_key(_secrets(tmp_path, text), KNOWN) is None


def test_an_absent_empty_or_unreadable_file_is_left_to_the_settings_source(tmp_path: Path) -> None:
    assert unknown_key(tmp_path / "missing.toml", KNOWN) is None
    assert unknown_key(_secrets(tmp_path, ""), KNOWN) is None
    assert unknown_key(_secrets(tmp_path, "not toml = = ["), KNOWN) is None
    bad = tmp_path / "bytes.toml"
    bad.write_bytes(b"\xff\xfe key = 1")
    assert unknown_key(bad, KNOWN) is None


def test_a_key_with_control_characters_or_of_any_length_is_shown_on_one_bounded_line(tmp_path: Path) -> None:
    problem = unknown_key(_secrets(tmp_path, '"evil\\nkey\\u001b[2J" = 1\n'), KNOWN)
    assert problem is not None and "\n" not in problem and "\x1b" not in problem
    assert "'evil\\nkey\\x1b[2J'" in problem
    long = unknown_key(_secrets(tmp_path, f"{'k' * 5000} = 1\n"), KNOWN)
    assert long is not None and len(long) < len(str(tmp_path)) + 200


def test_only_close_upper_case_look_alikes_of_a_setting_are_named() -> None:
    names = ["DATABSE_URL", "DAILY_BUDGET", "TEST_DATABASE_URL", "AWS_DEFAULT_REGION", "DATABASE_URL", "databse_url"]
    assert lookalike_env_names(names, KNOWN) == [("DATABSE_URL", "DATABASE_URL"), ("DAILY_BUDGET", "DAILY_BUDGET_USD")]
    assert lookalike_env_names([], KNOWN) == []


def test_each_look_alike_is_warned_about_once_per_process(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(setting_names, "_warned", set())
    monkeypatch.setattr(setting_names, "_checked", set())
    with caplog.at_level(logging.WARNING, logger="assistant.setting_names"):
        warn_lookalike_env_names({"DATABSE_URL": "x", "HOME": "/root"}, KNOWN)
        warn_lookalike_env_names({"DATABSE_URL": "x", "HOME": "/root"}, KNOWN)  # the same environment
        warn_lookalike_env_names({"DATABSE_URL": "x", "DAILY_BUDGET": "5"}, KNOWN)  # one new name
    warned = [r.getMessage() for r in caplog.records if r.name == "assistant.setting_names"]
    tail = " | environment variable names no setting and is ignored"
    assert warned == [
        "variable=<DATABSE_URL>, did_you_mean=<DATABASE_URL>" + tail,
        "variable=<DAILY_BUDGET>, did_you_mean=<DAILY_BUDGET_USD>" + tail,
    ]
