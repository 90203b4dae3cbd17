"""``youthclub backup PATH``: a consistent copy of the database while the app runs."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..extensions import db


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_command(path):
    """Copy the SQLite database to PATH (safe while the app runs). On PostgreSQL: use pg_dump."""
    from .backup import BackupError, backup_sqlite

    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "`youthclub backup` copies SQLite databases only. This app runs on PostgreSQL: back it up with "
            "pg_dump, e.g.\n  pg_dump --format=custom --file youthclub.dump \"$DATABASE_URL\"\n"
            "and restore with\n  pg_restore --clean --if-exists --no-owner --dbname \"$DATABASE_URL\" youthclub.dump\n"
            "(see README.md, Production)."
        )
    if not url.database or url.database == ":memory:":
        raise click.ClickException("an in-memory database cannot be backed up")
    try:
        target = backup_sqlite(url.database, path)
    except BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"Backed up {url.database} to {target} ({target.stat().st_size:,} bytes).")


def register(cli) -> None:
    cli.add_command(backup_command)
