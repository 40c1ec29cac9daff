"""Forms (calls) and their published versions."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.types import UTCDateTime, utcnow


class Form(db.Model):
    """A call. Its questions live in versions; `current_version` is what new applicants see."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("form_versions.id", use_alter=True)
    )
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Bumped by every change that needs the form's places counted consistently: updating
    # this row first takes its row lock (PostgreSQL) or the write lock (SQLite).
    lock_counter: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    current_version: Mapped[FormVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    versions: Mapped[list[FormVersion]] = relationship(
        back_populates="form", foreign_keys="FormVersion.form_id", order_by="FormVersion.number"
    )


class FormVersion(db.Model):
    """An immutable published definition. Submissions point here, so editing a form's file
    publishes a new version and never changes the questions an old submission answered."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict] = mapped_column(JSON)
    checksum: Mapped[str] = mapped_column(String(64))
    # Copied out of the definition so the list of calls is one indexed query.
    opens_at = mapped_column(UTCDateTime, nullable=False)
    closes_at = mapped_column(UTCDateTime, nullable=False)
    published_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # The workflow definition as it was when this version was published: every decision on
    # its submissions follows it, so editing a workflow file never strands a submission in
    # a state that is gone (None only before it is backfilled: the file is read then).
    workflow_snapshot: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    form: Mapped[Form] = relationship(back_populates="versions", foreign_keys=[form_id])
