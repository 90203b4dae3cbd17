"""api tokens: a version of what every bearer token may do (principal_version), replaced by triggers on every change to it

Revision ID: a7c3e9d1f5b2
Revises: f1c2a9e7b3d0
Create Date: 2026-12-02 04:00:00

Each worker keeps the principals its bearer tokens resolved to (``youthclub/api/principals.py``)
and uses one only while ``principal_version.tag`` is what it was when the principal was read.
These triggers give the tag a new random value in the same transaction as every write that can
change what some token may do, so a change is seen by the next request of every worker:

- a token revoked, expiring, re-scoped, moved to another user or deleted (not its last use);
- a user renamed, deactivated, logged out everywhere (``session_version``) or deleted;
- a role given, changed or taken away (``membership``);
- a young person's profile linked to or from a user, made or deleted;
- a second factor set up, confirmed, reset or deleted (not the step of the last code used).

A random tag, not a counter: a tag cached before the row was deleted (the tests empty every
table) can never match the one a bump makes afterwards.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c3e9d1f5b2'
down_revision = 'f1c2a9e7b3d0'
branch_labels = None
depends_on = None

#: table -> the columns whose change can change a principal (None: any insert, update or delete)
WATCHED = {
    "api_token": ("token_hash", "user_id", "created_at", "expires_at", "revoked_at", "scope"),
    "user": ("name", "active", "session_version"),
    "membership": None,
    "youth_profile": ("user_id",),
    "totp_factor": ("user_id", "confirmed_at"),
}
#: inserts that cannot change a principal: a new token or user is not in any worker's cache yet
NO_INSERT = ("api_token", "user")

PG_FUNCTION = """CREATE FUNCTION principal_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO principal_version AS pv (id, tag) VALUES (1, floor(random() * 9007199254740991)::bigint)
    ON CONFLICT (id) DO UPDATE SET tag = EXCLUDED.tag;
  RETURN NULL;
END $$"""

SQLITE_BUMP = "INSERT OR REPLACE INTO principal_version (id, tag) VALUES (1, random());"


def _events(table: str) -> list[tuple[str, str]]:
    """(name suffix, event) of the triggers ``table`` needs."""
    columns = WATCHED[table]
    events = [("update", "UPDATE" + (f" OF {', '.join(columns)}" if columns else "")), ("delete", "DELETE")]
    if table not in NO_INSERT:
        events.insert(0, ("insert", "INSERT"))
    return events


def pg_triggers() -> list[str]:
    # statement triggers: a bulk load or purge replaces the tag once; TRUNCATE too
    out = []
    for table in WATCHED:
        events = " OR ".join(event for _suffix, event in _events(table)) + " OR TRUNCATE"
        out.append(f'CREATE TRIGGER principal_{table} AFTER {events} ON "{table}" '
                   "FOR EACH STATEMENT EXECUTE FUNCTION principal_changed()")
    return out


#: SQLite's row triggers: a young person's profile without a user is no one's principal (bulk loads make many)
SQLITE_WHEN = {("youth_profile", "insert"): "NEW.user_id IS NOT NULL", ("youth_profile", "delete"): "OLD.user_id IS NOT NULL"}


def sqlite_triggers() -> list[str]:
    out = []
    for table in WATCHED:
        for suffix, event in _events(table):
            when = SQLITE_WHEN.get((table, suffix))
            out.append(f'CREATE TRIGGER principal_{table}_{suffix} AFTER {event} ON "{table}" FOR EACH ROW'
                       + (f" WHEN {when}" if when else "") + f" BEGIN {SQLITE_BUMP} END")
    return out


def trigger_names(postgresql: bool) -> list[tuple[str, str]]:
    """(table, trigger) of each trigger this migration makes."""
    return [(sql.split('ON "', 1)[1].split('"', 1)[0], sql.split()[2])
            for sql in (pg_triggers() if postgresql else sqlite_triggers())]


def upgrade():
    op.create_table('principal_version',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('tag', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_principal_version'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("INSERT INTO principal_version (id, tag) VALUES (1, floor(random() * 9007199254740991)::bigint)")
        op.execute(PG_FUNCTION)
        for statement in pg_triggers():
            op.execute(statement)
    else:
        op.execute("INSERT INTO principal_version (id, tag) VALUES (1, random())")
        for statement in sqlite_triggers():
            op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, trigger in trigger_names(postgresql):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (f' ON "{table}"' if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS principal_changed()")
    op.drop_table('principal_version')
