"""statistics: the figures of closed years kept (figures_cache) and a generation per year bumped by triggers (figures_year)

Revision ID: f1c2a9e7b3d0
Revises: b5d8e2f7c3a1
Create Date: 2026-12-01 19:00:00

A cached answer for a period ending in year E holds the sum of the generations of every year
up to E, read before it was computed (``youthclub/reports/figures_cache.py``). These triggers
bump the generation of the earliest local year a write can change, and only when that year is
before the current one (so a check-in, sign-up or head count today writes nothing here):

- the visit counts (``visit_month``) written: the month. Their own triggers write them for
  every visit added, removed or moved at a held session (a move subtracts and adds, even
  within one offer and month), and they are written directly by a rebuild or a repair; so
  attendance needs no trigger of its own (a visit at a cancelled session counts nowhere);
- a session made, deleted, cancelled or reinstated, moved (start, month, offer), its capacity
  changed: the earlier of its old and new month;
- a head count made, changed or deleted: its session's month;
- a sign-up made, deleted, or changed in what the figures read (young person, offer, status,
  created, confirmed, cancelled): the earliest of its timestamps, old or new;
- a young person's gender, birth year or month, home district or record key changed, or the
  young person deleted (before: their rows still say where they counted): the first year
  they have visits or sign-ups in;
- an offer's district, institution, category or "requires sign-up" changed, the offer deleted,
  or a focus area tag added or removed: the first year the offer has sessions or sign-ups in;
- an initiative tag added or removed, an initiative moved to another plan or deleted, a plan's
  year changed: the plan's year (an initiative counts only in it).

The current year is the database clock's: Europe/Copenhagen on PostgreSQL, UTC on SQLite
(which knows no time zones; its years start an hour or two late, inside the grace after New
Year in which no closed year is served from the cache).
"""
import sqlalchemy as sa
from alembic import op

revision = 'f1c2a9e7b3d0'
down_revision = 'b5d8e2f7c3a1'
branch_labels = None
depends_on = None

# -- PostgreSQL -------------------------------------------------------------------------------
# figures_bump(y): y (NULL: nothing) bumped when it lies before the current local year

PG_FUNCTIONS = [
    """CREATE FUNCTION figures_current_year() RETURNS integer LANGUAGE sql STABLE AS
       $$ SELECT extract(year FROM now() AT TIME ZONE 'Europe/Copenhagen')::integer $$""",
    """CREATE FUNCTION figures_year_of(ts timestamptz) RETURNS integer LANGUAGE sql STABLE AS
       $$ SELECT extract(year FROM ts AT TIME ZONE 'Europe/Copenhagen')::integer $$""",
    """CREATE FUNCTION figures_bump(y integer) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF y < figures_current_year() THEN
        INSERT INTO figures_year AS fy (year, generation) VALUES (y, 1)
          ON CONFLICT (year) DO UPDATE SET generation = fy.generation + 1;
      END IF;
    END $$""",
    """CREATE FUNCTION figures_first_year_of_activity(aid integer) RETURNS integer LANGUAGE sql STABLE AS $$
      SELECT least((SELECT min(local_month) / 12 FROM session WHERE activity_id = aid),
                   (SELECT figures_year_of(min(least(created_at, confirmed_at, cancelled_at))) FROM signup
                    WHERE activity_id = aid)) $$""",
    """CREATE FUNCTION figures_first_year_of_youth(yid integer) RETURNS integer LANGUAGE sql STABLE AS $$
      SELECT least((SELECT min(month) / 12 FROM visit_month WHERE youth_id = yid),
                   (SELECT figures_year_of(min(least(created_at, confirmed_at, cancelled_at))) FROM signup
                    WHERE youth_id = yid)) $$""",
    """CREATE FUNCTION figures_plan_year(iid integer) RETURNS integer LANGUAGE sql STABLE AS $$
      SELECT p.year FROM initiative i JOIN action_plan p ON p.id = i.action_plan_id WHERE i.id = iid $$""",
    # statement triggers (bulk loads, rebuilds): one bump for the whole statement
    """CREATE FUNCTION figures_visit_month() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE y integer;
    BEGIN
      IF TG_OP = 'INSERT' THEN
        SELECT min(month) / 12 INTO y FROM new_rows;
      ELSIF TG_OP = 'DELETE' THEN
        SELECT min(month) / 12 INTO y FROM old_rows;
      ELSE
        SELECT least((SELECT min(month) FROM old_rows), (SELECT min(month) FROM new_rows)) / 12 INTO y;
      END IF;
      PERFORM figures_bump(y);
      RETURN NULL;
    END $$""",
    # row triggers: the WHEN of each trigger keeps the function from running for the current year
    """CREATE FUNCTION figures_session() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN PERFORM figures_bump(NEW.local_month / 12);
      ELSIF TG_OP = 'DELETE' THEN PERFORM figures_bump(OLD.local_month / 12);
      ELSE PERFORM figures_bump(least(OLD.local_month, NEW.local_month) / 12);
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION figures_head_count() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE y integer;
    BEGIN
      IF TG_OP <> 'INSERT' THEN y := (SELECT local_month / 12 FROM session WHERE id = OLD.session_id); END IF;
      IF TG_OP <> 'DELETE' THEN y := least(y, (SELECT local_month / 12 FROM session WHERE id = NEW.session_id)); END IF;
      PERFORM figures_bump(y);
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION figures_signup() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE y integer;
    BEGIN
      IF TG_OP <> 'INSERT' THEN y := figures_year_of(least(OLD.created_at, OLD.confirmed_at, OLD.cancelled_at)); END IF;
      IF TG_OP <> 'DELETE' THEN
        y := least(y, figures_year_of(least(NEW.created_at, NEW.confirmed_at, NEW.cancelled_at)));
      END IF;
      PERFORM figures_bump(y);
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION figures_youth() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM figures_bump(figures_first_year_of_youth(NEW.id));
      RETURN NULL;
    END $$""",
    # before a deletion: its visits, sign-ups and sessions are still there to say where it counted
    """CREATE FUNCTION figures_youth_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM figures_bump(figures_first_year_of_youth(OLD.id));
      RETURN OLD;
    END $$""",
    """CREATE FUNCTION figures_activity_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM figures_bump(figures_first_year_of_activity(OLD.id));
      RETURN OLD;
    END $$""",
    """CREATE FUNCTION figures_activity() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP <> 'INSERT' THEN PERFORM figures_bump(figures_first_year_of_activity(OLD.activity_id)); END IF;
      IF TG_OP <> 'DELETE' THEN PERFORM figures_bump(figures_first_year_of_activity(NEW.activity_id)); END IF;
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION figures_activity_edit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM figures_bump(figures_first_year_of_activity(NEW.id));
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION figures_initiative_tag() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP <> 'INSERT' THEN PERFORM figures_bump(figures_plan_year(OLD.initiative_id)); END IF;
      IF TG_OP <> 'DELETE' THEN PERFORM figures_bump(figures_plan_year(NEW.initiative_id)); END IF;
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION figures_initiative() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM figures_bump((SELECT year FROM action_plan WHERE id = OLD.action_plan_id));
      IF TG_OP = 'UPDATE' THEN PERFORM figures_bump((SELECT year FROM action_plan WHERE id = NEW.action_plan_id)); END IF;
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION figures_action_plan() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM figures_bump(least(OLD.year, NEW.year));
      RETURN NULL;
    END $$""",
]

_PAST = "< figures_current_year()"


def _changed(*columns: str) -> str:
    return f"({', '.join('OLD.' + c for c in columns)}) IS DISTINCT FROM ({', '.join('NEW.' + c for c in columns)})"


SESSION_COLUMNS = ("activity_id", "starts_at", "local_month", "cancelled_at", "capacity")
HEAD_COUNT_COLUMNS = ("session_id", "age_band", "gender", "count", "record_key")
SIGNUP_COLUMNS = ("youth_id", "activity_id", "status", "created_at", "confirmed_at", "cancelled_at")
YOUTH_COLUMNS = ("gender", "birth_year", "birth_month", "home_district_id", "record_key")
ACTIVITY_COLUMNS = ("district_id", "institution_id", "category", "requires_signup")


def _statement_triggers(table: str, function: str) -> list[str]:
    return [
        f"""CREATE TRIGGER figures_{table}_insert AFTER INSERT ON {table}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        f"""CREATE TRIGGER figures_{table}_delete AFTER DELETE ON {table}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
    ]


PG_TRIGGERS = [
    *_statement_triggers("visit_month", "figures_visit_month"),
    """CREATE TRIGGER figures_visit_month_update AFTER UPDATE ON visit_month
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION figures_visit_month()""",
    f"""CREATE TRIGGER figures_session_insert AFTER INSERT ON session FOR EACH ROW
        WHEN (NEW.local_month / 12 {_PAST}) EXECUTE FUNCTION figures_session()""",
    f"""CREATE TRIGGER figures_session_delete AFTER DELETE ON session FOR EACH ROW
        WHEN (OLD.local_month / 12 {_PAST}) EXECUTE FUNCTION figures_session()""",
    f"""CREATE TRIGGER figures_session_update AFTER UPDATE OF {', '.join(SESSION_COLUMNS)} ON session FOR EACH ROW
        WHEN ({_changed(*SESSION_COLUMNS)} AND least(OLD.local_month, NEW.local_month) / 12 {_PAST})
        EXECUTE FUNCTION figures_session()""",
    """CREATE TRIGGER figures_head_count_insert_delete AFTER INSERT OR DELETE ON head_count FOR EACH ROW
       EXECUTE FUNCTION figures_head_count()""",
    f"""CREATE TRIGGER figures_head_count_update AFTER UPDATE OF {', '.join(HEAD_COUNT_COLUMNS)} ON head_count
        FOR EACH ROW WHEN ({_changed(*HEAD_COUNT_COLUMNS)}) EXECUTE FUNCTION figures_head_count()""",
    f"""CREATE TRIGGER figures_signup_insert AFTER INSERT ON signup FOR EACH ROW
        WHEN (figures_year_of(least(NEW.created_at, NEW.confirmed_at, NEW.cancelled_at)) {_PAST})
        EXECUTE FUNCTION figures_signup()""",
    """CREATE TRIGGER figures_signup_delete AFTER DELETE ON signup FOR EACH ROW EXECUTE FUNCTION figures_signup()""",
    f"""CREATE TRIGGER figures_signup_update AFTER UPDATE OF {', '.join(SIGNUP_COLUMNS)} ON signup FOR EACH ROW
        WHEN ({_changed(*SIGNUP_COLUMNS)}) EXECUTE FUNCTION figures_signup()""",
    f"""CREATE TRIGGER figures_youth_update AFTER UPDATE OF {', '.join(YOUTH_COLUMNS)} ON youth_profile FOR EACH ROW
        WHEN ({_changed(*YOUTH_COLUMNS)}) EXECUTE FUNCTION figures_youth()""",
    """CREATE TRIGGER figures_youth_delete BEFORE DELETE ON youth_profile FOR EACH ROW
       EXECUTE FUNCTION figures_youth_delete()""",
    """CREATE TRIGGER figures_activity_delete BEFORE DELETE ON activity FOR EACH ROW
       EXECUTE FUNCTION figures_activity_delete()""",
    f"""CREATE TRIGGER figures_activity_update AFTER UPDATE OF {', '.join(ACTIVITY_COLUMNS)} ON activity FOR EACH ROW
        WHEN ({_changed(*ACTIVITY_COLUMNS)}) EXECUTE FUNCTION figures_activity_edit()""",
    """CREATE TRIGGER figures_activity_focus_area AFTER INSERT OR UPDATE OR DELETE ON activity_focus_area FOR EACH ROW
       EXECUTE FUNCTION figures_activity()""",
    """CREATE TRIGGER figures_activity_initiative AFTER INSERT OR UPDATE OR DELETE ON activity_initiative FOR EACH ROW
       EXECUTE FUNCTION figures_initiative_tag()""",
    """CREATE TRIGGER figures_initiative_delete AFTER DELETE ON initiative FOR EACH ROW
       EXECUTE FUNCTION figures_initiative()""",
    f"""CREATE TRIGGER figures_initiative_update AFTER UPDATE OF action_plan_id ON initiative FOR EACH ROW
        WHEN ({_changed('action_plan_id')}) EXECUTE FUNCTION figures_initiative()""",
    f"""CREATE TRIGGER figures_action_plan_update AFTER UPDATE OF year ON action_plan FOR EACH ROW
        WHEN ({_changed('year')}) EXECUTE FUNCTION figures_action_plan()""",
]

PG_FUNCTION_NAMES = (
    "figures_visit_month()", "figures_session()", "figures_head_count()", "figures_signup()",
    "figures_youth()", "figures_youth_delete()", "figures_activity_delete()", "figures_activity()", "figures_activity_edit()", "figures_initiative_tag()",
    "figures_initiative()", "figures_action_plan()", "figures_plan_year(integer)",
    "figures_first_year_of_youth(integer)", "figures_first_year_of_activity(integer)", "figures_bump(integer)",
    "figures_year_of(timestamptz)", "figures_current_year()",
)

# -- SQLite -----------------------------------------------------------------------------------
# Row triggers only. A year is an integer expression; timestamps are text 'YYYY-MM-DD HH:MM:SS...' in
# UTC, whose first four characters are a year no later than the local one (a safe lower bound).

_SQLITE_CURRENT = "CAST(strftime('%Y', 'now') AS INTEGER)"
#: later than every year, for the smallest of expressions that may be NULL (SQLite's min() of NULL is NULL)
_NEVER = "99999"


def _sqlite_bump(year: str) -> str:
    return (f"INSERT INTO figures_year (year, generation) SELECT y, 1 FROM (SELECT {year} AS y) WHERE y < {_SQLITE_CURRENT}\n"
            "      ON CONFLICT (year) DO UPDATE SET generation = generation + 1;")


def _sqlite_least(*years: str) -> str:
    return f"min({', '.join(f'coalesce({y}, {_NEVER})' for y in years)})"


def _sqlite_year_of(ts: str) -> str:
    return f"CAST(substr({ts}, 1, 4) AS INTEGER)"


def _sqlite_signup_year(row: str) -> str:
    return _sqlite_least(*[_sqlite_year_of(f"{row}.{c}") for c in ("created_at", "confirmed_at", "cancelled_at")])


def _sqlite_session_year(session_id: str) -> str:
    return f"(SELECT local_month / 12 FROM session WHERE id = {session_id})"


def _sqlite_activity_year(aid: str) -> str:
    return _sqlite_least(
        f"(SELECT min(local_month) / 12 FROM session WHERE activity_id = {aid})",
        f"(SELECT min({_sqlite_signup_year('s')}) FROM signup s WHERE s.activity_id = {aid})",
    )


def _sqlite_youth_year(yid: str) -> str:
    return _sqlite_least(
        f"(SELECT min(month) / 12 FROM visit_month WHERE youth_id = {yid})",
        f"(SELECT min({_sqlite_signup_year('s')}) FROM signup s WHERE s.youth_id = {yid})",
    )


def _sqlite_plan_year(iid: str) -> str:
    return f"(SELECT p.year FROM initiative i JOIN action_plan p ON p.id = i.action_plan_id WHERE i.id = {iid})"


def _sqlite_changed(*columns: str) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


def _sqlite_trigger(name: str, event: str, table: str, body: str, when: str | None = None, before: bool = False) -> str:
    return (f"CREATE TRIGGER {name} {'BEFORE' if before else 'AFTER'} {event} ON {table}" + (f" WHEN {when}" if when else "")
            + f" BEGIN\n      {body}\n    END")


SQLITE_TRIGGERS = [
    _sqlite_trigger("figures_visit_month_insert", "INSERT", "visit_month", _sqlite_bump("NEW.month / 12"),
                    f"NEW.month / 12 < {_SQLITE_CURRENT}"),
    _sqlite_trigger("figures_visit_month_delete", "DELETE", "visit_month", _sqlite_bump("OLD.month / 12"),
                    f"OLD.month / 12 < {_SQLITE_CURRENT}"),
    _sqlite_trigger("figures_visit_month_update", "UPDATE", "visit_month", _sqlite_bump("min(OLD.month, NEW.month) / 12"),
                    f"min(OLD.month, NEW.month) / 12 < {_SQLITE_CURRENT}"),
    _sqlite_trigger("figures_session_insert", "INSERT", "session", _sqlite_bump("NEW.local_month / 12")),
    _sqlite_trigger("figures_session_delete", "DELETE", "session", _sqlite_bump("OLD.local_month / 12")),
    _sqlite_trigger("figures_session_update", f"UPDATE OF {', '.join(SESSION_COLUMNS)}", "session",
                    _sqlite_bump("min(OLD.local_month, NEW.local_month) / 12"), _sqlite_changed(*SESSION_COLUMNS)),
    _sqlite_trigger("figures_head_count_insert", "INSERT", "head_count", _sqlite_bump(_sqlite_session_year("NEW.session_id"))),
    _sqlite_trigger("figures_head_count_delete", "DELETE", "head_count", _sqlite_bump(_sqlite_session_year("OLD.session_id"))),
    _sqlite_trigger("figures_head_count_update", f"UPDATE OF {', '.join(HEAD_COUNT_COLUMNS)}", "head_count",
                    _sqlite_bump(_sqlite_least(_sqlite_session_year("OLD.session_id"), _sqlite_session_year("NEW.session_id"))),
                    _sqlite_changed(*HEAD_COUNT_COLUMNS)),
    _sqlite_trigger("figures_signup_insert", "INSERT", "signup", _sqlite_bump(_sqlite_signup_year("NEW"))),
    _sqlite_trigger("figures_signup_delete", "DELETE", "signup", _sqlite_bump(_sqlite_signup_year("OLD"))),
    _sqlite_trigger("figures_signup_update", f"UPDATE OF {', '.join(SIGNUP_COLUMNS)}", "signup",
                    _sqlite_bump(f"min({_sqlite_signup_year('OLD')}, {_sqlite_signup_year('NEW')})"),
                    _sqlite_changed(*SIGNUP_COLUMNS)),
    _sqlite_trigger("figures_youth_update", f"UPDATE OF {', '.join(YOUTH_COLUMNS)}", "youth_profile",
                    _sqlite_bump(_sqlite_youth_year("NEW.id")), _sqlite_changed(*YOUTH_COLUMNS)),
    _sqlite_trigger("figures_youth_delete", "DELETE", "youth_profile", _sqlite_bump(_sqlite_youth_year("OLD.id")),
                    before=True),
    _sqlite_trigger("figures_activity_delete", "DELETE", "activity", _sqlite_bump(_sqlite_activity_year("OLD.id")),
                    before=True),
    _sqlite_trigger("figures_activity_update", f"UPDATE OF {', '.join(ACTIVITY_COLUMNS)}", "activity",
                    _sqlite_bump(_sqlite_activity_year("NEW.id")), _sqlite_changed(*ACTIVITY_COLUMNS)),
    _sqlite_trigger("figures_activity_focus_area_insert", "INSERT", "activity_focus_area",
                    _sqlite_bump(_sqlite_activity_year("NEW.activity_id"))),
    _sqlite_trigger("figures_activity_focus_area_delete", "DELETE", "activity_focus_area",
                    _sqlite_bump(_sqlite_activity_year("OLD.activity_id"))),
    _sqlite_trigger("figures_activity_focus_area_update", "UPDATE", "activity_focus_area",
                    _sqlite_bump(_sqlite_least(_sqlite_activity_year("OLD.activity_id"), _sqlite_activity_year("NEW.activity_id")))),
    _sqlite_trigger("figures_activity_initiative_insert", "INSERT", "activity_initiative",
                    _sqlite_bump(_sqlite_plan_year("NEW.initiative_id"))),
    _sqlite_trigger("figures_activity_initiative_delete", "DELETE", "activity_initiative",
                    _sqlite_bump(_sqlite_plan_year("OLD.initiative_id"))),
    _sqlite_trigger("figures_activity_initiative_update", "UPDATE", "activity_initiative",
                    _sqlite_bump(_sqlite_least(_sqlite_plan_year("OLD.initiative_id"), _sqlite_plan_year("NEW.initiative_id")))),
    _sqlite_trigger("figures_initiative_delete", "DELETE", "initiative",
                    _sqlite_bump("(SELECT year FROM action_plan WHERE id = OLD.action_plan_id)")),
    _sqlite_trigger("figures_initiative_update", "UPDATE OF action_plan_id", "initiative",
                    _sqlite_bump(_sqlite_least("(SELECT year FROM action_plan WHERE id = OLD.action_plan_id)",
                                               "(SELECT year FROM action_plan WHERE id = NEW.action_plan_id)")),
                    _sqlite_changed("action_plan_id")),
    _sqlite_trigger("figures_action_plan_update", "UPDATE OF year", "action_plan", _sqlite_bump("min(OLD.year, NEW.year)"),
                    _sqlite_changed("year")),
]


def trigger_names(sql_list) -> list[tuple[str, str]]:
    """(table, trigger) of each CREATE TRIGGER statement."""
    out = []
    for sql in sql_list:
        words = sql.split()
        name = words[2]
        table = words[words.index("ON") + 1]
        out.append((table, name))
    return out


def upgrade():
    op.create_table('figures_year',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_figures_year'))
    )
    op.create_table('figures_cache',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('generations', sa.BigInteger(), nullable=False),
        sa.Column('end_year', sa.Integer(), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_figures_cache'))
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, trigger in trigger_names(PG_TRIGGERS if postgresql else SQLITE_TRIGGERS):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        for function in PG_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.drop_table('figures_cache')
    op.drop_table('figures_year')
