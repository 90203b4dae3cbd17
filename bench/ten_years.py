"""Ten years of a whole city: the statistics, the catalogue and a check-in on a city-scale database.

Usage (PostgreSQL; about 10 GB and 15 minutes; the databases named here are the caller's own)::

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/yc_city_load
    .venv/bin/youthclub db upgrade
    time .venv/bin/youthclub generate-load --institutions 200 --youths 50000 --attendances 20000000 \\
        --from 2017-01-01 --to 2026-12-31
    .venv/bin/python -m bench.ten_years --year 2025 --from 2017-01-01 --to 2026-12-31 \\
        --generate-load-seconds 900 --empty-url postgresql://postgres@127.0.0.1:5432/yc_city_empty

Measures, in one run against baselines taken in the same run:

- the whole dashboard (7 tables and their margins, released) and the XLSX export, for one
  year and for the whole period, against the plain-SQL people statements of the same
  tables over the visit counts, one each, added up (``bench/stats.py``'s baseline);
- the catalogue's first page and a filtered page on the city database against the same
  offers and coming sessions without the ten years behind them (copied into the empty
  database given by ``--empty-url``, which is emptied and migrated first);
- a check-in through the API (median of many, each a new visit) on the city database
  against the same on that database without the history;
- the database's size, ``visit-counts rebuild`` and ``visit-counts check`` at that scale.

Writes the section "ten-years" of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.catalogue import timed
from bench.stats import DASHBOARD, _dashboard_page, best_of, summary_people_sql

#: the tables the catalogue reads, in an order their foreign keys allow, and which rows of each
CATALOGUE_TABLES = (
    ("programme", ""), ("district", ""), ("institution", ""), ("focus_area", ""), ("action_plan", ""), ("initiative", ""),
    ("activity", ""), ("activity_focus_area", ""), ("activity_initiative", ""),
    ("session", "WHERE ends_at >= now() - interval '1 day'"),
    ("youth_profile", ""), ("signup", "WHERE cancelled_at IS NULL"),
)
CATALOGUE_PAGES = {"first page": "/activities", "every filter": "/activities?age=14&weekday=2&district=1&q=tilbud&category=sport"}
CHECKINS = 60


def _app(url: str):
    """The app on the database at ``url`` (the config class reads DATABASE_URL once, at import: set it here)."""
    import config
    from youthclub import create_app

    class OnDatabase(config.DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = config.database_url(url)

    return create_app(OnDatabase)


def _psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def copy_catalogue(city_url: str, empty_url: str) -> None:
    """Empty and migrate the database at ``empty_url``, then copy the city's offers and coming sessions into it."""
    from flask_migrate import upgrade

    engine = create_engine(_psycopg_url(empty_url))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    app = _app(empty_url)
    with app.app_context():
        upgrade(directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
        from youthclub.extensions import db

        db.engine.dispose()
    source, target = create_engine(_psycopg_url(city_url)), create_engine(_psycopg_url(empty_url))
    with source.connect() as src, target.begin() as dst:
        out, into = src.connection.driver_connection, dst.connection.driver_connection
        for table, where in CATALOGUE_TABLES:
            with out.cursor() as c_out, into.cursor() as c_in:
                with c_out.copy(f"COPY (SELECT * FROM {table} {where}) TO STDOUT") as reader, \
                        c_in.copy(f"COPY {table} FROM STDIN") as writer:
                    for block in reader:
                        writer.write(block)
                c_in.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 1)) FROM {table}"
                             if table not in ("activity_focus_area", "activity_initiative") else "SELECT 1")
        dst.exec_driver_sql("ANALYZE")
    source.dispose()
    target.dispose()


def time_catalogue(url: str, runs: int) -> dict:
    app = _app(url)
    client = app.test_client()
    out = {}
    for name, path in CATALOGUE_PAGES.items():
        out[name] = statistics.median(timed(client, path, runs))
    with app.app_context():
        from youthclub.extensions import db

        db.engine.dispose()
    return out


def time_checkin(url: str, n: int) -> float:
    """Median time of ``n`` check-ins through the API, each a new visit, at a session that has started."""
    from bench.common import api_token
    from youthclub.extensions import db
    from youthclub.models import (
        Activity,
        ActivityStatus,
        Category,
        District,
        Institution,
        InstitutionKind,
        Membership,
        Programme,
        Role,
        Session,
        User,
        YouthProfile,
    )

    app = _app(url)
    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        # an offer of its own (a district code of its own: the city's districts are there already)
        district = District(programme=Programme(name=f"Bench {tag}", starts_on=date(2011, 3, 1), ends_on=date(2099, 1, 1)),
                            code=f"b{tag}", name=f"Bench {tag}")
        institution = Institution(name=f"Bench {tag}", kind=InstitutionKind.UNGDOMSKLUB, district=district)
        activity = Activity(institution=institution, district=district, title=f"Bench {tag}", description="",
                            category=Category.SPORT, min_age=10, max_age=24, capacity=None, requires_signup=False,
                            allows_drop_in=True, status=ActivityStatus.PUBLISHED)
        activity.refresh_search_text()
        db.session.add_all([district, institution, activity])
        db.session.flush()
        staff = User(email=f"bench-{tag}@example.org", name="Bench", password_hash=None)
        staff.memberships.append(Membership(role=Role.STAFF, institution=institution))
        db.session.add(staff)
        now = datetime.now(UTC)
        session = Session(activity_id=activity.id, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=3))
        youths = [YouthProfile(first_name=f"Bench{i}", birth_year=now.year - 15, birth_month=1) for i in range(n + 1)]
        db.session.add_all([session, *youths])
        db.session.flush()
        bearer = api_token(db, staff)
        passes, session_id = [y.pass_token for y in youths], session.id
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {bearer}"}
    samples = []
    for i, token in enumerate(passes):
        t = time.perf_counter()
        response = client.post(f"/api/v1/sessions/{session_id}/checkins", json={"token": token, "nonce": str(uuid.uuid4())},
                               headers=headers)
        if i:  # the first is the warm-up
            samples.append(time.perf_counter() - t)
        assert response.status_code in (200, 201), (response.status_code, response.get_data(as_text=True)[:300])
    with app.app_context():
        db.engine.dispose()
    return statistics.median(samples)


def time_statistics(app, start: date, end: date, runs: int, full: bool = True) -> dict:
    """Whole dashboard, dashboard page and XLSX export of a period, and their plain-SQL baselines (``full=False``: the dashboard only).

    Each answer three ways: computed with the figures' cache switched off (best of ``runs``);
    cold, the first answer with it on, which computes and keeps the figures (one run, after
    the period's entries are deleted); warm, served from the cache (best of ``runs``). A
    period reaching into the current year is never kept: its cold and warm runs compute.
    """
    from youthclub.extensions import db
    from youthclub.reports import disclosure, figures_cache, services, stats

    with app.test_request_context():
        f = stats.StatsFilter(start, end)
        f = replace(f, now=max(f.hi, f.now))  # the period as it stands once over
        whole = f.whole_months()
        params = {"lo": f.lo, "hi": f.hi, "m0": whole[0], "m1": whole[1]}
        counts = db.session.execute(text("SELECT count(*), coalesce(sum(visits), 0) FROM visit_month "
                                         "WHERE month BETWEEN :m0 AND :m1"), params).one()

        def plain(tables):
            total = 0.0
            with stats._fast_aggregates():
                for dims in tables:
                    sql = text(summary_people_sql(dims))
                    total += best_of(lambda sql=sql: db.session.execute(sql, params).all(), runs)
            return total

        def dashboard():
            disclosure.Statistics(f, 5).prepare(DASHBOARD)
            db.session.commit()  # as the view does: the figures kept go with it

        def export():
            services.build_xlsx(disclosure.Statistics(f, 5), services.Labels())
            db.session.commit()

        out = {"visit_counts": counts[0], "visits": counts[1], "cacheable": figures_cache.is_closed(f, datetime.now(UTC))}

        def three_ways(fn, name):
            """Computed with every cache off; cold, the first answer after what is kept of the period was
            deleted (it computes and keeps); warm, every answer after it. A period reaching into the
            current year is never kept whole: only its closed years' grain is (``grain_cache``)."""
            app.config["FIGURES_CACHE"] = False
            out[name] = best_of(fn, runs)
            app.config["FIGURES_CACHE"] = True
            db.session.execute(text("DELETE FROM figures_cache WHERE end_year = :y"), {"y": f.end.year})
            db.session.execute(text("DELETE FROM figures_grain"))
            db.session.execute(text("DELETE FROM figures_grain_year"))
            db.session.commit()
            t = time.perf_counter()
            fn()
            out[f"{name}_cold"] = time.perf_counter() - t
            out[f"{name}_warm"] = best_of(fn, runs)

        three_ways(dashboard, "dashboard")
        out["dashboard_plain"] = plain(DASHBOARD)
        if full:
            out["page"] = best_of(_dashboard_page(app, f), runs)  # served from the cache when the period is closed
            three_ways(export, "xlsx")
            out["xlsx_plain"] = plain(((),) + services.BREAKDOWNS)
            out["xlsx_sheets"] = 1 + len(services.BREAKDOWNS)
        out["kept_bytes"] = db.session.scalar(text("SELECT coalesce(sum(octet_length(payload)), 0) FROM figures_cache "
                                                   "WHERE end_year = :y"), {"y": f.end.year})
    return out


def time_visit_counts(app) -> dict:
    from youthclub.extensions import db
    from youthclub.reports.visit_counts import find_differences, rebuild_visit_counts

    with app.app_context():
        t = time.perf_counter()
        rows = rebuild_visit_counts()
        db.session.commit()
        rebuild = time.perf_counter() - t
        t = time.perf_counter()
        differences, _ = find_differences()
        check = time.perf_counter() - t
        size = db.session.scalar(text("SELECT pg_database_size(current_database())"))
        totals = db.session.execute(text(
            "SELECT (SELECT count(*) FROM attendance), (SELECT count(*) FROM youth_profile), (SELECT count(*) FROM institution), "
            "(SELECT count(*) FROM activity), (SELECT count(*) FROM session)")).one()
        db.session.remove()
    return {"rebuild": rebuild, "rows": rows, "check": check, "differences": differences, "size": size, "totals": totals}


def _goal(value: float, limit: float) -> str:
    return "met" if value < limit else f"missed by {value - limit:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, required=True, help="the one year (a closed one)")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, required=True)
    parser.add_argument("--to", dest="end", type=date.fromisoformat, required=True)
    parser.add_argument("--empty-url", required=True, help="a PostgreSQL database to empty and fill with the catalogue only")
    parser.add_argument("--generate-load-seconds", type=float, help="the time generate-load took, for the report")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--period-runs", type=int, default=1, help="runs for the whole period (each takes long)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    city_url = os.environ["DATABASE_URL"]
    if not city_url.startswith("postgresql"):
        raise SystemExit("set DATABASE_URL to the city-scale PostgreSQL database")

    app = _app(city_url)
    gc.freeze()
    counts = time_visit_counts(app)
    print("visit counts", counts, flush=True)
    year = time_statistics(app, date(args.year, 1, 1), date(args.year, 12, 31), args.runs)
    print("one year", year, flush=True)
    # the whole period: the dashboard only (its goal; the page and the export cost about as much again)
    period = time_statistics(app, args.start, args.end, args.period_runs, full=False)
    print("whole period", period, flush=True)
    with app.app_context():
        from youthclub.extensions import db

        db.engine.dispose()
    copy_catalogue(city_url, args.empty_url)
    catalogue_city, catalogue_empty = time_catalogue(city_url, 30), time_catalogue(args.empty_url, 30)
    print("catalogue", catalogue_city, catalogue_empty, flush=True)
    checkin_city, checkin_empty = time_checkin(city_url, CHECKINS), time_checkin(args.empty_url, CHECKINS)
    print("check-in", checkin_city, checkin_empty, flush=True)

    attendance, youths, institutions, activities, sessions = counts["totals"]
    years = args.end.year - args.start.year + 1
    lines = [
        "## Ten years, the whole city",
        "",
        f"`bench/ten_years.py` on PostgreSQL: {institutions:,} institutions, {activities:,} offers, {sessions:,} sessions, "
        f"{youths:,} young people and {attendance:,} attendances over {years} years ({args.start:%d.%m.%Y}–{args.end:%d.%m.%Y}), "
        f"made by `youthclub generate-load --institutions 200 --youths 50000 --attendances 20000000 --from {args.start} --to {args.end}`. "
        f"Database size **{counts['size'] / 2**30:.1f} GiB**. Statistics: best of {args.runs} (the whole period: "
        f"{args.period_runs}) after a warm-up, load average {os.getloadavg()[0]:.1f} on the shared 2 cores at the end; the baseline is "
        "`bench/stats.py`'s plain SQL, the people aggregate of each table hand-written over the visit counts, one statement "
        "per table, added up (the app computes every figure and the margins, and releases them). The catalogue and the "
        "check-in are compared with the same offers and coming sessions copied into an empty database, without the ten "
        "years behind them (median of 30 pages through the WSGI test client; median of "
        f"{CHECKINS} check-ins through the API, each a new visit).",
        "",
        "| what | city database | baseline | ratio | goal |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    if args.generate_load_seconds:
        lines.append(f"| `generate-load` (COPY, indexes built after, visit counts by one INSERT … SELECT) "
                     f"| {args.generate_load_seconds:.0f} s | | | |")
    lines += [
        f"| `visit-counts rebuild` ({counts['rows']:,} counts) | {counts['rebuild']:.1f} s | | | |",
        f"| `visit-counts check` | {counts['check']:.1f} s, {counts['differences']} differences | | | exact: "
        f"{'met' if counts['differences'] == 0 else 'missed'} |",
    ]
    def ways(label, m, name, limit, plain):
        kept = "kept" if m["cacheable"] else "its closed years' sums kept; the people figures and the current year computed"
        cold = "computed and kept" if m["cacheable"] else "computed, its closed years' sums kept"
        return [
            f"| {label}, computed (every cache off) | {m[name]:.3f} s | {plain:.3f} s | {m[name] / plain:.2f} | |",
            f"| {label}, cold ({cold}) | {m[name + '_cold']:.3f} s | {plain:.3f} s "
            f"| {m[name + '_cold'] / plain:.2f} | |",
            f"| {label}, warm ({kept}) | **{m[name + '_warm']:.3f} s** | {plain:.3f} s | {m[name + '_warm'] / plain:.3f} "
            f"| < {limit:g} s: {_goal(m[name + '_warm'], limit)} |",
        ]

    for label, m, limit in ((f"{args.year}", year, 1.0), (f"{years} years", period, 2.0)):
        lines += ways(f"whole dashboard, {label} ({m['visits']:,} visits, {m['visit_counts']:,} visit counts)", m,
                      "dashboard", limit, m["dashboard_plain"])
        if "page" in m:
            lines.append(f"| dashboard page `GET /reports`, {label} (warm) | {m['page']:.3f} s | | | |")
    lines += ways(f"XLSX export, {args.year} ({year['xlsx_sheets']} sheets)", year, "xlsx", 1.5, year["xlsx_plain"])
    lines.append(f"| figures kept for {args.year} (dashboard and export) | {year['kept_bytes'] / 2**20:.1f} MiB | | | |")
    for name in CATALOGUE_PAGES:
        ratio = catalogue_city[name] / catalogue_empty[name]
        lines.append(f"| catalogue, {name} | {catalogue_city[name] * 1000:.1f} ms | {catalogue_empty[name] * 1000:.1f} ms "
                     f"| {ratio:.2f} | unchanged: {'met' if ratio < 1.15 else 'missed'} |")
    ratio = checkin_city / checkin_empty
    lines.append(f"| check-in (`POST /api/v1/sessions/…/checkins`) | {checkin_city * 1000:.1f} ms | {checkin_empty * 1000:.1f} ms "
                 f"| {ratio:.2f} | no slower: {'met' if ratio < 1.15 else 'missed'} |")
    text_out = "\n".join(lines)
    print(text_out)
    if not args.no_write:
        from bench.report import write_section

        write_section("ten-years", text_out)


if __name__ == "__main__":
    os.environ.setdefault("YOUTHCLUB_ENV", "development")
    main()
