"""`flask forms load` and `flask forms export`: the definition files are the import and
export format of calls kept in the database (services/call_drafts.py)."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from cli.group import CommandGroup
from forms.schema import DefinitionError
from services.catalog import export_documents, load_definitions

group = CommandGroup("forms", help="Form definitions.")


@group.command("load")
@click.option("--directory", default=None, help="Folder of *.yaml definitions.")
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite changes made in the browser since the files were last loaded.",
)
def load_command(directory: str | None, force: bool):
    """Check the definition files and publish those that changed."""
    try:
        report = load_definitions(directory, force=force)
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in report.lines():
        click.echo(line)


@group.command("export")
@click.argument("slugs", nargs=-1)
@click.option(
    "--directory",
    default=None,
    help="Write <slug>.yaml files here (default: print to standard output).",
)
@click.option("--published", is_flag=True, help="The current version instead of the draft.")
def export_command(slugs: tuple[str, ...], directory: str | None, published: bool):
    """Write calls' definitions as YAML: the drafts (with changes made in the browser) or,
    with --published, the versions applicants see."""
    documents = export_documents(list(slugs), published=published)
    missing = sorted(set(slugs) - set(documents))
    if missing and published:
        unpublished = sorted(set(missing) & set(export_documents(missing)))
        if unpublished:
            raise click.ClickException(
                f"{', '.join(unpublished)} has no published version (export the draft: "
                "leave out --published)"
            )
    if missing:
        raise click.ClickException(f"no such call: {', '.join(missing)}")
    for slug, document in documents.items():
        text = as_yaml(document)
        if directory is None:
            click.echo(f"# {slug}.yaml\n{text}" if len(documents) > 1 else text, nl=False)
            continue
        path = Path(directory) / f"{slug}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")


class _Dumper(yaml.SafeDumper):
    """Texts of several lines as literal blocks (`|`), as an author writes them."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def as_yaml(document: dict) -> str:
    """YAML that reads back as the same document: PyYAML quotes every string that would
    otherwise read as something else (yes, 09:30, 2027-01-21), and falls back to quotes
    for a text a literal block cannot hold (trailing blanks)."""
    return yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def init_app(app) -> None:
    app.cli.add_command(group)
