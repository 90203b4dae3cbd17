"""Engine set-up and the write lock that protects capacity and check-in.

PostgreSQL: services take ``SELECT … FOR UPDATE`` row locks (``lock_row``).
SQLite has no row locks: every request that may write (POST, PUT, PATCH, DELETE)
and code wrapped in ``write_transactions()`` opens its transaction with ``BEGIN IMMEDIATE``, so writers
queue on the database lock (WAL keeps readers free) and a read-then-write can never
act on a stale count. A view marked ``reads_first`` (the check-in) does its reads before
the lock instead and calls ``start_writing()`` before its first write; its write must then
check again, in the statement itself, what it decided on (the check-in's INSERT does).
"""
from __future__ import annotations

import random
import sqlite3
import time
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, g, has_request_context, request
from sqlalchemy import event, select, text
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import OperationalError
from werkzeug.routing import IntegerConverter

from .extensions import db

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


_immediate_outside_requests: ContextVar[bool] = ContextVar("immediate_outside_requests", default=False)


def locking_enabled() -> bool:
    return bool(current_app.config.get("LOCKING_ENABLED", True))


@contextmanager
def write_transactions():
    """Outside a request (CLI, worker threads), begin SQLite transactions IMMEDIATE too."""
    token = _immediate_outside_requests.set(True)
    try:
        yield
    finally:
        _immediate_outside_requests.reset(token)


def configure_engine(app, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    busy_ms = int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # let SQLAlchemy, not pysqlite, decide when a transaction begins
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cur.execute("PRAGMA foreign_keys = ON")
        if engine.url.database and engine.url.database != ":memory:":
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    if app.config.get("TESTING"):
        @event.listens_for(engine, "before_cursor_execute")
        def _no_write_before_lock(conn, _cursor, statement, _params, _context, _many):
            # a reads_first view must take the write lock before it writes (tests catch a forgotten one)
            if (has_request_context() and request.method not in SAFE_METHODS and _reading_first()
                    and not conn.get_execution_options().get("another_writer")
                    and statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE")):
                raise RuntimeError("a reads_first view wrote before start_writing()")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = _begins_with_write_lock()
        conn.info[WRITE_LOCKED] = immediate
        if immediate:
            _begin_immediate(conn.connection.driver_connection, busy_ms / 1000)
        else:
            conn.exec_driver_sql("BEGIN")
            # SQLite takes the write lock at a transaction's first write: this tells whether one came
            conn.info[CHANGES_AT_BEGIN] = conn.connection.driver_connection.total_changes


#: SQLite: whether the connection's transaction holds the write lock (kept in the connection's info):
#: it began IMMEDIATE or took the lock in place (or has written since CHANGES_AT_BEGIN)
WRITE_LOCKED = "youthclub_write_locked"
CHANGES_AT_BEGIN = "youthclub_changes_at_begin"


def _begins_with_write_lock() -> bool:
    """SQLite: whether a transaction beginning now takes the write lock at once (``BEGIN IMMEDIATE``)."""
    if not current_app.config.get("LOCKING_ENABLED", True):
        return False
    if has_request_context():
        return bool(g.get("_writing")) or (request.method not in SAFE_METHODS and not _reading_first())
    return _immediate_outside_requests.get()


def _holds_write_lock(session) -> bool:
    if not session.in_transaction():
        return _begins_with_write_lock()
    return bool(session.connection().info.get(WRITE_LOCKED))


def reads_first(view):
    """Mark a view that reads everything it decides on, then writes once (the check-in).

    On SQLite its reads run in an ordinary transaction, beside any writer, and the write lock is
    taken only at ``start_writing()``: so one request's token read, parsing and decisions no
    longer hold every other writer up. The write must verify in its own statement what the
    reads found (a conditional INSERT), since another writer may have come in between.
    """
    view.reads_first = True
    return view


def _reading_first() -> bool:
    if g.get("_writing"):
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "reads_first", False))


def start_writing(*, alone: bool = False) -> bool:
    """From here on the request writes: in a ``reads_first`` view on SQLite, its transaction ends
    its reads and takes the write lock, on the same connection.

    ``alone``: the next statement is the only write of the request that anything depends on
    (the check-in's conditional INSERT, which checks in itself what the reads found; what may
    follow is bookkeeping such as last-active). On SQLite it then runs on its own, committed by
    SQLite as it ends: the database's one write lock is held for that statement inside SQLite
    alone, never across Python code waiting for the interpreter's lock in a busy worker.

    Elsewhere (PostgreSQL, other views, outside a request) it changes nothing: the
    transaction goes on as it is. Returns whether the next statement runs alone.
    """
    if not has_request_context() or g.get("_writing"):
        return False
    reading = _reading_first()
    g._writing = True
    if not reading or db.session.get_bind().dialect.name != "sqlite" or not locking_enabled():
        return False
    session = db.session()
    if alone:
        _write_alone(session)
        return True
    if session.in_transaction():  # else nothing was read yet: the next statement begins IMMEDIATE
        _lock_in_place(session)
    return False


def _write_alone(session) -> None:
    """SQLite: end the reads; the statements that follow commit one by one as SQLite runs them."""
    connection = session.connection()
    raw = connection.connection.driver_connection
    if raw.in_transaction:
        raw.execute("COMMIT")
    # what follows writes without a transaction of its own: nothing is to wait for a lock first
    connection.info[WRITE_LOCKED] = True


def execute_write(statement, params: dict, *, alone: bool = False):
    """Start writing (``start_writing``) and run ``statement`` in the session's connection.

    Alone on SQLite the statement takes the write lock itself: it waits for it as
    ``BEGIN IMMEDIATE`` does, in short steps and observed, instead of in SQLite's busy handler.
    """
    lone = start_writing(alone=alone)
    connection = db.session.connection()
    if not lone:
        return connection.execute(statement, params)
    timeout_s = int(current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000)) / 1000
    return _when_unlocked(connection.connection.driver_connection, timeout_s,
                          lambda: connection.execute(statement, params))


def write_aside(statement) -> None:
    """One small write beside what the request does (bookkeeping: a token's last use).

    On PostgreSQL, or in a SQLite transaction that has the write lock, it is part of the
    session's transaction. A SQLite transaction that only reads cannot turn into a write once
    another writer has committed since its first read (SQLITE_BUSY_SNAPSHOT, a 503). So in a
    ``reads_first`` view, whose own write comes later (``start_writing()``), it gets its own
    short transaction on another connection, committed at once; elsewhere (a GET) the
    transaction ends its reads and takes the write lock first, as any write of it would.
    """
    session = db.session()
    if session.get_bind().dialect.name != "sqlite" or not locking_enabled() or _holds_write_lock(session):
        session.execute(statement)
        return
    if has_request_context() and _reading_first():
        with db.engine.connect().execution_options(another_writer=True) as conn, conn.begin():
            conn.execute(statement)
        return
    take_write_lock()
    session.execute(statement)


def take_write_lock() -> None:
    """Before a write in a transaction that began by reading (a GET that leaves an audit line).

    On SQLite such a transaction cannot become a write once another writer has committed since
    its first read (SQLITE_BUSY_SNAPSHOT): a coordinator's dashboard answered 503 whenever a
    door checked someone in while it computed. Here its reads end and it takes the write lock,
    on the same connection. Elsewhere (PostgreSQL, a transaction that has the lock) nothing changes.
    """
    if not has_request_context() or request.method not in SAFE_METHODS:
        return  # a writing request's transaction has the lock from its start; a CLI's decides for itself
    session = db.session()
    if (session.get_bind().dialect.name == "sqlite" and locking_enabled() and session.in_transaction()
            and not _holds_write_lock(session)):
        _lock_in_place(session)


def _lock_in_place(session) -> None:
    """SQLite: the session's transaction ends its reads and takes the write lock, on the same connection."""
    connection = session.connection()
    raw = connection.connection.driver_connection
    if connection.info.get(WRITE_LOCKED) or raw.total_changes != connection.info.get(CHANGES_AT_BEGIN):
        connection.info[WRITE_LOCKED] = True  # it has written: the lock is its own already
        return
    if raw.in_transaction:
        raw.execute("COMMIT")
    _begin_immediate(raw, int(current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000)) / 1000)
    connection.info[WRITE_LOCKED] = True


def _begin_immediate(dbapi_connection, timeout_s: float) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in short, jittered steps (``_when_unlocked``)."""
    _when_unlocked(dbapi_connection, timeout_s, lambda: dbapi_connection.execute("BEGIN IMMEDIATE"))


def _when_unlocked(dbapi_connection, timeout_s: float, attempt):
    """Run ``attempt`` (a statement that takes SQLite's write lock) until the lock is free.

    SQLite's own busy handler sleeps in steps that grow to 100 ms, so under contention a
    writer may sleep long after the lock came free (p99 in the hundreds of milliseconds).
    Here it polls in steps of at most 4 ms, and the wait is observed
    (``youthclub_sqlite_write_lock_wait_seconds``). A statement refused as busy changed nothing.
    """
    from .ops.metrics import SQLITE_WRITE_LOCK_WAIT

    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        started = time.monotonic()
        deadline = started + timeout_s
        delay = 0.0005
        while True:
            try:
                outcome = attempt()
                SQLITE_WRITE_LOCK_WAIT.observe(time.monotonic() - started)
                return outcome
            except (sqlite3.OperationalError, OperationalError) as err:
                message = str(getattr(err, "orig", err))
                if "locked" not in message and "busy" not in message:
                    raise
                if time.monotonic() >= deadline:
                    raise
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 1.5, 0.004)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")


def lock_row(model, ident):
    """Load one row and lock it for the rest of the transaction (``FOR UPDATE`` on PostgreSQL)."""
    stmt = select(model).where(model.id == ident).execution_options(populate_existing=True)
    if locking_enabled():
        stmt = stmt.with_for_update()
    return db.session.scalars(stmt).one_or_none()


def lock_key(key: str) -> None:
    """Hold a lock named ``key`` for the rest of the transaction, for a limit counted over rows that
    do not exist yet (PostgreSQL: an advisory lock; SQLite: a writing request's transaction is
    already ``BEGIN IMMEDIATE``, one at a time)."""
    if locking_enabled() and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


#: primary keys are 32-bit integers on PostgreSQL
MAX_ID = 2**31 - 1
#: the largest count (places, targets) accepted: a 32-bit column holds it, with room to add
MAX_COUNT = 1_000_000


def is_db_id(value) -> bool:
    """Whether ``value`` could be a row id (a positive 32-bit int, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def parse_db_id(raw) -> int | None:
    """A row id from text (a query value, a form field); None when it is not one (too large, negative, text)."""
    text = str(raw).strip() if raw is not None else ""
    # ASCII digits only: str.isdigit() is true for "²", which int() refuses
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if is_db_id(value) else None


class IdConverter(IntegerConverter):
    """The ``int`` URL converter, bounded to row ids: a larger number is a 404, never a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def rows_changed(statement) -> int:
    """Run an INSERT, UPDATE or DELETE in the session and say how many rows it changed."""
    result = db.session.execute(statement)
    if not isinstance(result, CursorResult):
        raise TypeError(f"not a statement that changes rows: {statement}")
    return result.rowcount
