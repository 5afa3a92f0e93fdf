"""The meeting materials as a Word document (``views/materials_docx.py``): its parts, calendar text as plain runs."""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document

from assistant.context.classify import MeetingTypes
from assistant.views.materials import to_docx
from assistant.views.materials_docx import materials_docx, xml_text
from tests.fixtures.materials import docx_of, materials_for, qbr


def test_docx_opens_with_headings_agenda_table_questions_and_actions(types: MeetingTypes) -> None:
    materials = materials_for(qbr(), types)
    doc = docx_of(materials)
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == ("Title", "Acme QBR")
    top = [text for style, text in headings if style == "Heading 1"]
    assert top == [
        "From the invitation",
        "Agenda",
        "Questions to prepare (Customer/external)",
        "Your prep answers",
        "Notes",
        "Decisions",
        "Action items",
    ]
    assert any(text.startswith("1. 14:00–") for style, text in headings if style == "Heading 2")

    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Time", "Item", "Owner", "Purpose"]
    body = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert [row[0] for row in body] == [f"{i.start}–{i.end}" for i in materials.agenda]
    assert body[0][0].startswith("14:00–") and body[-1][0].endswith("–15:30")
    assert body[0][1] == "Opening & goals"

    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet" and p.text]
    assert bullets == types.get("external").questions
    quotes = [p.text for p in doc.paragraphs if p.style.name == "Quote"]
    assert "We fixed both P1 escalations." in quotes and "The EU rollout starts in May." in quotes
    assert sum(p.text.startswith("☐") for p in doc.paragraphs) == 3
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Join: https://meet.example.com/abc-defg-hij" in text
    assert "Meeting cost: $555 of people's time" in text


def test_hostile_calendar_text_is_plain_text_in_docx(types: MeetingTypes) -> None:
    meeting = qbr(title="QBR \x00\x0b ![t](http://evil/t.png) <b>bold</b>")
    data = to_docx(materials_for(meeting, types))
    doc = Document(io.BytesIO(data))
    assert doc.paragraphs[0].text == "QBR  ![t](http://evil/t.png) <b>bold</b>", "control characters dropped"
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "![x](http://evil/?q=secret) <script>alert(1)</script>" in text, "shown exactly as written"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        document_xml = archive.read("word/document.xml").decode()
        rels = archive.read("word/_rels/document.xml.rels").decode()
    assert not [n for n in names if n.startswith("word/media/")], "no image in the file"
    assert "<w:hyperlink" not in document_xml and "evil" not in rels, "no live link"
    assert "<script>" not in document_xml and "&lt;script&gt;" in document_xml


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("QBR\x00\x0b\x1b[31m now", "QBR now"),
        ("tab\tand\nnew line", "tab\tand\nnew line"),  # what a Word run can hold stays
        ("not a character \ufffe\uffff here", "not a character  here"),
        ("", ""),
    ],
)
def test_text_keeps_only_what_a_word_document_can_hold(text: str, kept: str) -> None:
    assert xml_text(text) == kept


def test_control_characters_anywhere_in_the_calendar_still_give_a_document(types: MeetingTypes) -> None:
    hostile = "line\x00one\x07\x1f\ufffe and more"
    meeting = qbr(description=hostile, title="\x01Board\x02 review\uffff")
    data = materials_docx(materials_for(meeting, types))
    doc = Document(io.BytesIO(data))
    assert doc.core_properties.title == "Board review" and doc.paragraphs[0].text == "Board review"
    assert "lineone and more" in "\n".join(p.text for p in doc.paragraphs)


def test_the_title_property_is_bounded(types: MeetingTypes) -> None:
    doc = docx_of(materials_for(qbr(title="Q" * 500), types))
    assert doc.core_properties.title == "Q" * 200
    assert doc.paragraphs[0].text == "Q" * 500  # the page's heading keeps the whole title
