"""``youthclub generate-load`` (a realistic synthetic data set, built with bulk inserts) and ``youthclub visit-counts``."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from datetime import date

import click
from flask.cli import with_appcontext

from ..db_types import utcnow
from ..extensions import db
from .load import generate_load


class BarsOnStderr:
    """Progress on standard error: a bar per step with its rate and time left, and a line per index built."""

    @contextmanager
    def bar(self, label: str, length: int):
        began = time.monotonic()
        done = 0

        def rate(_):
            per_second = done / max(time.monotonic() - began, 1e-6)
            return f"{per_second / 1000:,.0f}k/s" if per_second >= 10_000 else f"{per_second:,.0f}/s"

        with click.progressbar(length=max(length, 1), label=label.ljust(10), file=sys.stderr, show_eta=True,
                               item_show_func=rate, width=30) as bar:
            def update(n):
                nonlocal done
                done += n
                bar.update(n, done)

            yield update

    def note(self, message: str) -> None:
        click.echo(f"… {message}", err=True)


@click.command("generate-load")
@click.option("--youths", default=2000, show_default=True, help="Young people to add.")
@click.option("--attendances", default=50000, show_default=True, help="Registered visits to add (about).")
@click.option("--seed", default=1, show_default=True, help="Random seed, for repeatable data sets.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day of sessions [default: 1 January last year].")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day of sessions [default: today].")
@click.option("--institutions", type=click.IntRange(min=1), help="Institutions to add [default: one per four offers, 2-40].")
@with_appcontext
def generate_load_command(youths, attendances, seed, start, end, institutions):
    """Add a synthetic data set (offers, sessions, young people, visits, head counts, sign-ups) for load tests."""
    began = time.monotonic()
    result = generate_load(youths, attendances, seed=seed, start=start.date() if start else None,
                           end=end.date() if end else None, institutions=institutions, progress=BarsOnStderr())
    db.session.commit()
    click.echo(", ".join(f"{k}: {v}" for k, v in result.items()) + f" ({time.monotonic() - began:.0f} s)")


@click.group("visit-counts")
def visit_counts_group():
    """The visit counts per young person, activity and month that the statistics read (kept by triggers)."""


@visit_counts_group.command("check")
@with_appcontext
def check_visit_counts_command():
    """Compare the counts with the visits; exit status 1 when any differ."""
    from .visit_counts import find_differences

    total, sample = find_differences()
    if not total:
        click.echo("Fremmødetallene stemmer med fremmøderne.")
        return
    click.echo(f"{total} fremmødetal afviger (ung, måned, aktivitet: gemt → optalt):", err=True)
    for youth_id, month, activity_id, kept, truth in sample:
        click.echo(f"  {youth_id}, {month // 12}-{month % 12 + 1:02d}, {activity_id}: {kept or 0} → {truth or 0}", err=True)
    click.echo("Kør `youthclub visit-counts rebuild` for at tælle dem op igen.", err=True)
    raise SystemExit(1)


@visit_counts_group.command("rebuild")
@with_appcontext
def rebuild_visit_counts_command():
    """Count every young person's visits per activity and month again from the visits (one transaction)."""
    from .visit_counts import rebuild_visit_counts

    rows = rebuild_visit_counts()
    db.session.commit()
    click.echo(f"Fremmødetal talt op igen: {rows} rækker.")


@click.group("figures")
def figures_group():
    """The figures of closed years, kept once computed (youthclub/reports/figures_cache.py)."""


@figures_group.command("warm")
@click.option("--year", type=int, multiple=True, help="A closed year [default: every closed year with sessions].")
@with_appcontext
def warm_figures_command(year):
    """Compute and keep the dashboard's, the XLSX export's and the action plans' figures of closed years, city and districts."""
    from .figures_cache import closed_years, is_closed, warm
    from .stats import StatsFilter

    years = sorted(set(year)) or closed_years()
    for y in years:
        if not is_closed(StatsFilter(date(y, 1, 1), date(y, 12, 31)), utcnow()):
            raise click.BadParameter(f"{y} is not closed yet", param_hint="--year")
    began = time.monotonic()

    def progress(y, district_id, name, computed):
        click.echo(f"{y} {'district ' + str(district_id) if district_id else 'whole city'} {name}: "
                   f"{'computed' if computed else 'kept already'} ({time.monotonic() - began:.0f} s)", err=True)

    computed = warm(years, progress=progress)
    click.echo(f"Tal for {', '.join(map(str, years)) or 'ingen år'}: {computed} beregnet ({time.monotonic() - began:.0f} s).")


def register(group) -> None:
    group.add_command(generate_load_command)
    group.add_command(visit_counts_group)
    group.add_command(figures_group)
