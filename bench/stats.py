"""Statistics benchmark: each dashboard table and the XLSX export against the same aggregate as plain SQL.

Usage (PostgreSQL, a database of its own)::

    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/yc_speed_bench
    .venv/bin/youthclub db upgrade
    .venv/bin/youthclub generate-load --youths 20000 --attendances 1000000 --from 2026-01-01 --to 2026-12-31
    .venv/bin/python -m bench.stats --from 2026-01-01 --to 2026-12-31

Two hand-written baselines, both one plain PostgreSQL statement per table computing the
people aggregate (unique young people, visits, returning, local reach, new):

- "plain SQL on visit counts" reads the same ``visit_month`` table the app reads (the
  period must be whole months); app ÷ this is what the app's way of building the
  statement costs over hand-written SQL on the same data (goal ≤ 1.5);
- "plain SQL on visits" reads the visits themselves, with local months and ages from
  ``AT TIME ZONE``: what the figures cost without the visit counts.

The app's number for a table is ``query_people`` asked for that one table; "whole table"
is every figure of it (``compute_table``: also sessions, head counts, sign-up pairs and
the waitlist). The whole dashboard and the XLSX export are what the app really runs: all
their tables from one pass over the visit counts, suppressed (and the workbook written),
against the plain per-table statements added up. Every statement runs with the app's
session settings (``_fast_aggregates``: no JIT, 128 MB ``work_mem``, parallel workers), and
the process freezes its start-up objects out of the garbage collector as the gunicorn
workers do (``gunicorn.conf.py``). Each time is the best of several runs after a warm-up.
The plain results are checked against the app's before timing.
"""
from __future__ import annotations

import argparse
import gc
import os
import time
from dataclasses import replace
from datetime import date

from sqlalchemy import text

DASHBOARD = ((), ("month",), ("institution",), ("age_band",), ("gender",), ("age_band", "gender"), ("initiative",))

PLAIN_DIMS = {
    "district": "act.district_id",
    "institution": "act.institution_id",
    "initiative": "ai.initiative_id",
    "focus_area": "afa.focus_area_id",
    "category": "act.category",
    "month": "to_char(s.starts_at AT TIME ZONE 'Europe/Copenhagen', 'YYYY-MM')",
    "gender": "y.gender",
    "age_band": """CASE
        WHEN (extract(year FROM s.starts_at AT TIME ZONE 'Europe/Copenhagen') * 12
              + extract(month FROM s.starts_at AT TIME ZONE 'Europe/Copenhagen') - 1)
             - (y.birth_year * 12 + y.birth_month - 1) < 156 THEN 'u13'
        WHEN (extract(year FROM s.starts_at AT TIME ZONE 'Europe/Copenhagen') * 12
              + extract(month FROM s.starts_at AT TIME ZONE 'Europe/Copenhagen') - 1)
             - (y.birth_year * 12 + y.birth_month - 1) < 192 THEN '13-15'
        WHEN (extract(year FROM s.starts_at AT TIME ZONE 'Europe/Copenhagen') * 12
              + extract(month FROM s.starts_at AT TIME ZONE 'Europe/Copenhagen') - 1)
             - (y.birth_year * 12 + y.birth_month - 1) < 216 THEN '16-17'
        ELSE '18-24' END""",
}


def _grouping(dims, exprs, month) -> tuple[str, str, str]:
    """The select list, group list and tag joins of a plain statement grouped by ``dims``.

    ``month`` is the statement's month index (year × 12 + month − 1): an initiative counts
    only in its action plan's year.
    """
    cols = ", ".join(f"{exprs[d]} AS g_{d}" for d in dims)
    group = ", ".join(f"g_{d}" for d in dims)
    joins = ""
    if "initiative" in dims:
        joins += (" LEFT JOIN activity_initiative ai ON ai.activity_id = act.id AND ai.initiative_id IN ("
                  f"SELECT i.id FROM initiative i JOIN action_plan p ON p.id = i.action_plan_id WHERE p.year = {month} / 12)")
    if "focus_area" in dims:
        joins += " LEFT JOIN activity_focus_area afa ON afa.activity_id = act.id"
    return cols, group, joins


def plain_people_sql(dims) -> str:
    """The people aggregate of ``dims`` over the visits themselves (a month row's "new": first visit in that month)."""
    cols, group, joins = _grouping(dims, PLAIN_DIMS, "s.local_month")
    before = "s2.local_month < v.m" if "month" in dims else "s2.starts_at < :lo"
    return f"""
    WITH v AS (
      SELECT {cols + ',' if cols else ''} a.youth_id, count(*) AS n, min(s.local_month) AS m,
             max(CASE WHEN y.home_district_id = act.district_id THEN 1 ELSE 0 END) AS loc
      FROM attendance a
      JOIN session s ON s.id = a.session_id
      JOIN activity act ON act.id = s.activity_id
      JOIN youth_profile y ON y.id = a.youth_id {joins}
      WHERE s.cancelled_at IS NULL AND s.starts_at >= :lo AND s.starts_at < :hi
      GROUP BY {group + ',' if group else ''} a.youth_id)
    SELECT {group + ',' if group else ''} count(*), sum(n), sum(CASE WHEN n >= 3 THEN 1 ELSE 0 END), sum(loc),
           count(*) FILTER (WHERE NOT EXISTS (
             SELECT 1 FROM attendance a2 JOIN session s2 ON s2.id = a2.session_id
             WHERE a2.youth_id = v.youth_id AND s2.cancelled_at IS NULL AND {before}))
    FROM v {'GROUP BY ' + group if group else ''}"""


#: the dimensions over ``visit_month`` (vm.month is year × 12 + month − 1 in Copenhagen)
SUMMARY_DIMS = dict(PLAIN_DIMS, month="to_char(make_date(vm.month / 12, vm.month % 12 + 1, 1), 'YYYY-MM')", age_band="""CASE
        WHEN vm.month - (y.birth_year * 12 + y.birth_month - 1) < 156 THEN 'u13'
        WHEN vm.month - (y.birth_year * 12 + y.birth_month - 1) < 192 THEN '13-15'
        WHEN vm.month - (y.birth_year * 12 + y.birth_month - 1) < 216 THEN '16-17'
        ELSE '18-24' END""")


def summary_people_sql(dims) -> str:
    """The people aggregate of ``dims`` over the visit counts, for a period of whole months :m0..:m1."""
    cols, group, joins = _grouping(dims, SUMMARY_DIMS, "vm.month")
    before = "p.month < v.m" if "month" in dims else "p.month < :m0"
    return f"""
    WITH v AS (
      SELECT {cols + ',' if cols else ''} vm.youth_id, sum(vm.visits) AS n, min(vm.month) AS m,
             max(CASE WHEN y.home_district_id = act.district_id THEN 1 ELSE 0 END) AS loc
      FROM visit_month vm
      JOIN activity act ON act.id = vm.activity_id
      JOIN youth_profile y ON y.id = vm.youth_id {joins}
      WHERE vm.month BETWEEN :m0 AND :m1
      GROUP BY {group + ',' if group else ''} vm.youth_id)
    SELECT {group + ',' if group else ''} count(*), sum(n), sum(CASE WHEN n >= 3 THEN 1 ELSE 0 END), sum(loc),
           count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM visit_month p WHERE p.youth_id = v.youth_id AND {before}))
    FROM v {'GROUP BY ' + group if group else ''}"""


def best_of(fn, runs: int) -> float:
    fn()  # warm-up: caches and plans
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _rows(result, n_dims: int) -> dict:
    return {tuple(str(x) if x is not None else None for x in r[:n_dims]): tuple(int(x) for x in r[n_dims:]) for r in result}


def _dashboard_page(app, f):
    """A request for the dashboard page, as a coordinator (made once in the benchmark database), through the app."""
    import pyotp

    from youthclub.accounts.models import Role
    from youthclub.accounts.services import create_user, find_user_by_email
    from youthclub.extensions import db
    from youthclub.mfa import login as mfa_login
    from youthclub.mfa import services as mfa

    email = "bench-koordinator@bench.example"
    user = find_user_by_email(email) or create_user(email, "Benchmark", None, role=Role.COORDINATOR)
    if mfa.needs_second_factor(user) and mfa.confirmed_factor(user) is None:  # a coordinator needs an app
        factor = mfa.begin_enrollment(user)
        mfa.confirm_enrollment(user, pyotp.TOTP(factor.secret).now())
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:  # logged in, past the code step
        session["_user_id"], session["_fresh"] = user.get_id(), True
        session[mfa_login.VERIFIED] = user.id
    url = f"/reports?from={f.start.isoformat()}&to={f.end.isoformat()}"

    def request():
        with app.app_context():  # its own app context (g, database session), as every request in production
            response = client.get(url)
        assert response.status_code == 200 and b"<svg" in response.data, (response.status_code, response.location)

    return request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="start", type=date.fromisoformat)
    parser.add_argument("--to", dest="end", type=date.fromisoformat)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print, do not write docs/benchmarks.md")
    args = parser.parse_args()

    from youthclub import create_app
    from youthclub.extensions import db
    from youthclub.reports import disclosure, services, stats

    app = create_app()
    gc.freeze()  # as gunicorn.conf.py's post_worker_init does in every worker
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        raise SystemExit("the benchmark compares against PostgreSQL SQL: set DATABASE_URL to a PostgreSQL database")
    with app.test_request_context():
        today = date.today()
        f = stats.StatsFilter(args.start or date(today.year - 1, 1, 1), args.end or today)
        # the figures as they stand once the period is over (its sessions all held)
        f = replace(f, now=max(f.hi, f.now))
        whole = f.whole_months()
        if whole is None or f.partial_ranges():
            raise SystemExit("give a period of whole months (--from the 1st, --to the last day of a month)")
        params = {"lo": f.lo, "hi": f.hi, "m0": whole[0], "m1": whole[1]}
        attendances = db.session.execute(text(
            "SELECT count(*) FROM attendance a JOIN session s ON s.id = a.session_id "
            "WHERE s.cancelled_at IS NULL AND s.starts_at >= :lo AND s.starts_at < :hi"), params).scalar()
        total = db.session.execute(text("SELECT count(*) FROM attendance")).scalar()
        youths = db.session.execute(text("SELECT count(*) FROM youth_profile")).scalar()
        counts = db.session.execute(text("SELECT count(*) FROM visit_month WHERE month BETWEEN :m0 AND :m1"), params).scalar()

        lines = [
            "## Statistics (reports)",
            "",
            f"PostgreSQL, {total:,} attendances of {youths:,} young people in the database; the period "
            f"{f.start:%d.%m.%Y}–{f.end:%d.%m.%Y} holds {attendances:,} registered visits at held sessions, "
            f"{counts:,} visit counts (young person × activity × month, `visit_month`). Best of {args.runs} runs after a "
            "warm-up, every statement with the app's session settings (no JIT, 128 MB work_mem, parallel workers), the "
            "process's start-up objects frozen out of the garbage collector as in the gunicorn workers. \"App\" is the app's "
            "people statement (unique, visits, returning, local, new) asked for that one table; the two plain columns are the "
            "same aggregate hand-written for PostgreSQL, over the visit counts the app reads and over the visits themselves; "
            "\"whole table\" is every figure of the table (also sessions, head counts, sign-ups × sessions, waitlist). For the "
            "whole dashboard and the XLSX export the app column is everything they compute, all tables from one pass over the "
            "visit counts (every figure, with suppression; the workbook also written), the plain columns the people aggregates "
            "of the same tables, one statement each, added up.",
            "",
            "| table | app (s) | plain SQL on visit counts (s) | app ÷ plain | plain SQL on visits (s) | whole table (s) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        totals = [0.0, 0.0]
        for dims in DASHBOARD:
            summary, raw = text(summary_people_sql(dims)), text(plain_people_sql(dims))
            with stats._fast_aggregates():
                app_rows = {tuple(str(x) if x is not None else None for x in stats._normalise_key(dims, k)): tuple(v[name] for name in stats.PEOPLE_FIGURES)
                            for k, v in stats.query_people(f, [dims])[dims].items()}
                for sql in (summary, raw):
                    assert _rows(db.session.execute(sql, params), len(dims)) == app_rows, f"plain SQL and the app disagree for {dims}"
                t_app = best_of(lambda: stats.query_people(f, [dims]), args.runs)  # noqa: B023 — best_of calls it at once
                t_summary = best_of(lambda: db.session.execute(summary, params).all(), args.runs)  # noqa: B023 — best_of calls it at once
                t_raw = best_of(lambda: db.session.execute(raw, params).all(), args.runs)  # noqa: B023 — best_of calls it at once
            t_table = best_of(lambda: stats.compute_table(f, dims), args.runs)  # noqa: B023 — best_of calls it at once
            totals[0] += t_summary
            totals[1] += t_raw
            name = " × ".join(dims) or "headline"
            lines.append(f"| {name} | {t_app:.3f} | {t_summary:.3f} | {t_app / t_summary:.2f} | {t_raw:.3f} | {t_table:.3f} |")
            print(lines[-1], flush=True)

        def dashboard():
            s = disclosure.Statistics(f, 5)
            s.prepare(DASHBOARD)

        t_dash = best_of(dashboard, args.runs)
        lines.append(f"| **whole dashboard** (7 tables, suppressed) | **{t_dash:.3f}** | {totals[0]:.3f} | {t_dash / totals[0]:.2f} "
                     f"| {totals[1]:.3f} | |")
        print(lines[-1], flush=True)

        t_page = best_of(_dashboard_page(app, f), args.runs)
        lines.append(f"| **dashboard page** (`GET /reports`, as a coordinator: the above, charts and tables rendered) "
                     f"| **{t_page:.3f}** | | | | |")
        print(lines[-1], flush=True)

        xlsx_dims = ((),) + services.BREAKDOWNS
        xlsx_totals = [0.0, 0.0]
        with stats._fast_aggregates():
            for dims in xlsx_dims:
                for i, sql in enumerate((text(summary_people_sql(dims)), text(plain_people_sql(dims)))):
                    xlsx_totals[i] += best_of(lambda: db.session.execute(sql, params).all(), 1)  # noqa: B023 — best_of calls it at once

        def export():
            services.build_xlsx(disclosure.Statistics(f, 5), services.Labels())

        t_xlsx = best_of(export, max(1, args.runs - 1))
        lines.append(f"| **XLSX export** ({len(xlsx_dims)} sheets) | {t_xlsx:.3f} | {xlsx_totals[0]:.3f} | "
                     f"{t_xlsx / xlsx_totals[0]:.2f} | {xlsx_totals[1]:.3f} | |")
        print(lines[-1], flush=True)
    if not args.no_write:
        from bench.report import write_section

        write_section("stats", "\n".join(lines))


if __name__ == "__main__":
    os.environ.setdefault("YOUTHCLUB_ENV", "development")
    main()
