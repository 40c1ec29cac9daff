"""Generated documents (PDF and DOCX), stored once per submission revision and language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.types import UTCDateTime, utcnow


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("submission_id", "kind", "revision", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"), index=True)
    # copy_pdf, copy_docx, letter_pdf, letter_docx, blank_pdf, blank_docx
    kind: Mapped[str] = mapped_column(String(30))
    # The submission revision the document shows (0 for a blank form); a changed submission
    # gets new documents, earlier ones stay as they were sent.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(120))
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
