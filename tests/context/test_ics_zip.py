"""A calendar uploaded zipped (Google Calendar's export): the one calendar taken out, wherever it
sits in the zip; several, none, a damaged or encrypted zip refused in a sentence, nothing saved;
never more read out of it than a calendar may hold."""

from __future__ import annotations

import io
import zipfile

import pytest

from assistant.context.ics_text import check_ics
from assistant.context.ics_zip import calendar_in_zip
from assistant.context.sources import CalendarInputError

OWN = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nX-WR-CALNAME:ada@example.com\r\nEND:VCALENDAR\r\n"
OTHER = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nX-WR-CALNAME:Holidays\r\nEND:VCALENDAR\r\n"
CAP = 10_000


def zipped(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def refusal(data: bytes) -> str:
    with pytest.raises(CalendarInputError) as caught:
        calendar_in_zip(data, "export.zip", CAP)
    return str(caught.value)


def test_a_file_that_is_not_a_zip_is_passed_on_as_it_is() -> None:
    assert calendar_in_zip(OWN, "work.ics", CAP) == (OWN, "work.ics")
    assert calendar_in_zip(b"", "empty.ics", CAP) == (b"", "empty.ics")


def test_the_only_calendar_is_taken_from_its_folder_and_macos_copies_are_left_out() -> None:
    data = zipped(
        {
            "export/": b"",
            "export/calendars/ada@example.com.ICS": OWN,
            "__MACOSX/export/calendars/._ada@example.com.ICS": b"\x00\x05\x16\x07resource fork",
            "export/readme.txt": b"hello",
        }
    )
    assert calendar_in_zip(data, "export.zip", CAP) == (OWN, "ada@example.com.ICS")


def test_of_several_calendars_the_one_named_after_an_address_is_the_users() -> None:
    data = zipped({"Holidays.ics": OTHER, "Work/ada@example.com.ics": OWN, "Birthdays.ics": OTHER})
    assert calendar_in_zip(data, "export.zip", CAP) == (OWN, "ada@example.com.ics")


def test_several_calendars_named_after_addresses_are_refused_naming_a_few() -> None:
    """Two people's calendars in one export: which is the user's cannot be told, so none is taken."""
    bob = OWN.replace(b"ada@", b"bob@")
    assert refusal(zipped({"ada.ics": OWN, "bob.ics": bob})) == (
        "This .zip holds 2 calendars (ada.ics, bob.ics); unzip it and upload the one with your meetings "
        "(Google names it after your address)."
    )
    many = zipped({f"team/Calendar {i}.ics": OTHER for i in range(7)})
    assert "holds 7 calendars (Calendar 0.ics, Calendar 1.ics, Calendar 2.ics, Calendar 3.ics and 3 more)" in (
        refusal(many)
    )


def test_a_zip_within_the_zip_or_without_any_calendar_is_refused() -> None:
    inner = zipped({"ada@example.com.ics": OWN})
    for data in (zipped({"inner.zip": inner}), zipped({"notes.txt": b"hi"})):
        assert refusal(data) == (
            "This .zip holds no calendar (.ics) file; export the calendar again and upload the file it gives."
        )


def test_a_calendar_that_unpacks_past_the_cap_is_read_only_to_the_cap_and_then_refused() -> None:
    """A zip bomb: 5 MB of one byte packs into a few kilobytes; no more than the cap is unpacked."""
    bomb = zipped({"ada@example.com.ics": b"BEGIN:VCALENDAR\r\n" + b"X" * 5_000_000})
    assert len(bomb) < 10_000
    data, _ = calendar_in_zip(bomb, "export.zip", CAP)
    assert len(data) == CAP + 1
    with pytest.raises(CalendarInputError, match="The calendar is larger than"):
        check_ics(data, CAP)


@pytest.mark.parametrize("cut", [4, 30, 0.5])
def test_a_damaged_zip_is_refused_in_a_sentence(cut: float) -> None:
    whole = zipped({"ada@example.com.ics": OWN})
    data = whole[: int(len(whole) * cut) if cut < 1 else int(cut)]
    assert refusal(data).startswith("This .zip cannot be opened (it is damaged or encrypted)")


def test_an_encrypted_zip_is_refused_in_a_sentence_not_a_traceback() -> None:
    """A password-protected export raised zipfile's RuntimeError ("password required for
    extraction"), which reached the page as a traceback although the message names this case."""
    data = bytearray(zipped({"ada@example.com.ics": OWN}, zipfile.ZIP_STORED))
    data[6] |= 0x01  # the local header's "encrypted" flag
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 0x01  # and the central directory's
    assert refusal(bytes(data)) == (
        "This .zip cannot be opened (it is damaged or encrypted); unzip the export yourself and upload "
        "the .ics file inside."
    )


@pytest.mark.parametrize(
    ("files", "name", "told"),
    [
        ({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"}, "budget.ics", "it is an Excel workbook"),
        ({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"}, "agenda.zip", "it is a Word document"),
        ({"notes.txt": b"hi"}, "calendar.ics", "it is a zip archive"),
    ],
)
def test_an_office_file_or_a_zip_not_named_zip_is_told_it_is_not_a_calendar(
    files: dict[str, bytes], name: str, told: str
) -> None:
    """An .xlsx renamed .ics was told "This .zip holds no calendar": the user never uploaded a .zip."""
    with pytest.raises(CalendarInputError) as caught:
        calendar_in_zip(zipped(files), name, CAP)
    assert str(caught.value) == (
        f"This is not an iCalendar (.ics) file: {told}, with no calendar in it. "
        "Export the calendar as .ics and try again."
    )
