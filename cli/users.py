"""`flask users create|deactivate|list`: staff accounts (the first administrator is made so)."""

from __future__ import annotations

import sys

import click

from cli.group import CommandGroup
from services.staff import deactivate_by_email, staff_lines
from services.users import AccountError, create_user

group = CommandGroup("users", help="Staff accounts.")


@group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["reviewer", "call_manager", "admin"]), required=True)
@click.option("--name", default="", help="Full name shown in the audit log.")
@click.option("--all-forms", is_flag=True, help="Reviewer of every form.")
@click.option("--form", "forms", multiple=True, help="Slug of a form to review (repeat).")
def create_user_command(email, role, name, all_forms, forms):
    """Create a staff account. The password is asked twice (or read as two lines from
    standard input when it is not a terminal, so scripts can pipe it)."""
    password = _read_new_password()
    try:
        user = create_user(email, password, role, name, all_forms, tuple(forms))
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {user.role} {user.email}")


@group.command("deactivate")
@click.argument("email")
def deactivate_user_command(email):
    """Stop a staff account: it can no longer sign in, and its sessions end at once."""
    try:
        user = deactivate_by_email(email)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"deactivated {user.email}")


@group.command("list")
def list_users_command():
    """One line per staff account: email, role, state, two-factor, calls."""
    for line in staff_lines():
        click.echo(line)


def _read_new_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    lines = sys.stdin.read().splitlines()
    if len(lines) < 2 or lines[0] != lines[1]:
        raise click.ClickException("give the password twice, on two lines, identical")
    return lines[0]


def init_app(app) -> None:
    app.cli.add_command(group)
