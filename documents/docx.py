"""DOCX rendering with python-docx: real Word heading styles, the answers as paragraphs,
document properties, and a header and page numbers like the PDF."""

from __future__ import annotations

import io
import re

from babel.core import get_global
from docx import Document as new_document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from documents.content import DocumentContent

# w:lang wants a region: a language's most likely one (CLDR), but British English.
WORD_REGIONS = {"en": "GB"}
WRITING_LINE = "_" * 62


def render_docx(content: DocumentContent, keywords: str = "") -> bytes:
    document = new_document()
    _properties(document, content, keywords)
    _language(document, content.language)
    _page_furniture(document, content)
    styles = document.styles
    styles["Normal"].font.name = "DejaVu Sans"
    styles["Normal"].font.size = Pt(10)

    # Heading 1–3 as h1–h3 in the PDF: the same outline in the navigation pane.
    document.add_paragraph(content.title, style="Subtitle")
    if content.addressee:
        document.add_paragraph("\n".join(content.addressee))
    if content.place_date:
        document.add_paragraph(content.place_date).alignment = WD_ALIGN_PARAGRAPH.RIGHT
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
            _question(document, item, content.labels["not_answered"])
        for paragraph in section.paragraphs:
            document.add_paragraph(paragraph)
    if content.sign_lines:
        for label in content.sign_lines:
            line = document.add_paragraph(WRITING_LINE[:36] + "\n" + label)
            line.paragraph_format.space_before = Pt(30)
            line.paragraph_format.keep_together = True
            line.paragraph_format.keep_with_next = label != content.sign_lines[-1]
    if content.attachments:
        document.add_heading(content.labels["attachments"], level=2)
        for attachment in content.attachments:
            document.add_paragraph(attachment, style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _question(document, item, not_answered: str) -> None:
    """A question and its answer (or lines to write on). A whole item (one participant) is
    one paragraph of lines kept together: Word and LibreOffice keep a paragraph on one page,
    where a chain of "keep with next" paragraphs may still break."""
    document.add_heading(item.question, level=3).paragraph_format.keep_with_next = True
    if item.hint:
        document.add_paragraph(item.hint).paragraph_format.keep_with_next = True
    written = [f"{label} " + WRITING_LINE[: max(62 - len(label), 20)] for label in item.write_lines]
    if item.whole:
        block = document.add_paragraph()
        for number, line in enumerate([*item.answer, *written]):
            if number:
                block.add_run().add_break()
            block.add_run(line)
        block.paragraph_format.keep_together = True
        if written:
            block.paragraph_format.line_spacing = Pt(24)  # room for handwriting
        return
    for line in item.answer:
        document.add_paragraph(line)
    for line in written:
        document.add_paragraph(line.lstrip()).paragraph_format.space_before = Pt(10)
    if not (item.answer or item.write_lines):
        document.add_paragraph(not_answered)


def word_language_tag(language: str) -> str:
    """Word's tag: "sv" → "sv-SE", "en" → "en-GB"; a language CLDR does not know stays."""
    region = WORD_REGIONS.get(language)
    likely = get_global("likely_subtags").get(language, "")
    if region is None and likely.count("_") == 2:
        region = likely.rsplit("_", 1)[1]
    return f"{language}-{region}" if region else language


def _language(document, language: str) -> None:
    """Text tagged in the document's language (spelling, hyphenation, screen readers):
    python-docx's template says en-US in its defaults and some styles."""
    tag = word_language_tag(language)
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    if run_defaults.find(qn("w:lang")) is None:
        run_defaults.append(OxmlElement("w:lang"))
    theme_language = document.settings.element.find(qn("w:themeFontLang"))
    for element in (*styles.iter(qn("w:lang")), theme_language):
        if element is not None:
            for script in ("w:val", "w:eastAsia", "w:bidi"):  # one language for every script
                element.set(qn(script), tag)
    element = f'<w:lang w:val="{tag}" w:eastAsia="{tag}" w:bidi="{tag}"/>'.encode()
    for part in document.part.package.iter_parts():
        if str(part.partname).endswith("/stylesWithEffects.xml"):  # Word 2010's copy
            part._blob = re.sub(rb"<w:lang\b[^>]*/>", element, part.blob)


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
    if content.installation:  # who runs the installation, once named
        footer.add_run(f"{content.installation} · ").font.size = Pt(8)
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
