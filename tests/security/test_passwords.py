"""Password policy and storage: 8–128 characters, common passwords refused, argon2id."""
from __future__ import annotations

import pytest

from youthclub.accounts import services
from youthclub.accounts.common_passwords import _words, is_common
from youthclub.accounts.passwords import hash_password, needs_rehash, verify_password


@pytest.fixture(autouse=True)
def _request(request):
    """Messages are translated, which needs a request (Danish by default)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.test_request_context():
        yield


def test_the_bundled_list_is_substantial_and_clean():
    words = _words()
    assert len(words) > 5000
    assert all(len(w) >= 8 and w == w.casefold() for w in words)
    assert not any(w.startswith("#") for w in words)


@pytest.mark.parametrize("common", ["password123", "PASSWORD123", " qwertyuiop ", "Kodeord123", "fodbold2026",
                                    "iloveyou123", "sommer2025", "12345678"])
def test_common_passwords_are_refused(app, common):
    assert is_common(common)
    with pytest.raises(services.AccountError) as err:
        services.check_password_policy(common)
    assert err.value.code in ("password_common", "password_too_short")


def test_lengths(app):
    with pytest.raises(services.AccountError, match="mindst 8"):
        services.check_password_policy("kort1!x")
    services.check_password_policy("otte tg!")  # exactly 8
    services.check_password_policy("en lang sætning om cykler på Nørrebro " * 3)  # 64+ is fine
    services.check_password_policy("x7" * 64)  # 128
    with pytest.raises(services.AccountError) as err:
        services.check_password_policy("x7" * 64 + "y")
    assert err.value.code == "password_too_long"


def test_unicode_passwords_work(app):
    stored = hash_password("blåbærgrød på tirsdag 🍓")
    assert verify_password(stored, "blåbærgrød på tirsdag 🍓")
    assert not verify_password(stored, "blabaergrod pa tirsdag")


def test_hashes_are_argon2id_and_salted(app):
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, "correct horse battery")


def test_production_hash_parameters_and_upgrade_on_log_in(app, world):
    """A weak (test-speed) hash is upgraded when production parameters are in force."""
    from youthclub.extensions import db

    app.config["PASSWORD_HASH_FAST"] = False
    strong = hash_password("correct horse battery")
    params = dict(part.split("=") for part in strong.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2  # OWASP's argon2id minimums
    weak = world.staff_a.password_hash
    assert needs_rehash(weak)
    services.authenticate("staff.a@example.org", "correct horse battery")
    db.session.commit()
    assert world.staff_a.password_hash != weak and not needs_rehash(world.staff_a.password_hash)


def test_missing_password_never_verifies(app):
    assert not verify_password(None, "anything at all")
    assert not verify_password("not a hash", "anything at all")


def test_user_creation_enforces_the_policy(app, world):
    with pytest.raises(services.AccountError):
        services.create_user("new@example.org", "Ny", "password123")
