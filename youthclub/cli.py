"""The ``youthclub`` command line: Flask's commands plus thin commands over the services.

Each domain may add commands in a ``commands.py`` module exposing ``register(group)``.
"""
from __future__ import annotations

import importlib
import pkgutil

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from .extensions import db


def _create_app():
    from . import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main():
    """youthclub: offers, QR attendance and reporting for Hotspot Nørrebro."""


@click.command("create-user")
@click.argument("email")
@click.option("--name", default=None, help="Full name (defaults to the e-mail's local part).")
@click.option(
    "--role",
    type=click.Choice(["staff", "institution_admin", "coordinator", "admin"]),
    default=None,
    help="Role to grant.",
)
@click.option("--institution", "institution_id", type=int, default=None, help="Institution id for staff roles.")
@click.password_option(help="Password (asked for when not given).")
@with_appcontext
def create_user_command(email, name, role, institution_id, password):
    """Create a user, optionally with a role."""
    from .accounts.models import Role
    from .accounts.services import AccountError, create_user
    from .database import write_transactions

    with write_transactions():
        try:
            user = create_user(
                email, name or email.split("@")[0], password,
                role=Role(role) if role else None, institution_id=institution_id,
            )
        except AccountError as err:
            db.session.rollback()
            raise click.ClickException(err.message) from err
        db.session.commit()
    click.echo(f"Created user {user.id} <{user.email}>{' as ' + role if role else ''}.")


def register(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    from . import __path__ as pkg_path

    for info in pkgutil.iter_modules(pkg_path):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"{__package__}.{info.name}.commands")
        except ModuleNotFoundError as err:
            if err.name != f"{__package__}.{info.name}.commands":
                raise
            continue
        module.register(app.cli)


if __name__ == "__main__":  # ``python -m youthclub.cli``, as ``youthclub dev`` starts its worker and scheduler
    main()
