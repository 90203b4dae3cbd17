"""statistics: session.local_month and visit_month, the visit counts kept by triggers

Revision ID: c3d1a7e5f9b2
Revises: b025f77210b3
Create Date: 2026-11-28 09:50:00

``visit_month`` holds the registered visits at held (not cancelled) sessions per young
person, activity and local month. Triggers keep it exact in the same transaction as the
change that moves a count:

- attendance inserted, deleted (also by a young person's or an activity's deletion
  cascading) or moved to another young person or session;
- a session cancelled or reinstated, moved to another month or activity;
- a session deleted: its attendances are deleted first, so their own trigger subtracts them
  while the session is still there to say where they counted.

PostgreSQL counts per statement (transition tables), so a bulk insert of a million visits
is one grouped upsert; SQLite, which has only row triggers, per row. Rows never hold 0:
the last visit's removal deletes its row (``CHECK visits > 0``).
"""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = 'c3d1a7e5f9b2'
down_revision = 'b025f77210b3'
branch_labels = None
depends_on = None

KEY = "youth_id, month, activity_id"

# PostgreSQL: statement triggers; each moves the counts of a whole statement's rows at once
_SAME = "(vm.youth_id, vm.month, vm.activity_id) = (d.youth_id, d.month, d.activity_id)"
_MOVED = "(o.youth_id, o.session_id) <> (n.youth_id, n.session_id)"


def _counts(rows: str, join: str = "", where: str = "") -> str:
    """Held visits per key among ``rows`` (a transition table aliased o or n)."""
    alias = rows.split()[-1]
    return (f"SELECT {alias}.youth_id, s.local_month AS month, s.activity_id, count(*) AS n FROM {rows} {join} "
            f"JOIN session s ON s.id = {alias}.session_id WHERE s.cancelled_at IS NULL {where} GROUP BY 1, 2, 3")


def _subtract(counts: str) -> str:
    return (f"DELETE FROM visit_month vm USING ({counts}) d WHERE {_SAME} AND vm.visits <= d.n;\n"
            f"UPDATE visit_month vm SET visits = vm.visits - d.n FROM ({counts}) d WHERE {_SAME};")


def _add(counts: str) -> str:
    return (f"INSERT INTO visit_month AS vm ({KEY}, visits) SELECT youth_id, month, activity_id, n FROM ({counts}) d\n"
            f"ON CONFLICT ({KEY}) DO UPDATE SET visits = vm.visits + EXCLUDED.visits;")


POSTGRESQL = [
    f"""
    CREATE FUNCTION visit_month_attendance() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        {_add(_counts("new_rows n"))}
      ELSIF TG_OP = 'DELETE' THEN
        {_subtract(_counts("old_rows o"))}
      ELSE
        {_subtract(_counts("old_rows o", "JOIN new_rows n ON n.id = o.id", f"AND {_MOVED}"))}
        {_add(_counts("new_rows n", "JOIN old_rows o ON o.id = n.id", f"AND {_MOVED}"))}
      END IF;
      RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER visit_month_attendance_insert AFTER INSERT ON attendance
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION visit_month_attendance()""",
    """CREATE TRIGGER visit_month_attendance_delete AFTER DELETE ON attendance
       REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION visit_month_attendance()""",
    """CREATE TRIGGER visit_month_attendance_update AFTER UPDATE ON attendance
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION visit_month_attendance()""",
    f"""
    CREATE FUNCTION visit_month_session() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        DELETE FROM attendance WHERE session_id = OLD.id;
        RETURN OLD;
      END IF;
      IF OLD.cancelled_at IS NULL THEN
        DELETE FROM visit_month vm USING attendance a
          WHERE a.session_id = OLD.id AND (vm.youth_id, vm.month, vm.activity_id) = (a.youth_id, OLD.local_month, OLD.activity_id)
            AND vm.visits <= 1;
        UPDATE visit_month vm SET visits = vm.visits - 1 FROM attendance a
          WHERE a.session_id = OLD.id AND (vm.youth_id, vm.month, vm.activity_id) = (a.youth_id, OLD.local_month, OLD.activity_id);
      END IF;
      IF NEW.cancelled_at IS NULL THEN
        INSERT INTO visit_month AS vm ({KEY}, visits)
          SELECT a.youth_id, NEW.local_month, NEW.activity_id, 1 FROM attendance a WHERE a.session_id = NEW.id
          ON CONFLICT ({KEY}) DO UPDATE SET visits = vm.visits + 1;
      END IF;
      RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER visit_month_session_delete BEFORE DELETE ON session
       FOR EACH ROW EXECUTE FUNCTION visit_month_session()""",
    """CREATE TRIGGER visit_month_session_update AFTER UPDATE OF cancelled_at, local_month, activity_id ON session
       FOR EACH ROW WHEN ((OLD.cancelled_at IS NULL) <> (NEW.cancelled_at IS NULL)
                          OR OLD.local_month <> NEW.local_month OR OLD.activity_id <> NEW.activity_id)
       EXECUTE FUNCTION visit_month_session()""",
]

# SQLite: row triggers. A removed visit deletes its row when it was the last (CHECK visits > 0)
_SQLITE_REMOVE = """
  DELETE FROM visit_month WHERE youth_id = {y} AND visits <= 1
    AND (month, activity_id) = (SELECT local_month, activity_id FROM session WHERE id = {s} AND cancelled_at IS NULL);
  UPDATE visit_month SET visits = visits - 1 WHERE youth_id = {y}
    AND (month, activity_id) = (SELECT local_month, activity_id FROM session WHERE id = {s} AND cancelled_at IS NULL);
"""
_SQLITE_ADD = f"""
  INSERT INTO visit_month ({KEY}, visits)
    SELECT {{y}}, local_month, activity_id, 1 FROM session WHERE id = {{s}} AND cancelled_at IS NULL
    ON CONFLICT ({KEY}) DO UPDATE SET visits = visits + 1;
"""
SQLITE = [
    f"""CREATE TRIGGER visit_month_attendance_insert AFTER INSERT ON attendance BEGIN
        {_SQLITE_ADD.format(y="NEW.youth_id", s="NEW.session_id")}
    END""",
    f"""CREATE TRIGGER visit_month_attendance_delete AFTER DELETE ON attendance BEGIN
        {_SQLITE_REMOVE.format(y="OLD.youth_id", s="OLD.session_id")}
    END""",
    f"""CREATE TRIGGER visit_month_attendance_update AFTER UPDATE OF youth_id, session_id ON attendance
    WHEN OLD.youth_id <> NEW.youth_id OR OLD.session_id <> NEW.session_id BEGIN
        {_SQLITE_REMOVE.format(y="OLD.youth_id", s="OLD.session_id")}
        {_SQLITE_ADD.format(y="NEW.youth_id", s="NEW.session_id")}
    END""",
    """CREATE TRIGGER visit_month_session_delete BEFORE DELETE ON session BEGIN
        DELETE FROM attendance WHERE session_id = OLD.id;
    END""",
    f"""CREATE TRIGGER visit_month_session_update AFTER UPDATE OF cancelled_at, local_month, activity_id ON session
    WHEN (OLD.cancelled_at IS NULL) <> (NEW.cancelled_at IS NULL)
         OR OLD.local_month <> NEW.local_month OR OLD.activity_id <> NEW.activity_id BEGIN
        DELETE FROM visit_month WHERE OLD.cancelled_at IS NULL AND month = OLD.local_month AND activity_id = OLD.activity_id
          AND visits <= 1 AND youth_id IN (SELECT youth_id FROM attendance WHERE session_id = OLD.id);
        UPDATE visit_month SET visits = visits - 1 WHERE OLD.cancelled_at IS NULL
          AND month = OLD.local_month AND activity_id = OLD.activity_id
          AND youth_id IN (SELECT youth_id FROM attendance WHERE session_id = OLD.id);
        INSERT INTO visit_month ({KEY}, visits)
          SELECT youth_id, NEW.local_month, NEW.activity_id, 1 FROM attendance WHERE session_id = NEW.id AND NEW.cancelled_at IS NULL
          ON CONFLICT ({KEY}) DO UPDATE SET visits = visits + 1;
    END""",
]

TRIGGERS = (("attendance", "visit_month_attendance_insert"), ("attendance", "visit_month_attendance_delete"),
            ("attendance", "visit_month_attendance_update"), ("session", "visit_month_session_delete"),
            ("session", "visit_month_session_update"))


def upgrade():
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"

    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('local_month', sa.Integer(), nullable=True))
    if postgresql:
        op.execute("""UPDATE session SET local_month = (
            extract(year FROM starts_at AT TIME ZONE 'Europe/Copenhagen') * 12
            + extract(month FROM starts_at AT TIME ZONE 'Europe/Copenhagen') - 1)::int""")
    else:
        copenhagen = ZoneInfo("Europe/Copenhagen")
        session_table = sa.table('session', sa.column('id', sa.Integer), sa.column('starts_at', sa.DateTime(timezone=True)),
                                 sa.column('local_month', sa.Integer))
        for row_id, starts_at in bind.execute(sa.select(session_table.c.id, session_table.c.starts_at)).all():
            if isinstance(starts_at, str):
                starts_at = datetime.fromisoformat(starts_at)
            if starts_at.tzinfo is None:
                starts_at = starts_at.replace(tzinfo=UTC)
            local = starts_at.astimezone(copenhagen)
            bind.execute(session_table.update().where(session_table.c.id == row_id)
                         .values(local_month=local.year * 12 + local.month - 1))
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.alter_column('local_month', existing_type=sa.Integer(), nullable=False)

    op.create_table('visit_month',
        sa.Column('youth_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('visits', sa.Integer(), nullable=False),
        sa.CheckConstraint('visits > 0', name=op.f('ck_visit_month_visits_positive')),
        sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_visit_month_activity_id_activity'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['youth_id'], ['youth_profile.id'], name=op.f('fk_visit_month_youth_id_youth_profile'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('youth_id', 'month', 'activity_id', name=op.f('pk_visit_month'))
    )
    with op.batch_alter_table('visit_month', schema=None) as batch_op:
        batch_op.create_index('ix_visit_month_month_activity', ['month', 'activity_id'], unique=False)

    op.execute(f"""INSERT INTO visit_month ({KEY}, visits)
        SELECT a.youth_id, s.local_month, s.activity_id, count(*) FROM attendance a JOIN session s ON s.id = a.session_id
        WHERE s.cancelled_at IS NULL GROUP BY a.youth_id, s.local_month, s.activity_id""")
    for statement in POSTGRESQL if postgresql else SQLITE:
        op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS visit_month_attendance()")
        op.execute("DROP FUNCTION IF EXISTS visit_month_session()")
    with op.batch_alter_table('visit_month', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_month_month_activity')
    op.drop_table('visit_month')
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.drop_column('local_month')
