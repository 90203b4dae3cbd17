"""What bearer tokens resolved to, kept per worker while nothing that decides it has changed.

A token's principal (the token's scope, expiry and revocation, its user's name, status, roles,
profile and second factor) is read by one statement with four joins. A door scanner sends the
same token many times a second, so each worker keeps what that statement answered, keyed by the
token's hash, together with the ``principal_version`` tag it read first. Every write that can
change any principal replaces that tag in its own transaction (database triggers, migration
``a7c3e9d1f5b2``), so a request that reads a different tag reads the token again: a revocation,
a deactivation or a role taken away takes effect from the next request on, in every worker.

The checks themselves (revoked, expired, inactive, the second factor) run on every request on
what was kept, so an expiry needs no write to take effect. Only tokens that exist are kept, at
most ``API_PRINCIPAL_CACHE`` of them (the least recently used go first; 0 turns keeping off).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from ..accounts.models import Role, TokenScope
from ..extensions import db

TAG_SQL = "SELECT tag FROM principal_version WHERE id = 1"


@dataclass(slots=True)
class TokenRow:
    """What the token statement answered for one token hash (its rows folded into one)."""

    token_id: int
    scope: TokenScope
    expires_at: datetime | None
    revoked_at: datetime | None
    #: the last use this worker knows of (written at most once a minute: see ``core._touch_token``)
    last_used_at: datetime | None
    user_id: int
    name: str
    active: bool
    session_version: int
    youth_id: int | None
    created_at: datetime | None
    factor_confirmed_at: datetime | None
    memberships: tuple[tuple[Role, int | None], ...]


class Principals:
    """Token hash -> (tag, TokenRow), least recently used first, shared by a worker's threads."""

    def __init__(self, size: int):
        self.size = size
        self._rows: OrderedDict[str, tuple[int, TokenRow]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token_hash: str, tag: int | None) -> TokenRow | None:
        if tag is None or not self.size:
            return None
        with self._lock:
            kept = self._rows.get(token_hash)
            if kept is None:
                return None
            if kept[0] != tag:
                del self._rows[token_hash]
                return None
            self._rows.move_to_end(token_hash)
            return kept[1]

    def put(self, token_hash: str, tag: int | None, row: TokenRow) -> None:
        if tag is None or not self.size:
            return
        with self._lock:
            self._rows[token_hash] = (tag, row)
            self._rows.move_to_end(token_hash)
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


def principals() -> Principals:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    kept = app.extensions.get("youthclub_principals")
    if kept is None:
        kept = app.extensions.setdefault("youthclub_principals", Principals(app.config.get("API_PRINCIPAL_CACHE", 4096)))
    return kept


def current_tag() -> int | None:
    """The tag every principal kept must have been read under (None: the row is gone, keep nothing).

    Read first in the request's transaction, before the token statement, so what is kept under
    a tag is never older than the tag.
    """
    return db.session.connection().exec_driver_sql(TAG_SQL).scalar()
