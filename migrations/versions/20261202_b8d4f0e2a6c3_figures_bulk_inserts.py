"""statistics: on PostgreSQL the figures' generation is bumped once per insert statement into session, head_count and signup

Revision ID: b8d4f0e2a6c3
Revises: a7c3e9d1f5b2
Create Date: 2026-12-02 04:10:00

Migration ``f1c2a9e7b3d0`` bumped the generation of a closed year once per row inserted into
``session``, ``head_count`` and ``signup``. PostgreSQL updates a row by writing a new version
of it, and the versions one transaction makes of the same ``figures_year`` row cannot be
pruned before it commits: each bump walks all the earlier ones. A bulk load of ten years
(``generate-load``: 800,000 sessions, 240,000 head counts) made that quadratic, and it did
not finish in 15 minutes. These statement triggers bump once per statement, for the earliest
year its rows hold (which is what the row triggers together did: a bump of year Y is seen by
every answer ending in Y or later). Deletes and updates keep their row triggers; SQLite keeps
its row triggers (it updates a row in place).
"""
from alembic import op

revision = 'b8d4f0e2a6c3'
down_revision = 'a7c3e9d1f5b2'
branch_labels = None
depends_on = None

PG_FUNCTIONS = [
    """CREATE FUNCTION figures_sessions_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM figures_bump((SELECT min(local_month) / 12 FROM new_rows));
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION figures_head_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM figures_bump((SELECT min(s.local_month) / 12 FROM new_rows n JOIN session s ON s.id = n.session_id));
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION figures_signups_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM figures_bump((SELECT figures_year_of(min(least(created_at, confirmed_at, cancelled_at))) FROM new_rows));
      RETURN NULL;
    END $$""",
]
PG_FUNCTION_NAMES = ("figures_sessions_inserted()", "figures_head_counts_inserted()", "figures_signups_inserted()")

#: (table, trigger) of the row triggers these replace
REPLACED = [("session", "figures_session_insert"), ("head_count", "figures_head_count_insert_delete"),
            ("signup", "figures_signup_insert")]

PG_TRIGGERS = [
    """CREATE TRIGGER figures_session_insert AFTER INSERT ON session
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION figures_sessions_inserted()""",
    """CREATE TRIGGER figures_head_count_insert AFTER INSERT ON head_count
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION figures_head_counts_inserted()""",
    """CREATE TRIGGER figures_head_count_delete AFTER DELETE ON head_count FOR EACH ROW
       EXECUTE FUNCTION figures_head_count()""",
    """CREATE TRIGGER figures_signup_insert AFTER INSERT ON signup
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION figures_signups_inserted()""",
]

#: the row triggers as ``f1c2a9e7b3d0`` made them, for the way down
_PAST = "< figures_current_year()"
OLD_PG_TRIGGERS = [
    f"""CREATE TRIGGER figures_session_insert AFTER INSERT ON session FOR EACH ROW
        WHEN (NEW.local_month / 12 {_PAST}) EXECUTE FUNCTION figures_session()""",
    """CREATE TRIGGER figures_head_count_insert_delete AFTER INSERT OR DELETE ON head_count FOR EACH ROW
       EXECUTE FUNCTION figures_head_count()""",
    f"""CREATE TRIGGER figures_signup_insert AFTER INSERT ON signup FOR EACH ROW
        WHEN (figures_year_of(least(NEW.created_at, NEW.confirmed_at, NEW.cancelled_at)) {_PAST})
        EXECUTE FUNCTION figures_signup()""",
]


def trigger_names(statements) -> list[tuple[str, str]]:
    """(table, trigger) of each CREATE TRIGGER statement."""
    out = []
    for sql in statements:
        words = sql.split()
        out.append((words[words.index("ON") + 1], words[2]))
    return out


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, trigger in REPLACED:
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for statement in PG_FUNCTIONS + PG_TRIGGERS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, trigger in trigger_names(PG_TRIGGERS):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in PG_FUNCTION_NAMES:
        op.execute(f"DROP FUNCTION {function}")
    for statement in OLD_PG_TRIGGERS:
        op.execute(statement)
