"""`flask forms load`: validate the definition files and publish those that changed."""

from __future__ import annotations

import click

from cli.group import CommandGroup
from forms.schema import DefinitionError
from services.catalog import load_definitions

group = CommandGroup("forms", help="Form definitions.")


@group.command("load")
@click.option("--directory", default=None, help="Folder of *.yaml definitions.")
def load_command(directory: str | None):
    """Validate the definition files and publish those that changed."""
    try:
        report = load_definitions(directory)
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in report.lines():
        click.echo(line)


def init_app(app) -> None:
    app.cli.add_command(group)
