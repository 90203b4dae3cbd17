"""Writing many rows at once on PostgreSQL: a table's secondary indexes and constraints set aside and built again after.

Used by the bulk load (``load.py``) and by ``visit-counts rebuild``: updating an index and
checking a foreign key for each of millions of rows costs far more than building the
index with one sort and checking the key with one join afterwards. Only the primary key
stays (an upsert needs it). Everything happens in the caller's transaction, so a failure
leaves the table as it was.
"""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import text

from ..extensions import db


@contextmanager
def secondary_indexes_dropped(table: str, rows_to_add: int, note=None):
    """On PostgreSQL, ``table`` without its indexes and constraints other than the primary key while ``rows_to_add`` go in.

    Only when the load is at least as large as the table (otherwise updating the indexes
    costs less than building them again); they are made again from their own definitions.
    ``note`` is told the name of each before it is built. On SQLite, nothing is set aside.
    """
    if db.session.get_bind().dialect.name != "postgresql" or rows_to_add < db.session.scalar(text(f"SELECT count(*) FROM {table}")):
        yield
        return
    constraints = db.session.execute(text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('u', 'f', 'x') ORDER BY contype DESC, conname"
    ), {"t": table}).all()
    indexes = db.session.execute(text(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = CAST(:t AS regclass) AND NOT EXISTS ("
        "  SELECT 1 FROM pg_constraint c WHERE c.conrelid = x.indrelid AND c.conindid = x.indexrelid) ORDER BY i.relname"
    ), {"t": table}).all()
    for name, _ in constraints:
        db.session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        db.session.execute(text(f'DROP INDEX "{name}"'))
    yield
    # room to sort in memory, for this transaction only
    db.session.execute(text("SELECT set_config('maintenance_work_mem', '1GB', true)"))
    for name, definition in indexes:
        if note:
            note(f"{table}: {name}")
        db.session.execute(text(definition))
    for name, definition in constraints:
        if note:
            note(f"{table}: {name}")
        db.session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
