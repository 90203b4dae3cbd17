"""The catalogue with 2,000 published offers and 50,000 sessions answers with a few queries, whatever the page size."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import event, insert

from tests.factories import make_district, make_institution, make_programme
from youthclub.activities.models import Activity, Category, Session
from youthclub.extensions import db
from youthclub.i18n import local_today, to_local, to_utc

ACTIVITIES = 2000
SESSIONS_EACH = 25  # 50,000 sessions
CATEGORIES = list(Category)


@contextmanager
def count_queries():
    statements: list[str] = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before_cursor_execute)


def fill_catalogue():
    """2,000 published offers at 20 institutions in two districts, 25 weekly sessions each (bulk inserts)."""
    programme = make_programme()
    districts = [make_district(programme, code="8"), make_district(programme, code="12")]
    institutions = [make_institution(districts[i % 2], name=f"Klub {i}") for i in range(20)]
    now = datetime.now(UTC)
    activity_rows = []
    for n in range(ACTIVITIES):
        institution = institutions[n % len(institutions)]
        title = f"Tilbud {n} {'fodbold' if n % 3 == 0 else 'værksted'} på Nørrebro"
        min_age = 10 + n % 8
        activity_rows.append(dict(
            id=n + 1, institution_id=institution.id, district_id=institution.district_id, title=title,
            description="Kom og vær med", category=CATEGORIES[n % len(CATEGORIES)], min_age=min_age,
            max_age=min_age + 6, requires_signup=n % 5 != 0, capacity=None if n % 7 == 0 else 15,
            waitlist_enabled=True, allows_drop_in=n % 2 == 0, status="published",
            search_text=f"{title} kom og vær med".casefold(), created_at=now, updated_at=now, published_at=now,
        ))
    db.session.execute(insert(Activity), activity_rows)
    start = local_today() + timedelta(days=1)
    session_rows = []
    for n in range(ACTIVITIES):
        first = start + timedelta(days=n % 7)
        for week in range(SESSIONS_EACH):
            day = first + timedelta(weeks=week - 5)  # some past, most to come
            session_rows.append(dict(activity_id=n + 1, starts_at=to_utc(day, time(16)), ends_at=to_utc(day, time(18)),
                                     created_at=now))
    db.session.execute(insert(Session), session_rows)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # autovacuum would analyse a table grown this much; without statistics the planner
        # guesses one row and picks nested loops that take seconds
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE activity, session, signup")
            conn.commit()
    return districts


@pytest.fixture
def big_catalogue(app):
    return fill_catalogue()


def test_catalogue_queries_are_few_and_do_not_grow_with_the_page(app, client, big_catalogue):
    counts = {}
    for per_page in (5, 50):
        app.config["CATALOGUE_PER_PAGE"] = per_page
        for query in ("", f"?age=14&weekday=2&district={big_catalogue[0].id}&q=fodbold&free=y&drop_in=y&category=sport"):
            with count_queries() as statements:
                response = client.get("/activities" + query)
            assert response.status_code == 200
            html = response.get_data(as_text=True)
            # districts for the filter, the count, the page with its institutions, the sign-up counts
            counts[(per_page, query)] = len([s for s in statements if s.strip().upper() != "BEGIN"])
            if not query:
                assert len(re.findall(r'<li class="offer">', html)) == per_page
                assert "2000 tilbud" in html
    assert max(counts.values()) <= 4, counts
    assert counts[(5, "")] == counts[(50, "")]
    # the bulk insert left local_weekday out: the column default filled it in
    session = db.session.scalars(db.select(Session).order_by(Session.id).limit(1)).one()
    assert session.local_weekday == to_local(session.starts_at).weekday()
