"""Many submissions' PDF copies at once: one ZIP with a PDF per submission, or one merged
PDF with a bookmark per submission. Copies missing for the current revision are made on
the way (documents.store.make_copies). Both write to a file the caller gives (a temporary
file for a download, a path for the command line), one submission at a time, so memory
holds one PDF — except the merged PDF, which pypdf assembles in memory before writing."""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from pypdf import PdfWriter

from documents.store import current_document, make_copies
from extensions import db
from models import Document, Submission
from storage import get_storage

Progress = Callable[[Submission], None] | None


def copies(submission_ids: Iterable[int], progress: Progress = None) -> Iterator[tuple]:
    """(submission, its current PDF copy) in the given order, made when missing."""
    for number, submission_id in enumerate(submission_ids, start=1):
        submission = db.session.get(Submission, submission_id)
        if submission is None:
            continue
        document = current_document(submission, "copy_pdf")
        if document is None:
            make_copies(submission)
            document = current_document(submission, "copy_pdf")
        if document is not None:
            yield submission, document
        if progress is not None:
            progress(submission)
        if number % 100 == 0:
            db.session.expunge_all()  # read once, never again: keep the session small


def _open(document: Document) -> BinaryIO:
    return get_storage().open(document.storage_name)


def write_zip(submission_ids: Iterable[int], target: BinaryIO, progress: Progress = None) -> int:
    """A ZIP of `<reference>.pdf` files; PDFs are compressed already, so stored as they are."""
    count = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for submission, document in copies(submission_ids, progress):
            with _open(document) as source, archive.open(f"{submission.reference}.pdf", "w") as out:
                shutil.copyfileobj(source, out)
            count += 1
    return count


def write_merged(
    submission_ids: Iterable[int], target: BinaryIO, title: str = "", progress: Progress = None
) -> int:
    """One PDF: every copy's pages in order, each submission a bookmark (its reference)."""
    writer = PdfWriter()
    count = 0
    for submission, document in copies(submission_ids, progress):
        with _open(document) as source:
            data = io.BytesIO(source.read())  # pypdf may read the file after this block
        writer.append(data, outline_item=submission.reference)
        count += 1
    if title:
        writer.add_metadata({"/Title": title})
    writer.write(target)
    return count
