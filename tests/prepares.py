"""Which statements SQLite prepares (compiles) while a block runs: a statement run again prepares none.

SQLite asks a connection's authorizer about every table and column a statement reads or writes
while it prepares the statement, and never while it runs one prepared already. Watching it
tells a statement that SQLite must compile again on every execution (a value bound in the
condition of a partial index does that) from one the connection keeps prepared.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager

from sqlalchemy import event

#: what a statement does to a table: the authorizer's actions for reads and writes
TABLE_ACTIONS = (sqlite3.SQLITE_READ, sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE)


class Prepares:
    """What statements prepared while ``of`` ran touched: (action, table, column) each."""

    def __init__(self) -> None:
        self.seen: list[tuple] = []

    def of(self, call) -> list[tuple]:
        """Run ``call()`` and answer what the statements SQLite prepared meanwhile touched."""
        self.seen.clear()
        call()
        return list(self.seen)


@contextmanager
def watch_prepares(engine):
    """Yield a ``Prepares`` that hears (action, table, column) for each table a statement prepared meanwhile touches.

    The pool is emptied first, so requests made one at a time all use one new connection (the
    pool hands out its connections in turn). The authorizer is set once per connection (setting
    it expires the connection's prepared statements) and taken off after.
    """
    engine.dispose()
    prepared = Prepares()
    watched: list = []

    def authorize(action, table, column, _database, _trigger):
        if action in TABLE_ACTIONS:  # the pool's ping and the busy timeout's pragmas touch no table
            prepared.seen.append((action, table, column))
        return sqlite3.SQLITE_OK

    def watch(dbapi_connection, _record, _proxy):
        if not any(c is dbapi_connection for c in watched):
            watched.append(dbapi_connection)
            dbapi_connection.set_authorizer(authorize)

    event.listen(engine, "checkout", watch)
    try:
        yield prepared
    finally:
        event.remove(engine, "checkout", watch)
        for connection in watched:
            connection.set_authorizer(None)
