"""Work after the answer writes: on SQLite it must wait for another writer, not fail beside it."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, func, select, text

from youthclub.accounts import youth_services
from youthclub.accounts.models import User
from youthclub.extensions import db
from youthclub.mail.models import OutboxMessage


def test_a_reset_mail_written_after_the_answer_is_kept_when_another_writer_comes_in_between(app, client, world, monkeypatch):
    """The reset's work begins by reading; another connection commits a write; then the work writes.

    With a transaction that reads first, SQLite refuses the write at once ("database is locked",
    SQLITE_BUSY_SNAPSHOT) and the mail was lost. Beginning with the write lock, the other writer
    waits for the work instead.
    """
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one writer; PostgreSQL's row locks have no such failure")
    other = create_engine(db.engine.url, connect_args={"timeout": 15})
    admin_id, email = world.admin.id, world.staff_a.email
    db.session.commit()
    original = youth_services._send_password_reset

    def interleaved(*args):
        db.session.scalar(select(func.count()).select_from(User))  # the work's transaction has read

        def write():
            with other.begin() as conn:
                conn.execute(text("UPDATE user SET name = name WHERE id = :id"), {"id": admin_id})

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=1)  # done at once beside a reading transaction; waits beside a writing one
        original(*args)
        interleaved.writer = writer

    monkeypatch.setattr(youth_services, "_send_password_reset", interleaved)
    response = client.post_form("/password/forgot", {"email": email})
    assert response.status_code == 302
    interleaved.writer.join(timeout=20)
    other.dispose()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.to_address == email)) == 1
