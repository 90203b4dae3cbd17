"""What a bearer token resolves to is kept per worker (``api/principals.py``), and every change is seen at once.

Each test warms the worker's principal first, makes one change the way the app or an
administrator would, and asks again: the answer must be the one a fresh read gives. The
property test does this after every step of random sequences of changes, and the negative
control shows the triggers are what make it right: without them the stale principal is served.
"""
from __future__ import annotations

import importlib.util
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text, update

from tests.factories import make_second_factor, make_youth
from youthclub.accounts import services as account_services
from youthclub.accounts.models import ApiToken, Membership, PrincipalVersion, Role, TokenScope, User, YouthProfile
from youthclub.api import core
from youthclub.api.principals import Principals, current_tag, principals
from youthclub.db_types import utcnow
from youthclub.extensions import db
from youthclub.mfa.models import TotpFactor
from youthclub.tokens.services import create_token, revoke_token


def _migration():
    path = next(Path(__file__).resolve().parents[2].glob("migrations/versions/*_a7c3e9d1f5b2_*.py"))
    spec = importlib.util.spec_from_file_location("principal_migration", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def _me(client, secret):
    r = client.get("/api/v1/me", headers=_bearer(secret))
    return r.status_code, (r.json if r.status_code == 200 else None)


def _check_in(client, secret, world):
    return client.post(f"/api/v1/sessions/{world.session_a.id}/checkins", headers=_bearer(secret),
                       json={"token": world.youth.pass_token, "nonce": str(uuid.uuid4())}).status_code


class Statements:
    """The SQL the engine runs while counting."""

    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, conn, cursor, statement, *args):
        self.seen.append(statement)

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self)

    def reading_tokens(self) -> int:
        return sum(1 for s in self.seen if "FROM api_token" in s)


@pytest.fixture
def door(world):
    _token, secret = create_token(world.staff_a, "Dør", scope=TokenScope.CHECKIN)
    db.session.commit()
    return secret


def test_a_kept_principal_spares_the_token_statement_and_a_new_tag_reads_it_again(client, world, door):
    assert _check_in(client, door, world) == 201  # read and kept
    with Statements() as sql:
        assert _check_in(client, door, world) == 200  # already in
    assert sql.reading_tokens() == 0 and any("principal_version" in s for s in sql.seen)
    world.staff_a.name = "Personale A2"
    db.session.commit()
    with Statements() as sql:
        assert _check_in(client, door, world) == 200
    assert sql.reading_tokens() == 1


def test_a_check_in_and_a_tokens_last_use_change_no_principal(client, world, door):
    db.session.execute(update(ApiToken).values(last_used_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    before = current_tag()
    db.session.rollback()
    assert _check_in(client, door, world) == 201  # writes the attendance and the token's last use
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) > utcnow() - timedelta(minutes=1)
    assert current_tag() == before


def _revoke(world, secret):
    revoke_token(db.session.scalar(select(ApiToken)), world.staff_a)


def _expire(world, secret):
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))


def _deactivate(world, secret):
    account_services.set_active(world.staff_a, False)


def _membership_deleted(world, secret):
    for m in list(world.staff_a.memberships):
        db.session.delete(m)


def _membership_moved(world, secret):
    db.session.execute(update(Membership).where(Membership.user_id == world.staff_a.id)
                       .values(institution_id=world.inst_b.id))


def _role_changed(world, secret):
    db.session.execute(update(Membership).where(Membership.user_id == world.staff_a.id).values(role=Role.COORDINATOR))


CHANGES = {
    "token revoked": (_revoke, 401),
    "token expired": (_expire, 401),
    "user deactivated": (_deactivate, 401),
    "role taken away": (_membership_deleted, 403),
    "role moved to another institution": (_membership_moved, 403),
    # a coordinator is no staff member, and their role needs a second factor this token was made without
    "role changed": (_role_changed, 401),
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_to_a_principal_is_seen_by_the_next_request(client, world, door, change):
    apply, status = CHANGES[change]
    assert _check_in(client, door, world) == 201
    apply(world, door)
    db.session.commit()
    assert _check_in(client, door, world) == status


def test_an_expiry_needs_no_write_to_take_effect(client, world, door, monkeypatch):
    assert _me(client, door)[0] == 200
    expires_at = db.session.scalar(select(ApiToken.expires_at))
    db.session.rollback()
    monkeypatch.setattr(core, "utcnow", lambda: expires_at + timedelta(seconds=1))
    assert _me(client, door)[0] == 401


def test_a_name_scope_profile_and_second_factor_change_is_seen(client, world):
    token, secret = create_token(world.coordinator, "Koordinator")
    db.session.commit()
    assert _me(client, secret)[1]["name"] == "Koordinator"
    world.coordinator.name = "Ny koordinator"
    db.session.commit()
    assert _me(client, secret)[1]["name"] == "Ny koordinator"
    # a profile linked to the user makes them a young person to the API
    profile = make_youth(first_name="Kim")
    db.session.commit()
    assert _me(client, secret)[1]["is_youth"] is False
    profile.user_id = world.coordinator.id
    db.session.commit()
    assert _me(client, secret)[1]["is_youth"] is True
    # a full token re-scoped to check-ins only no longer opens the statistics
    assert client.get("/api/v1/stats", headers=_bearer(secret)).status_code != 403
    db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(scope=TokenScope.CHECKIN))
    db.session.commit()
    assert client.get("/api/v1/stats", headers=_bearer(secret)).status_code == 403
    # the second factor reset: a token made under the old one opens nothing
    db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(scope=TokenScope.FULL))
    db.session.commit()
    assert _me(client, secret)[0] == 200
    db.session.execute(TotpFactor.__table__.delete().where(TotpFactor.user_id == world.coordinator.id))
    db.session.commit()
    assert _me(client, secret)[0] == 401
    make_second_factor(world.coordinator)  # set up again: still newer than the token
    db.session.commit()
    assert _me(client, secret)[0] == 401


def test_negative_control_without_the_triggers_a_stale_principal_is_served(app, client, world, door):
    """Drop the membership triggers and the change goes unseen: it is the triggers that make the cache right."""
    migration = _migration()
    postgresql = db.engine.dialect.name == "postgresql"
    names = [(t, n) for t, n in migration.trigger_names(postgresql) if t == "membership"]
    assert _check_in(client, door, world) == 201
    try:
        for table, name in names:
            db.session.execute(text(f"DROP TRIGGER {name}" + (f' ON "{table}"' if postgresql else "")))
        db.session.commit()
        _membership_deleted(world, door)
        db.session.commit()
        assert _check_in(client, door, world) == 200  # stale: still staff at institution A
        principals().clear()
        assert _check_in(client, door, world) == 403  # read afresh
    finally:
        db.session.rollback()
        statements = migration.pg_triggers() if postgresql else migration.sqlite_triggers()
        for (table, name), sql in zip(migration.trigger_names(postgresql), statements, strict=True):
            if table == "membership":
                db.session.execute(text(f"DROP TRIGGER IF EXISTS {name}" + (f' ON "{table}"' if postgresql else "")))
                db.session.execute(text(sql))
        db.session.commit()


def test_every_principal_trigger_is_there(app):
    """A batch migration on SQLite that rebuilds a table drops its triggers: every one must still be there."""
    migration = _migration()
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        found = set(db.session.execute(text(
            "SELECT c.relname, tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE tgname LIKE 'principal\\_%'")).all())
    else:
        found = set(db.session.execute(text(
            "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'principal\\_%' ESCAPE '\\'")).all())
    assert found == set(migration.trigger_names(postgresql)) and len(found) >= 5


def test_without_the_tag_row_nothing_is_kept(client, world, door):
    db.session.execute(PrincipalVersion.__table__.delete())
    db.session.commit()
    assert _check_in(client, door, world) == 201
    with Statements() as sql:
        assert _check_in(client, door, world) == 200
    assert sql.reading_tokens() == 1


def test_the_least_recently_used_go_first():
    kept = Principals(2)
    for name in ("a", "b"):
        kept.put(name, 7, name)  # type: ignore[arg-type]
    assert kept.get("a", 7) == "a"
    kept.put("c", 7, "c")  # type: ignore[arg-type]
    assert kept.get("b", 7) is None and kept.get("a", 7) == "a" and kept.get("c", 7) == "c"
    assert kept.get("a", 8) is None and kept.get("a", 7) is None  # another tag drops it


# -- the property: after every step, what the worker keeps answers what a fresh read answers ----------

def _resolve(app, secret, fresh: bool):
    """``_bearer_user`` for ``secret`` in a request of its own: through this worker's principals, or read afresh."""
    with app.test_request_context("/api/v1/me", headers=_bearer(secret)):
        if fresh:
            app.extensions["youthclub_principals"], kept = Principals(0), app.extensions.get("youthclub_principals")
        try:
            token = core._bearer_user()
            if not token:
                answer = token
            else:
                user = token.user
                answer = (token.id, str(token.scope), user.id, user.name, user.session_version, user.youth_id,
                          tuple(sorted((str(m.role), m.institution_id or 0) for m in user.memberships)))
        finally:
            if fresh:
                app.extensions["youthclub_principals"] = kept
            db.session.rollback()
    return answer


def _grant(user_id, institution_id, now):
    """Staff at ``institution_id`` (unless they already are)."""
    if db.session.scalar(select(Membership.id).where(Membership.user_id == user_id, Membership.role == Role.STAFF,
                                                     Membership.institution_id == institution_id)) is not None:
        return None
    return Membership.__table__.insert().values(user_id=user_id, role=Role.STAFF, institution_id=institution_id,
                                                created_at=now)


def _move(user_id, world):
    """One of their institution roles to the other institution (unless they hold it there already)."""
    m = db.session.scalar(select(Membership).where(Membership.user_id == user_id, Membership.institution_id.is_not(None))
                          .order_by(Membership.id).limit(1))
    if m is None:
        return None
    other = world.inst_b.id if m.institution_id == world.inst_a.id else world.inst_a.id
    if db.session.scalar(select(Membership.id).where(Membership.user_id == user_id, Membership.role == m.role,
                                                     Membership.institution_id == other)) is not None:
        return None
    return update(Membership).where(Membership.id == m.id).values(institution_id=other)


def _statement(step: str, now, token_id: int, user_id: int, profile_id: int, world):
    """The write of one step (None: nothing to write)."""
    where = ApiToken.id == token_id
    steps = {
        "revoke": lambda: update(ApiToken).where(where).values(revoked_at=now),
        "unrevoke": lambda: update(ApiToken).where(where).values(revoked_at=None),
        "expire": lambda: update(ApiToken).where(where).values(expires_at=now - timedelta(seconds=1)),
        "unexpire": lambda: update(ApiToken).where(where).values(expires_at=now + timedelta(days=1)),
        "deactivate": lambda: update(User).where(User.id == user_id).values(active=False),
        "activate": lambda: update(User).where(User.id == user_id).values(active=True),
        "grant": lambda: _grant(user_id, world.inst_b.id, now),
        "take": lambda: Membership.__table__.delete().where(Membership.id.in_(
            select(Membership.id).where(Membership.user_id == user_id).limit(1))),
        "move": lambda: _move(user_id, world),
        "rename": lambda: update(User).where(User.id == user_id).values(name=f"N{uuid.uuid4().hex[:4]}"),
        "scope": lambda: update(ApiToken).where(where).values(scope=TokenScope.CHECKIN),
        "factor": lambda: update(TotpFactor).where(TotpFactor.user_id == user_id).values(confirmed_at=now),
        "unfactor": lambda: TotpFactor.__table__.delete().where(TotpFactor.user_id == user_id),
        "link": lambda: update(YouthProfile).where(YouthProfile.id == profile_id).values(user_id=user_id),
        "unlink": lambda: update(YouthProfile).where(YouthProfile.id == profile_id).values(user_id=None),
        "version": lambda: update(User).where(User.id == user_id).values(session_version=User.session_version + 1),
        "touch": lambda: update(ApiToken).where(where).values(last_used_at=now),
    }
    return steps[step]()


STEPS = st.lists(st.sampled_from([
    "revoke", "unrevoke", "expire", "unexpire", "deactivate", "activate", "grant", "take", "move", "rename",
    "scope", "factor", "unfactor", "link", "unlink", "version", "touch", "check_in",
]), min_size=1, max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=STEPS, who=st.sampled_from(["staff_a", "coordinator"]))
def test_property_the_kept_principal_is_the_fresh_one_after_every_step(app, world, steps, who):
    user: User = getattr(world, who)
    # the world lives on across examples: the user active again, with a second factor to make a token under
    user.active = True
    if db.session.scalar(select(TotpFactor.id).where(TotpFactor.user_id == user.id)) is None and who == "coordinator":
        make_second_factor(user)
    token, secret = create_token(user, f"p-{uuid.uuid4().hex[:6]}")
    db.session.commit()
    token_id, user_id = token.id, user.id
    # the world lives on across examples: the profile an earlier one linked is let go
    db.session.execute(update(YouthProfile).where(YouthProfile.user_id == user_id).values(user_id=None))
    profile = make_youth(first_name="Sam")
    db.session.commit()
    profile_id = profile.id
    for step in steps:
        assert _resolve(app, secret, fresh=False) == _resolve(app, secret, fresh=True)  # warm
        do = None if step == "check_in" else _statement(step, utcnow(), token_id, user_id, profile_id, world)
        if step == "check_in":
            with app.test_client() as c:
                _check_in(c, secret, world)
        elif do is not None:
            db.session.execute(do)
            db.session.commit()
        assert _resolve(app, secret, fresh=False) == _resolve(app, secret, fresh=True), step
