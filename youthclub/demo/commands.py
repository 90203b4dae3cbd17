"""``youthclub seed-demo``: load the demo Hotspot Nørrebro and print its logins."""
from __future__ import annotations

import os
import time

import click
from flask.cli import with_appcontext

from ..extensions import db
from . import data


@click.command("seed-demo")
@click.option("--password", default=None, help="Password for the demo logins (default: hotspot-demo-2011).")
@click.option("--if-empty", is_flag=True, help="Only load the demo into an empty database (used by `make run`).")
@with_appcontext
def seed_demo_command(password, if_empty):
    """Load a living demo Hotspot Nørrebro around today's date (running it again adds nothing)."""
    from ..accounts.services import AccountError, check_password_policy
    from ..database import write_transactions
    from . import seed

    if password is None and os.environ.get("YOUTHCLUB_ENV") == "production":
        # the default password is printed in the README: never on a real server
        raise click.ClickException("in production, give the demo logins a password of your own with --password")
    if password is not None:
        try:
            check_password_policy(password)
        except AccountError as err:
            raise click.ClickException(
                f"--password refused ({err.code}): use at least 8 characters and not a common password."
            ) from err
    started = time.perf_counter()
    with write_transactions():
        if if_empty and not seed.database_is_empty():
            logins = seed.demo_logins()
            known = seed.known_password() if logins else None
            # an earlier demo database still gets a session running now
            door = seed.try_the_door() if logins else []
            db.session.commit()
            click.echo("The database is not empty; no demo data loaded.")
            _print_logins(logins, known)
            _print_second_factor(seed.demo_second_factor_logins())
            _print_door(door)
            return
        result = seed.seed_demo(password, known_second_factor=os.environ.get("YOUTHCLUB_ENV") != "production")
        db.session.commit()
    if result.created:
        counts = ", ".join(f"{n} {name}" for name, n in result.counts.items())
        click.echo(f"Demo data loaded in {time.perf_counter() - started:.1f} s: {counts}.")
    else:
        click.echo("The demo data is already there; nothing added."
                   + (" The demo logins have the new password." if password else ""))
    _print_logins(result.logins, result.password)
    _print_second_factor(result.known_second_factor)
    _print_door(result.door)


def _print_door(lines) -> None:
    for line in lines:
        click.echo(line)


def _print_second_factor(emails) -> None:
    if not emails:
        return
    key = " ".join(data.DEMO_TOTP_SECRET[i:i + 4] for i in range(0, len(data.DEMO_TOTP_SECRET), 4))
    click.echo("Two-step log-in for " + ", ".join(emails) + ": after the password, type the code of an")
    click.echo(f"authenticator app set up with the key {key}")
    click.echo(f"or print the current code with `youthclub mfa-code {emails[0]}`.")


def _print_logins(logins, password) -> None:
    if not logins:
        return
    click.echo("Demo logins:")
    width = max(len(email) for email, _ in logins)
    for email, role in logins:
        click.echo(f"  {email.ljust(width)}  {role}")
    if password:
        click.echo(f"Password: {password}")
    else:
        click.echo("Password: the one given with --password when the demo was loaded "
                   "(`youthclub seed-demo --password NEW` sets a new one).")


def register(cli) -> None:
    cli.add_command(seed_demo_command)
