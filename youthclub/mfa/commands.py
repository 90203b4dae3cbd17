"""``youthclub mfa-code EMAIL``: the current code of a demo login's authenticator app (never in production)."""
from __future__ import annotations

import os

import click
from flask.cli import with_appcontext

from ..accounts.services import find_user_by_email
from ..demo import data
from . import services


@click.command("mfa-code")
@click.argument("email")
@with_appcontext
def mfa_code_command(email):
    """Print the code a demo login's authenticator app shows now (the demo's key is published)."""
    if os.environ.get("YOUTHCLUB_ENV") == "production":
        raise click.ClickException("mfa-code is for the demo only, never in production")
    if not email.strip().lower().endswith("@" + data.DEMO_DOMAIN):
        raise click.ClickException(f"mfa-code only prints codes for the demo logins (@{data.DEMO_DOMAIN})")
    user = find_user_by_email(email)
    factor = services.confirmed_factor(user) if user is not None else None
    if factor is None or factor.secret != data.DEMO_TOTP_SECRET:
        raise click.ClickException(f"{email} has no demo authenticator app (run `youthclub seed-demo`)")
    code = services.next_usable_code(factor)
    if code is None:
        raise click.ClickException("the current code was just used; try again in a few seconds")
    click.echo(code)


def register(cli) -> None:
    cli.add_command(mfa_code_command)
