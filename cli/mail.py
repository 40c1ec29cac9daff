"""`flask mail send` and `flask mail digest`: the outbox by hand (the background sender and
a daily timer do the same)."""

from __future__ import annotations

import click

from cli.group import CommandGroup
from mail.delivery import deliver_due
from services.notifications import send_digests

group = CommandGroup("mail", help="The outbox.")


@group.command("send")
def send_command():
    """Deliver every message that is due now (the background sender does this too)."""
    report = deliver_due(limit=10_000)
    click.echo(
        f"sent {len(report.sent)}, retrying {len(report.retrying)}, failed {len(report.failed)}"
    )


@group.command("digest")
def digest_command():
    """Queue the daily digest for reviewers who chose one (run once a day)."""
    click.echo(f"queued {send_digests()} digest(s)")


def init_app(app) -> None:
    app.cli.add_command(group)
