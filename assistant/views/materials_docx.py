"""The meeting materials as a Word document (python-docx).

Every piece of text is added as a plain run: Word never interprets it, so calendar text
cannot become a link, a field or an image. Characters XML cannot hold (NUL and other
control characters) are dropped first, or python-docx would refuse the whole document.
"""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocumentObject
from docx.shared import Pt
from docx.text.paragraph import Paragraph

from assistant.inputs import strip_control_chars
from assistant.views.materials import (
    ACTION_ITEMS,
    ACTION_LINES,
    DECISIONS,
    PROVENANCE,
    Materials,
    attendee_text,
    item_time,
    note_date,
    type_text,
    when_text,
)

AGENDA_COLUMNS = ("Time", "Item", "Owner", "Purpose")
CHECKBOX = "☐"


def xml_text(text: str) -> str:
    """``text`` without the characters an XML document cannot hold."""
    return strip_control_chars(text).replace("\ufffe", "").replace("\uffff", "")


def _line(doc: DocumentObject, label: str, value: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.add_run(f"{label}: ").bold = True
    paragraph.add_run(xml_text(value))


def _blank(doc: DocumentObject, count: int = 1) -> None:
    for _ in range(count):
        doc.add_paragraph("")


def _header(doc: DocumentObject, m: Materials) -> None:
    meeting = m.meeting
    doc.add_heading(xml_text(meeting.title), level=0)
    _line(doc, "When", when_text(m))
    _line(doc, "Type", type_text(m))
    if meeting.location:
        _line(doc, "Where", meeting.location)
    if meeting.conference_url:
        _line(doc, "Join", meeting.conference_url)
    if meeting.organizer:
        _line(doc, "Organizer", meeting.organizer)
    _line(doc, "Attendees", "; ".join(attendee_text(a) for a in m.attendees) or "just you")
    if m.cost is not None:
        _line(doc, "Meeting cost", m.cost.label)
    if meeting.description.strip():
        doc.add_heading("From the invitation", level=1)
        for line in meeting.description.strip().splitlines():
            if line.strip():
                doc.add_paragraph(xml_text(line.strip()), style="Quote")


def _agenda(doc: DocumentObject, m: Materials) -> None:
    doc.add_heading("Agenda", level=1)
    table = doc.add_table(rows=1, cols=len(AGENDA_COLUMNS))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, AGENDA_COLUMNS, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(name).bold = True
    for item in m.agenda:
        cells = table.add_row().cells
        for cell, value in zip(cells, (item_time(item), item.title, item.owner, item.purpose), strict=True):
            cell.text = xml_text(value)
    for warning in m.warnings:
        doc.add_paragraph().add_run(xml_text(f"Note: {warning}")).italic = True


def _questions_and_prep(doc: DocumentObject, m: Materials) -> None:
    doc.add_heading(f"Questions to prepare ({xml_text(m.type_label)})", level=1)
    for question in m.questions:
        doc.add_paragraph(xml_text(question), style="List Bullet")
    doc.add_heading("Your prep answers", level=1)
    if not m.prep_notes:
        doc.add_paragraph().add_run("No prep answers saved yet.").italic = True
    for note in m.prep_notes:
        paragraph = doc.add_paragraph()
        paragraph.add_run(xml_text(note.topic)).bold = True
        paragraph.add_run(f" · saved {note_date(note, m.tz)}")
        for line in note.response.strip().splitlines():
            if line.strip():
                doc.add_paragraph(xml_text(line.strip()), style="Quote")


def _action_line(doc: DocumentObject) -> Paragraph:
    paragraph = doc.add_paragraph()
    paragraph.add_run(f"{CHECKBOX} ").font.size = Pt(14)
    paragraph.add_run("Action: ____________________   Owner: __________   Due: __________")
    return paragraph


def _notes(doc: DocumentObject, m: Materials) -> None:
    doc.add_heading("Notes", level=1)
    for n, item in enumerate(m.agenda, 1):
        doc.add_heading(xml_text(f"{n}. {item_time(item)} {item.title}"), level=2)
        doc.add_paragraph().add_run(xml_text(f"Owner: {item.owner}")).italic = True
        if item.notes:
            paragraph = doc.add_paragraph()
            paragraph.add_run("Context: ").bold = True
            paragraph.add_run(xml_text(item.notes))
        _blank(doc, 2)
    for section in m.template_sections:
        doc.add_heading(xml_text(section), level=2)
        _blank(doc, 2)
    doc.add_heading(DECISIONS, level=1)
    for _ in range(2):
        doc.add_paragraph("", style="List Bullet")
    doc.add_heading(ACTION_ITEMS, level=1)
    for _ in range(ACTION_LINES):
        _action_line(doc)


def materials_docx(materials: Materials) -> bytes:
    """The materials as ``.docx`` bytes.

    Args:
        materials: :func:`assistant.views.materials.build_materials`.

    Returns:
        The Word document.
    """
    doc = Document()
    doc.core_properties.title = xml_text(materials.meeting.title)[:200]
    doc.core_properties.subject = "Meeting materials"
    _header(doc, materials)
    _agenda(doc, materials)
    _questions_and_prep(doc, materials)
    _notes(doc, materials)
    doc.add_paragraph().add_run(PROVENANCE).italic = True
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
