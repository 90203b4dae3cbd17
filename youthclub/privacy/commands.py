"""``youthclub purge``: the retention schedule, safe to run every day."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db


@click.command("purge")
@click.option("--months", type=int, default=None, help="Inactivity before anonymising (default: RETENTION_MONTHS).")
@click.option("--dry-run", is_flag=True, help="Report what would be done, change nothing.")
@with_appcontext
def purge_command(months, dry_run):
    """Anonymise long-inactive young people; delete expired tokens and old outbox mail."""
    from ..database import write_transactions
    from .services import DEFAULT_OUTBOX_RETENTION_DAYS, purge

    months = months if months is not None else current_app.config["RETENTION_MONTHS"]
    if months < 1:
        raise click.BadParameter("must be at least 1", param_hint="--months")
    with write_transactions():
        counts = purge(
            retention_months=months,
            outbox_days=int(current_app.config.get("OUTBOX_RETENTION_DAYS", DEFAULT_OUTBOX_RETENTION_DAYS)),
        )
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    summary = ", ".join(f"{key}={value}" for key, value in counts.items())
    click.echo(("Would purge: " if dry_run else "Purged: ") + summary)


def register(cli_group) -> None:
    cli_group.add_command(purge_command)
