"""What an uploaded file really is, judged by its content: the name and the browser's content
type prove nothing. Office files are ZIP packages, so a DOCX must be a readable ZIP with the
parts Word writes, an ODT must name its type in its `mimetype` part, and none may unpack to
far more than it weighs (a "zip bomb"). Everything is read in memory with `zipfile`: nothing
is extracted to disk."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

# The first bytes each accepted extension must start with.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "odt": (b"PK\x03\x04",),
    "ods": (b"PK\x03\x04",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "txt": (b"",),
}

# Parts a package of each kind must contain (Office Open XML), or the `mimetype` part it must
# start with (OpenDocument).
REQUIRED_PARTS: dict[str, tuple[str, ...]] = {
    "docx": ("[Content_Types].xml", "word/document.xml"),
    "xlsx": ("[Content_Types].xml", "xl/workbook.xml"),
}
OPENDOCUMENT_TYPES: dict[str, str] = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}


@dataclass(frozen=True)
class ZipLimits:
    max_uncompressed: int  # bytes, all parts together
    max_ratio: float  # uncompressed / compressed, for packages that unpack to over 10 MB
    max_entries: int


class NotWhatItSays(ValueError):
    """The content is not a real file of its extension (`reason` says how, for the log)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TooMuchInside(ValueError):
    """A package that would unpack to far more than it weighs."""


# Below this, a high ratio is harmless (an almost empty document compresses very well).
RATIO_APPLIES_ABOVE = 10 * 1024 * 1024


def inspect(extension: str, content: bytes, limits: ZipLimits) -> None:
    """Raise NotWhatItSays or TooMuchInside when `content` is not a sound `extension` file."""
    if not content.startswith(SIGNATURES.get(extension, (b"\x00\x00\x00\x00",))):
        raise NotWhatItSays("signature")
    if extension in REQUIRED_PARTS or extension in OPENDOCUMENT_TYPES:
        _inspect_package(extension, content, limits)


def _inspect_package(extension: str, content: bytes, limits: ZipLimits) -> None:
    try:
        package = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise NotWhatItSays(f"not a readable ZIP: {exc}") from exc
    with package:
        entries = package.infolist()
        # The sizes in the directory are checked before a byte is decompressed.
        if len(entries) > limits.max_entries:
            raise TooMuchInside(f"{len(entries)} parts")
        uncompressed = sum(entry.file_size for entry in entries)
        compressed = sum(entry.compress_size for entry in entries)
        if uncompressed > limits.max_uncompressed:
            raise TooMuchInside(f"{uncompressed} bytes uncompressed")
        if uncompressed > RATIO_APPLIES_ABOVE and uncompressed > limits.max_ratio * max(
            compressed, 1
        ):
            raise TooMuchInside(f"ratio {uncompressed / max(compressed, 1):.0f}")
        names = {entry.filename for entry in entries}
        if any(entry.flag_bits & 0x1 for entry in entries):
            raise NotWhatItSays("encrypted parts")
        missing = [part for part in REQUIRED_PARTS.get(extension, ()) if part not in names]
        if missing:
            raise NotWhatItSays(f"missing {', '.join(missing)}")
        if extension in OPENDOCUMENT_TYPES:
            if not entries or entries[0].filename != "mimetype":
                raise NotWhatItSays("no mimetype part first")
            declared = _read_part(package, entries[0], keep=200).strip()
            if declared != OPENDOCUMENT_TYPES[extension].encode():
                raise NotWhatItSays(f"mimetype {declared[:80]!r}")
        # Every part is decompressed once (in memory, bounded by the sizes checked above) to
        # check its CRC: a directory that lies about the sizes fails here.
        for entry in entries:
            _read_part(package, entry)


def _read_part(package: zipfile.ZipFile, entry: zipfile.ZipInfo, keep: int = 0) -> bytes:
    """Decompress the whole part, which checks its CRC; return its first `keep` bytes."""
    kept = b""
    try:
        with package.open(entry) as stream:
            while chunk := stream.read(1024 * 1024):
                if len(kept) < keep:
                    kept += chunk[: keep - len(kept)]
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise NotWhatItSays(f"part {entry.filename[:80]!r}: {exc}") from exc
    return kept
