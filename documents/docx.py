"""DOCX rendering with python-docx: real Word heading styles, the answers as paragraphs,
document properties, and a header and page numbers like the PDF."""

from __future__ import annotations

import io

from docx import Document as new_document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from documents.content import DocumentContent


def render_docx(content: DocumentContent, keywords: str = "") -> bytes:
    document = new_document()
    _properties(document, content, keywords)
    _page_furniture(document, content)
    styles = document.styles
    styles["Normal"].font.name = "DejaVu Sans"
    styles["Normal"].font.size = Pt(10)

    # Heading 1–3 as h1–h3 in the PDF: the same outline in the navigation pane.
    document.add_paragraph(content.title, style="Subtitle")
    document.add_heading(content.heading, level=1)
    facts = document.add_table(rows=0, cols=2)
    facts.style = "Table Grid"
    for label, value in content.facts:
        row = facts.add_row().cells
        row[0].text, row[1].text = label, value
        row[0].paragraphs[0].runs[0].bold = True
    for paragraph in content.intro:
        document.add_paragraph(paragraph)
    for section in content.sections:
        if section.title:
            document.add_heading(section.title, level=2)
        for item in section.items:
            document.add_heading(item.question, level=3)
            if item.answer:
                for line in item.answer:
                    document.add_paragraph(line)
            else:
                for _ in range(2):
                    document.add_paragraph("_" * 60)
    if content.attachments:
        document.add_heading(content.labels["attachments"], level=2)
        for attachment in content.attachments:
            document.add_paragraph(attachment, style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _properties(document, content: DocumentContent, keywords: str) -> None:
    properties = document.core_properties
    properties.title = f"{content.title} – {content.heading}"[:255]
    properties.subject = content.heading[:255]
    properties.author = content.organisation[:255]
    properties.language = content.language
    properties.keywords = keywords
    properties.comments = "Formdesk"


def _page_furniture(document, content: DocumentContent) -> None:
    section = document.sections[0]
    header = section.header.paragraphs[0]
    header.text = f"{content.title} · {content.organisation}"
    header.runs[0].font.size = Pt(8)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer.add_run(f"{content.labels['page']} ").font.size = Pt(8)
    _field(footer, "PAGE")
    footer.add_run(" / ").font.size = Pt(8)
    _field(footer, "NUMPAGES")


def _field(paragraph, instruction: str) -> None:
    """A Word field (page number), which Word and LibreOffice compute when they open it."""
    run = paragraph.add_run()
    run.font.size = Pt(8)
    for tag, text in (
        ("begin", None),
        (None, instruction),
        ("separate", None),
        (None, "1"),
        ("end", None),
    ):
        if tag:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), tag)
        elif text == instruction:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {instruction} "
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)
