"""The demo data files: one sentence naming the file and what is wrong with it (missing, not
TOML, not readable, an entry of the wrong shape), a ValueError a tool returns to the model; and
long lists of names cut to a few."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from assistant.context.data_files import (
    DataFileError,
    describe_validation_error,
    read_data_file,
    read_table_list,
    some_of,
)


class Entry(BaseModel):
    id: str
    hours: int


def test_a_file_is_read_and_its_tables_validated_in_order(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text('[[items]]\nid = "a"\nhours = 1\n\n[[items]]\nid = "b"\nhours = 2\n')
    assert read_data_file(tmp_path, "x.toml") == {"items": [{"id": "a", "hours": 1}, {"id": "b", "hours": 2}]}
    assert read_table_list(tmp_path, "x.toml", "items", Entry) == [Entry(id="a", hours=1), Entry(id="b", hours=2)]
    assert read_table_list(tmp_path, "x.toml", "other", Entry) == []


def test_a_missing_file_says_where_to_restore_it(tmp_path: Path) -> None:
    with pytest.raises(DataFileError) as caught:
        read_data_file(tmp_path, "calendar.toml")
    assert str(caught.value) == (
        f"Data file {tmp_path / 'calendar.toml'} is missing; restore it from the repository's data/ folder."
    )
    assert isinstance(caught.value, ValueError)  # a strands tool returns it to the model as an error result


def test_a_file_that_is_not_toml_or_not_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('[[items]]\nid = "a\n')
    with pytest.raises(DataFileError, match=r"bad\.toml is not valid TOML: .*line 2"):
        read_data_file(tmp_path, "bad.toml")
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(DataFileError, match=r"folder\.toml cannot be read: Is a directory\.$"):
        read_data_file(tmp_path, "folder.toml")


def test_an_entry_of_the_wrong_shape_is_named_by_its_place_in_the_file(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text('[[items]]\nid = "a"\nhours = 1\n\n[[items]]\nid = "b"\nhours = "many"\n')
    with pytest.raises(DataFileError) as caught:
        read_table_list(tmp_path, "x.toml", "items", Entry)
    assert str(caught.value).startswith(f"Data file {tmp_path / 'x.toml'} is malformed: items.1.hours: ")
    (tmp_path / "y.toml").write_text('items = "not tables"\n')
    with pytest.raises(DataFileError, match=r"'items' must be a list of \[\[items\]\] tables"):
        read_table_list(tmp_path, "y.toml", "items", Entry)


def test_a_validation_error_names_at_most_three_problems(tmp_path: Path) -> None:
    class Wide(BaseModel):
        a: int
        b: int
        c: int
        d: int

    with pytest.raises(ValidationError) as caught:
        Wide.model_validate({})
    message = describe_validation_error(tmp_path / "w.toml", caught.value, where="rows.0")
    assert message.count("rows.0.") == 3 and "rows.0.d" not in message
    assert (
        describe_validation_error(tmp_path / "w.toml", ValueError("bad"))
        == f"Data file {tmp_path / 'w.toml'} is malformed: bad."
    )


def test_a_long_list_of_names_is_cut_to_the_first_few_and_a_count() -> None:
    names = [f"Area {i}" for i in range(500)]
    assert some_of(names) == ", ".join(names[:10]) + " and 490 more"
    assert some_of(names[:10]) == ", ".join(names[:10])
    assert some_of(["a", "b", "c"], limit=2) == "a, b and 1 more" and some_of([]) == ""


def test_a_file_saved_in_a_windows_encoding_is_named_not_a_traceback(tmp_path: Path) -> None:
    """A data file edited in an editor that saved it as Windows-1252 ("Café") raised
    UnicodeDecodeError, which no caller expects: the readiness check and the tools crashed."""
    (tmp_path / "budget.toml").write_bytes('name = "Café"\n'.encode("cp1252"))
    with pytest.raises(DataFileError) as caught:
        read_data_file(tmp_path, "budget.toml")
    assert str(caught.value) == (
        f"Data file {tmp_path / 'budget.toml'} is not UTF-8 text (byte 0xe9 at position 11); save it as UTF-8."
    )
