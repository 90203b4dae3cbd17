"""``youthclub send-reminders``: mail tomorrow's participants; running it twice sends nothing twice."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("send-reminders")
@with_appcontext
def send_reminders_command():
    """Remind everyone with a place about tomorrow's sessions (and retry unsent mail)."""
    from ..database import write_transactions
    from ..extensions import db
    from ..mail.services import deliver_due
    from .services import send_reminders

    with write_transactions():
        written = send_reminders()
        db.session.commit()
        retried = deliver_due()
    click.echo(f"{written} reminder(s) written; {retried} message(s) sent from the outbox.")


def register(cli_group) -> None:
    cli_group.add_command(send_reminders_command)
