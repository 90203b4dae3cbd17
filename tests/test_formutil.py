"""saved_or_refused: one way for a view to commit a service's work or show its refusal."""
from __future__ import annotations

from flask import get_flashed_messages
from sqlalchemy import select

from tests.factories import make_institution
from youthclub.errors import DomainError
from youthclub.extensions import db
from youthclub.formutil import saved_or_refused
from youthclub.models import Institution


def test_without_a_form_a_refusal_is_flashed_and_undone(app, world):
    with app.test_request_context("/"):
        with saved_or_refused(success="Gemt.") as saved:
            make_institution(name="Halvt skrevet")
            raise DomainError("Det må du ikke.", "nope")
        assert not saved.ok
        assert get_flashed_messages(with_categories=True) == [("error", "Det må du ikke.")]
        assert db.session.scalar(select(Institution).where(Institution.name == "Halvt skrevet")) is None


def test_without_a_form_work_is_committed_and_its_success_flashed(app, world):
    with app.test_request_context("/"):
        with saved_or_refused(success="Gemt.") as saved:
            make_institution(name="Helt skrevet")
        assert saved.ok
        assert get_flashed_messages(with_categories=True) == [("success", "Gemt.")]
    db.session.rollback()  # committed: a rollback cannot take it back
    assert db.session.scalar(select(Institution).where(Institution.name == "Helt skrevet")) is not None
