"""Shared pieces of the fuzz tests: hostile values, the routes to try, and the half-written-data check."""
from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.access import ROLES
from youthclub.extensions import db

#: examples per route; small enough that a whole fuzz run stays well under two minutes per database
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same inputs on every run and every machine
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

NASTY = [
    "", " ", "0", "-1", "-2147483649", "2147483648", "9223372036854775808", "99999999999999999999999999",
    "1e308", "-1e308", "NaN", "Infinity", "0x10", "1.5", "true", "null", "[]", "{}",
    "' OR '1'='1", "'; DROP TABLE \"user\"; --", "1; SELECT pg_sleep(0)", "\" OR \"\"=\"",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "{{7*7}}", "${7*7}", "%s%s%n",
    "../../../../etc/passwd", "\x00", "a\x00b", "\r\nSet-Cookie: x=y", "\u202egnp.exe", "\ufeff", "\ud7ff",
    "😀" * 40, "ø" * 300, "x" * 5000, "2026-02-30", "31.12.2026", "25:61", "-0", "١٢٣",
    "staff.a@example.org", "admin", "coordinator", "staff", "institution_admin", "da", "en", "/", "//evil.example",
    # the classes the outside test found 500s with: just past a 32-bit column, far past it, years at the edges
    "2147483647", "99999999999", "-5", "0001-01-01", "9999-12-31", "0000-00-00", "10000-01-01",
]

#: strings no database can store (lone UTF-16 surrogates); they reach the app only inside JSON
LONE_SURROGATES = ["\ud800", "a\udfffb", "\udbff\udbff", "\udc00" * 20]

#: the values every field of every form gets in turn (a deterministic sweep besides the random search)
SWEEP = [
    "a\x00b", "\x1b[2J\x07", "-1", "9223372036854775808", "1e308", "x" * 5000,
    "' OR '1'='1", "<script>alert(1)</script>", "\u202e\ufeff😀", "2026-02-30", "",
    "2147483648", "99999999999", "0001-01-01", "9999-12-31", "-5",
]

hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=60),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=31), max_size=10),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)

json_leaf = st.one_of(
    hostile_text,
    st.sampled_from(LONE_SURROGATES),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
hostile_json = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)),
    max_leaves=12,
)

#: raw JSON bodies: broken, and nested deeper than any parser's stack (the outside test sent 3,000 levels)
RAW_JSON = [b"", b"{", b"\xff\xfe", b"[1,2", b"null", b'{"a":' * 50,
            b"[" * 3000 + b"]" * 3000, b'{"a":' * 3000 + b"1" + b"}" * 3000,
            b'{"token": "\\ud800", "nonce": "\\udfff0123456789", "youth_id": 99999999999, "session_id": 2147483648}',
            b'{"items": [' + b"[" * 2000 + b"]" * 2000 + b"]}"]

roles = st.sampled_from(ROLES)

#: field names tried on every form, besides those found on the page itself
COMMON_FIELDS = ("name", "email", "password", "title", "description", "capacity", "next", "lang", "role",
                 "institution_id", "date", "q", "page", "count", "token", "status", "reason")

_FIELD_RE = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', re.I)


def field_names(html: str) -> list[str]:
    return sorted({name for name in _FIELD_RE.findall(html) if name != "csrf_token"})


def table_counts() -> dict[str, int]:
    """Rows per table, in one query on a connection of its own (it sees only committed data)."""
    tables = [t.name for t in db.metadata.sorted_tables]
    sql = " UNION ALL ".join(f"SELECT '{name}' AS tbl, COUNT(*) AS cnt FROM \"{name}\"" for name in tables)
    with db.engine.connect() as conn:
        return {row.tbl: row.cnt for row in conn.execute(text(sql))}


def as_role(client, world, role: str) -> str:
    """Log the client in as ``role`` (reloading the user: fuzzing may have logged them out or deactivated them).

    Returns a valid CSRF token for the new session, made the way Flask-WTF makes them (saves a request).
    """
    import secrets

    from flask import current_app
    from itsdangerous import URLSafeTimedSerializer

    from youthclub.accounts.models import User

    raw = secrets.token_hex(20)
    with client.session_transaction() as sess:
        lang = sess.get("lang")
        sess.clear()
        if lang:
            sess["lang"] = lang
        sess["csrf_token"] = raw
    user = world.user(role)
    if user is not None:
        db.session.expire_all()
        fresh = db.session.get(User, user.id)
        if fresh is not None:
            client.login_as(fresh)
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="wtf-csrf-token")
    return serializer.dumps(raw)
