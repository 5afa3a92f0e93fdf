"""A calendar export that arrives zipped: Google Calendar's "Export" downloads a ``.zip``.

Google's Settings → Import & export → Export gives one ``.ics`` per calendar the user has (their
own, named after their address, plus holidays, birthdays, shared calendars) in one zip; exporting
a single calendar gives a zip of one. The user's calendar is taken from it as it is: the only
``.ics``, or the one named after an address (``X-WR-CALNAME``, Google's name for a primary
calendar). Anything else is refused with the names found, and nothing is saved.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath

from assistant.context.ics_fields import email_of
from assistant.context.sources import CalendarInputError
from assistant.inputs import clean_display_text

ZIP_MAGIC = b"PK\x03\x04"
_HEAD_BYTES = 8_192  # a calendar's own properties (X-WR-CALNAME) come before its first event
_CALNAME = re.compile(rb"^X-WR-CALNAME:(.*?)\r?$", re.MULTILINE | re.IGNORECASE)
_NAMES_LISTED = 4


def _calendars(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The zip's ``.ics`` files (folders and macOS's ``__MACOSX`` copies left out)."""
    return [
        info
        for info in archive.infolist()
        if not info.is_dir() and info.filename.lower().endswith(".ics") and "__MACOSX" not in info.filename
    ]


def _named_after_an_address(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    with archive.open(info) as member:
        head = member.read(_HEAD_BYTES)
    match = _CALNAME.search(head)
    return match is not None and email_of(match.group(1).decode("utf-8", "replace")) is not None


def _listed(infos: list[zipfile.ZipInfo]) -> str:
    names = [clean_display_text(PurePosixPath(i.filename).name, limit=80) for i in infos[:_NAMES_LISTED]]
    more = len(infos) - len(names)
    return ", ".join(names) + (f" and {more} more" if more else "")


# An Office document is a zip too: an .xlsx renamed .ics was told "This .zip holds no calendar".
_OFFICE = {"xl/": "an Excel workbook", "word/": "a Word document", "ppt/": "a PowerPoint file"}


def _no_calendar(archive: zipfile.ZipFile, filename: str) -> str:
    """Why a zip without a calendar is refused: an Office file, or a file not named .zip, is not a calendar at all."""
    names = archive.namelist()
    kind = next((what for top, what in _OFFICE.items() if any(n.startswith(top) for n in names)), None)
    if kind is None and filename.lower().endswith(".zip"):
        return "This .zip holds no calendar (.ics) file; export the calendar again and upload the file it gives."
    return (
        f"This is not an iCalendar (.ics) file: it is {kind or 'a zip archive'}, with no calendar in it. "
        "Export the calendar as .ics and try again."
    )


def calendar_in_zip(data: bytes, filename: str, max_bytes: int) -> tuple[bytes, str]:
    """The calendar an upload holds: ``data`` itself, or the user's ``.ics`` inside a zip.

    Args:
        data: The uploaded bytes.
        filename: The uploaded file's name.
        max_bytes: The size cap of a calendar (ICS_MAX_BYTES), for the file taken out.

    Returns:
        The calendar's bytes and its file name (the name inside the zip for a zip).

    Raises:
        CalendarInputError: A zip that cannot be read, holds no ``.ics``, several without one
            named after an address, or one over the size cap.
    """
    if not data.startswith(ZIP_MAGIC):
        return data, filename
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            found = _calendars(archive)
            if not found:
                raise CalendarInputError(_no_calendar(archive, filename))
            chosen = found if len(found) == 1 else [i for i in found if _named_after_an_address(archive, i)]
            if len(chosen) != 1:
                raise CalendarInputError(
                    f"This .zip holds {len(found)} calendars ({_listed(found)}); unzip it and upload the one "
                    "with your meetings (Google names it after your address)."
                )
            with archive.open(chosen[0]) as member:
                calendar = member.read(max_bytes + 1)
    except CalendarInputError:
        raise
    # RuntimeError: zipfile's "password required" for an encrypted member
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ) as e:
        raise CalendarInputError(
            "This .zip cannot be opened (it is damaged or encrypted); unzip the export yourself and upload "
            "the .ics file inside."
        ) from e
    return calendar, PurePosixPath(chosen[0].filename).name


__all__ = ["ZIP_MAGIC", "calendar_in_zip"]
