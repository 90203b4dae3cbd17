"""``youthclub create-token EMAIL``: a personal API token for a scanner device or a script."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from ..accounts.models import TokenScope
from ..extensions import db
from .services import MAX_TOKEN_DAYS


@click.command("create-token")
@click.argument("email")
@click.option("--name", default="CLI", show_default=True, help="A name to tell the token apart.")
@click.option("--scope", type=click.Choice([s.value for s in TokenScope]), default=TokenScope.FULL.value,
              show_default=True, help="checkin: only check young people in (a door scanner); full: everything the user may.")
@click.option("--days", type=click.IntRange(1, MAX_TOKEN_DAYS), default=None,
              help="Days the token works (default: API_TOKEN_DAYS, 90).")
@with_appcontext
def create_token_command(email, name, scope, days):
    """Create a personal API token for the user with EMAIL and print it (once)."""
    from ..accounts.models import User
    from ..database import write_transactions
    from .services import TokenError, create_token

    with write_transactions():
        user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None or not user.active:
            raise click.ClickException(f"No active user with e-mail {email}")
        try:
            _token, secret = create_token(user, name, scope=scope, days=days)
        except TokenError as err:
            db.session.rollback()
            raise click.ClickException(err.message) from err
        db.session.commit()
    click.echo(secret)


def register(cli_group) -> None:
    cli_group.add_command(create_token_command)
