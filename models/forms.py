"""Forms (calls): one editable draft each, and immutable published versions."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, and_
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
    # An archived call is gone from the public pages but stays in the dashboard.
    archived_at = mapped_column(UTCDateTime, nullable=True)
    # The SHA-256 of the call's shareable preview link (/preview/<token>), if one was made.
    preview_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    current_version: Mapped[FormVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    # Published versions only: preview versions (numbers below 0) are for test submissions.
    versions: Mapped[list[FormVersion]] = relationship(
        primaryjoin=lambda: and_(FormVersion.form_id == Form.id, FormVersion.number > 0),
        foreign_keys="FormVersion.form_id",
        order_by="FormVersion.number",
        viewonly=True,
    )
    draft: Mapped[FormDraft | None] = relationship(back_populates="form", uselist=False)


class FormDraft(db.Model):
    """The one editable definition of a call: the document as its author wrote it (the
    YAML file's input format, as JSON), changed by the builder or by `flask forms load`
    and published as a new version. `revision` is the version tag two editors compare: a
    save made from an older revision is refused, so nobody overwrites an edit unseen."""

    __tablename__ = "form_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), unique=True)
    document: Mapped[dict] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # True while the draft holds builder edits not yet published: `flask forms load` will
    # not overwrite them without --force.
    edited_in_browser: Mapped[bool] = mapped_column(Boolean, default=False)
    published_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)

    form: Mapped[Form] = relationship(back_populates="draft")


class FormVersion(db.Model):
    """An immutable published definition. Submissions point here, so publishing a call's
    draft makes a new version and never changes the questions an old submission answered.
    `definition` is the document as written (the input format); forms.published.spec_for
    normalises it when it builds the spec."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    # 1, 2, 3… as published; a preview version has a negative number (-1, -2…).
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
    # Where it came from: "file" (flask forms load), "browser" (the builder) or "preview"
    # (a draft's snapshot for test submissions made through its preview link).
    origin: Mapped[str] = mapped_column(String(20), default="file", server_default="file")
    published_by_id: Mapped[int | None] = mapped_column(nullable=True)  # users.id, as audit

    form: Mapped[Form] = relationship(foreign_keys=[form_id])

    @property
    def is_preview(self) -> bool:
        return self.number < 0
