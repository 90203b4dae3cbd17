"""The SQLite write lock taken in place (youthclub/database.py): a transaction that began by reading."""
from __future__ import annotations

import pytest

from youthclub.extensions import db


def test_taking_the_write_lock_in_place_never_commits_what_the_transaction_wrote(app, world):
    """``take_write_lock`` ends a GET's reads by committing them; a transaction that has already
    written holds the lock, and committing there would make half of it permanent."""
    from sqlalchemy import text

    from youthclub.database import take_write_lock

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has no database-wide write lock")
    title = world.activity_a.title
    activity_id = world.activity_a.id
    db.session.commit()
    with app.test_request_context("/", method="GET"):
        db.session.execute(text("SELECT 1"))  # a read: the GET's transaction begins without the lock
        db.session.execute(text("UPDATE activity SET title = 'half' WHERE id = :id"), {"id": activity_id})
        take_write_lock()
        db.session.rollback()
        db.session.remove()
    assert db.session.get(type(world.activity_a), activity_id).title == title
