"""Files for upload tests, made in memory: the smallest real PDF, DOCX, XLSX and ODT packages,
and the hostile ones (a decompression bomb inside a DOCX, a package that lies about sizes)."""

from __future__ import annotations

import io
import zipfile

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

CONTENT_TYPES_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)
DOCUMENT_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>Letter</w:t></w:r></w:p></w:body></w:document>"
)


def package(parts: dict[str, bytes], stored_first: str | None = None) -> bytes:
    """A ZIP with `parts` (deflated), `stored_first` written first and uncompressed (as the
    OpenDocument `mimetype` part must be)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first is not None:
            archive.writestr(zipfile.ZipInfo(stored_first), parts[stored_first], zipfile.ZIP_STORED)
        for name, data in parts.items():
            if name != stored_first:
                archive.writestr(name, data)
    return buffer.getvalue()


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    parts = {"[Content_Types].xml": CONTENT_TYPES_XML, "word/document.xml": DOCUMENT_XML}
    return package({**parts, **(extra or {})})


def xlsx() -> bytes:
    return package({"[Content_Types].xml": CONTENT_TYPES_XML, "xl/workbook.xml": b"<workbook/>"})


def odt(mimetype: bytes = b"application/vnd.oasis.opendocument.text") -> bytes:
    return package({"mimetype": mimetype, "content.xml": b"<office:document/>"}, "mimetype")


def docx_bomb(uncompressed_mb: int = 120) -> bytes:
    """A real DOCX whose one extra part unpacks from ~0.1% of its size: zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        archive.writestr("word/document.xml", DOCUMENT_XML)
        with archive.open("word/media/image1.bin", "w", force_zip64=True) as part:
            zeros = bytes(1024 * 1024)
            for _ in range(uncompressed_mb):
                part.write(zeros)
    return buffer.getvalue()


def lying_docx() -> bytes:
    """A DOCX whose central directory claims a part is 10 bytes long when it unpacks to 1 MB
    (a bomb that hides from a check of the declared sizes alone)."""
    data = bytearray(docx({"word/media/big.bin": bytes(1024 * 1024)}))
    directory = data.rfind(b"PK\x01\x02")
    while directory != -1:
        name_length = int.from_bytes(data[directory + 28 : directory + 30], "little")
        name = bytes(data[directory + 46 : directory + 46 + name_length])
        if name == b"word/media/big.bin":
            data[directory + 24 : directory + 28] = (10).to_bytes(4, "little")
            break
        directory = data.rfind(b"PK\x01\x02", 0, directory)
    return bytes(data)
