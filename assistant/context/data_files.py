"""The demo data files (``data/*.toml``): one reader, one error naming the file and the problem.

The budget, big rocks and demo calendar modules read their TOML files through here; a user's own
budget and rocks live in the database (:mod:`assistant.context.user_data`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from assistant.inputs import not_utf8


class DataFileError(ValueError):
    """A demo data file is missing or malformed; the message names the file and the problem.

    It is a ``ValueError`` so that a strands tool raising it returns an error result the
    model can read instead of failing the turn.
    """


def read_data_file(data_dir: Path, name: str) -> dict[str, Any]:
    """Read and parse one TOML data file.

    Args:
        data_dir: Folder holding the data files.
        name: File name, e.g. ``"calendar.toml"``.

    Returns:
        The parsed TOML document.

    Raises:
        DataFileError: If the file is missing, unreadable, not UTF-8 or not valid TOML.
    """
    path = Path(data_dir) / name
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as e:
        raise DataFileError(f"Data file {path} is missing; restore it from the repository's data/ folder.") from e
    except tomllib.TOMLDecodeError as e:
        raise DataFileError(f"Data file {path} is not valid TOML: {e}.") from e
    except UnicodeDecodeError as e:  # saved by an editor in a Windows encoding
        raise DataFileError(f"Data file {path} {not_utf8(e)}.") from e
    except OSError as e:
        raise DataFileError(f"Data file {path} cannot be read: {e.strerror or e}.") from e


EntryModel = TypeVar("EntryModel", bound=BaseModel)


def read_table_list(data_dir: Path, name: str, key: str, model: type[EntryModel]) -> list[EntryModel]:
    """Read the ``[[key]]`` tables of one TOML data file, each validated as ``model``.

    Args:
        data_dir: Folder holding the data files.
        name: File name, e.g. ``"calendar.toml"``.
        key: The array-of-tables name, e.g. ``"meetings"``.
        model: The pydantic model of one entry.

    Returns:
        The entries, in file order (none when the file has no ``key``).

    Raises:
        DataFileError: If the file is missing or malformed (the message names the entry, ``key.<index>``).
    """
    path = Path(data_dir) / name
    raw = read_data_file(data_dir, name)
    items = raw.get(key, [])
    if not isinstance(items, list):
        raise DataFileError(f"Data file {path} is malformed: '{key}' must be a list of [[{key}]] tables.")
    entries = []
    for index, item in enumerate(items):
        try:
            entries.append(model.model_validate(item))
        except ValidationError as e:
            raise DataFileError(describe_validation_error(path, e, where=f"{key}.{index}")) from e
    return entries


def describe_validation_error(path: Path, error: Exception, where: str = "") -> str:
    """Turn a pydantic validation error into one readable sentence naming the file.

    Args:
        path: The data file that failed validation.
        error: The pydantic ``ValidationError``.
        where: Location prefix such as ``"meetings.2"`` for an entry validated on its own.

    Returns:
        A message such as ``"Data file x.toml is malformed: meetings.0.start: ..."``.
    """
    errors = getattr(error, "errors", None)
    if callable(errors):
        parts = []
        for item in errors()[:3]:
            loc = ".".join([where] * bool(where) + [str(p) for p in item.get("loc", ())])
            parts.append(f"{loc}: {item.get('msg', 'invalid value')}" if loc else str(item.get("msg")))
        detail = "; ".join(parts)
    else:
        detail = f"{where}: {error}" if where else str(error)
    return f"Data file {path} is malformed: {detail}."


KNOWN_NAMES_LISTED = 10  # a refusal over a budget of 500 areas listed all 500 (20,000 characters)


def some_of(names: list[str], limit: int = KNOWN_NAMES_LISTED) -> str:
    """The first ``limit`` of ``names``, comma-separated, then how many more there are.

    Args:
        names: What to list (e.g. the known areas of a refusal).
        limit: How many to name.

    Returns:
        "a, b, c" or "a, b, c and 490 more".
    """
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"
