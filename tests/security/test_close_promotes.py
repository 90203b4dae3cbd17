"""Closing an account frees the young person's place through the sign-up rules."""
from tests.factories import make_youth, sign_up
from youthclub.extensions import db
from youthclub.models import SignupStatus


def test_closing_an_account_promotes_the_next_in_line(app, world):
    from youthclub.privacy.services import close_account

    world.activity_a.capacity = 1  # the world's young person holds the only place
    waiting = make_youth(first_name="Venter")
    queued = sign_up(waiting, world.activity_a, status=SignupStatus.WAITLISTED, position=1)
    db.session.commit()

    close_account(world.youth_user, "correct horse battery")
    db.session.commit()

    db.session.refresh(queued)
    assert queued.status == SignupStatus.CONFIRMED
    assert queued.position is None
