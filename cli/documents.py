"""`flask --app app documents export FORM_SLUG --zip out.zip --merged out.pdf`: every
submission of a form (or those in some states) as PDF copies, made where missing."""

from __future__ import annotations

import click
from sqlalchemy import select

from cli.group import CommandGroup
from documents.bulk import write_merged, write_zip
from extensions import db
from forms.published import spec_for
from models import Submission
from services.catalog import find_form

group = CommandGroup("documents", help="Generated documents (PDF and DOCX).")


@group.command("export")
@click.argument("form_slug")
@click.option(
    "--zip", "zip_path", type=click.Path(dir_okay=False), help="Write a ZIP of PDFs here."
)
@click.option(
    "--merged", "merged_path", type=click.Path(dir_okay=False), help="Write one PDF here."
)
@click.option("--state", "states", multiple=True, help="Only submissions in this state (repeat).")
def export_command(form_slug: str, zip_path: str | None, merged_path: str | None, states):
    """Every submission of FORM_SLUG as PDF, oldest first: one file per submission in a ZIP
    (--zip) and/or all in one PDF (--merged). Missing copies are made first."""
    if not zip_path and not merged_path:
        raise click.UsageError("give --zip FILE, --merged FILE or both")
    form = find_form(form_slug)
    if form is None:
        raise click.ClickException(f"no form named '{form_slug}'")
    query = select(Submission.id).where(Submission.form_id == form.id)
    if states:
        query = query.where(Submission.state.in_(states))
    ids = list(db.session.scalars(query.order_by(Submission.submitted_at, Submission.id)))
    if not ids:
        raise click.ClickException("no submissions to export")
    spec = spec_for(form.current_version) if form.current_version else None
    title = spec.text("title", spec.default_language) if spec else form_slug
    for path, label, write in (
        (zip_path, "ZIP", lambda target, step: write_zip(ids, target, step)),
        (merged_path, "merged PDF", lambda target, step: write_merged(ids, target, title, step)),
    ):
        if not path:
            continue
        with (
            open(path, "wb") as target,  # first: a path that cannot be written stops at once
            click.progressbar(length=len(ids), label=f"{label} → {path}") as bar,
        ):
            count = write(target, lambda _submission, bar=bar: bar.update(1))
        click.echo(f"wrote {count} submission(s) to {path}")


def init_app(app) -> None:
    app.cli.add_command(group)
