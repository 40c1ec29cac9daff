"""`flask submissions anonymise REFERENCE`: the right to erasure, by hand."""

from __future__ import annotations

import click

from cli.group import CommandGroup
from services.retention import RetentionError, anonymise

group = CommandGroup("submissions", help="Submissions: retention.")


@group.command("anonymise")
@click.argument("reference")
def anonymise_command(reference: str):
    """Blank the identifying answers of REFERENCE and remove its files and documents
    (what a person asks under the GDPR's right to erasure). Written in the audit log."""
    try:
        report = anonymise(reference)
    except RetentionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"anonymised {report.reference}: {len(report.fields)} answer(s) blanked, "
        f"{report.files} file(s) and {report.documents} document(s) removed, "
        f"{report.messages} email(s) cleared"
    )


def init_app(app) -> None:
    app.cli.add_command(group)
