"""Password hashing with argon2id."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

_default = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # tests only

#: per hasher, a hash verified against when no user (or no password) matches, with the same
#: algorithm and cost as a real one: a wrong e-mail costs as long as a wrong password
_DUMMIES: dict[int, str] = {}


def _hasher() -> PasswordHasher:
    return _fast if current_app.config.get("PASSWORD_HASH_FAST") else _default


def dummy_hash(hasher: PasswordHasher | None = None) -> str:
    hasher = hasher or _hasher()
    if id(hasher) not in _DUMMIES:
        _DUMMIES[id(hasher)] = hasher.hash("not-a-real-password")
    return _DUMMIES[id(hasher)]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (no such user) the same work is done against a dummy."""
    hasher = _hasher()
    try:
        return hasher.verify(password_hash or dummy_hash(hasher), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
