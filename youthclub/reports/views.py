"""Views of the reports domain: the dashboard, the exports and the action-plan report."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.access import is_coordinator, is_staff_or_coordinator, require
from ..database import parse_db_id
from ..errors import DomainError
from ..extensions import db
from ..i18n import local_today
from ..main import error_response
from ..nav import nav_item, start_page
from ..ratelimits import rate_limited
from . import charts, plan_report, services
from .stats import FIGURES

bp = Blueprint("reports", __name__)

nav_item("reports.dashboard", _l("Statistik"), is_staff_or_coordinator, order=60)
nav_item("reports.action_plan", _l("Planrapport"), is_coordinator, order=61)
start_page("reports.dashboard", is_coordinator, priority=25)

#: every table the dashboard shows; suppressed together so no total gives a hidden cell away
DASHBOARD_BREAKDOWNS = services.DASHBOARD_BREAKDOWNS
HEADLINE = ("unique", "visits", "dropins", "sessions", "new", "returning", "local", "waitlist",
            "avg_per_session", "avg_with_dropins", "attendance_rate", "capacity_use")


def _filter_or_abort():
    try:
        return services.parse_filter(request.args, current_user)
    except DomainError as err:
        if err.status == 403:
            abort(403)
        return err


def _shown(row, figure):
    """A figure for a chart: the number, or the mark a hidden one is shown with."""
    return services.display_value(row, figure)


def _charts(stats, labels):
    months = stats.table(("month",))
    month_chart = charts.column_chart(
        [f"{r.key['month'][5:7]}.{r.key['month'][2:4]}" for r in months],
        [(str(services.FIGURE_LABELS["visits"]), "s1", [_shown(r, "visits") for r in months]),
         (str(services.FIGURE_LABELS["dropins"]), "s2", [_shown(r, "dropins") for r in months])],
    )
    institutions = stats.table(("institution",))
    institution_chart = charts.bar_chart(
        [labels("institution", r.key["institution"]) for r in institutions],
        [(str(services.FIGURE_LABELS["unique"]), "s1", [_shown(r, "unique") for r in institutions])],
    )
    cells = {(r.key["age_band"], r.key["gender"]): r for r in stats.table(("age_band", "gender"))}
    absent = services.absent_value(stats)
    genders = [g for g in services.GENDER_LABELS if any(k[1] == g for k in cells)]
    bands = list(services.AGE_BAND_LABELS)
    age_chart = charts.bar_chart(
        [str(services.AGE_BAND_LABELS[b]) for b in bands],
        [(str(services.GENDER_LABELS[g]), f"s{i + 1}", [_shown(cells[(b, g)], "unique") if (b, g) in cells else absent for b in bands])
         for i, g in enumerate(genders)],
    )
    return {"month": month_chart, "institution": institution_chart, "age": age_chart,
            "cells": cells, "genders": genders, "bands": bands}


@bp.route("/reports")
@require(is_staff_or_coordinator)
@rate_limited("dashboard", methods=("GET",))
def dashboard():
    """Headline figures, the monthly trend and the breakdowns, with the filters above them."""
    f = _filter_or_abort()
    options = services.filter_options(current_user)
    if isinstance(f, DomainError):
        return render_template("reports/dashboard.html", error=f.message, options=options, args=request.args.to_dict()), 400
    stats = services.statistics_for(current_user, f, leaves_system=False)
    stats.prepare(DASHBOARD_BREAKDOWNS)
    labels = services.Labels()
    hidden = services.small_mark()
    services.record_view("dashboard", f, exact=not stats.perturbed)
    db.session.commit()
    return render_template(
        "reports/dashboard.html",
        error=None, options=options, args=request.args.to_dict(), stats=stats, labels=labels, f=f,
        headline=stats.headline(), headline_figures=HEADLINE, figures=FIGURES,
        figure_labels=services.FIGURE_LABELS, figure_definitions=services.FIGURE_DEFINITIONS,
        dimension_labels=services.DIMENSION_LABELS, charts=_charts(stats, labels), protected=services.PROTECTED,
        hidden_text=hidden, suppressed=stats.perturbed, absent=services.absent_value(stats), disclosure_note=services.disclosure_note(stats),
        filters_used=services.describe_filter(f, labels),
        age_band_table=stats.table(("age_band",)), gender_table=stats.table(("gender",)),
        initiative_table=stats.table(("initiative",)), breakdowns=services.BREAKDOWNS,
    )


def _export_filter():
    f = _filter_or_abort()
    if isinstance(f, DomainError):
        abort(400)
    return f


def _filename(f, ext: str) -> str:
    return f"statistik_{f.start:%Y%m%d}-{f.end:%Y%m%d}.{ext}"


@bp.route("/reports/export.xlsx")
@require(is_staff_or_coordinator)
@rate_limited("export", methods=("GET",))
def export_xlsx():
    """Every breakdown as an XLSX workbook, small cells hidden."""
    f = _export_filter()
    stats = services.statistics_for(current_user, f, leaves_system=True)
    body = services.build_xlsx(stats, services.Labels())
    services.record_export("xlsx", f)
    db.session.commit()
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(f, "xlsx")}"'})


@bp.route("/reports/export.csv")
@require(is_staff_or_coordinator)
@rate_limited("export", methods=("GET",))
def export_csv():
    """One breakdown as CSV for Danish Excel, small cells hidden."""
    f = _export_filter()
    try:
        dims = services.parse_group_by(request.args.get("breakdown"))
    except DomainError:
        abort(400)
    stats = services.statistics_for(current_user, f, leaves_system=True)
    body = services.build_csv(stats, dims, services.Labels())
    services.record_export("csv", f, group_by=list(dims))
    db.session.commit()
    name = _filename(f, "csv").replace("statistik", "statistik_" + ("-".join(dims) or "overblik"))
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/reports/action-plan")
@require(is_coordinator)
@rate_limited("dashboard", methods=("GET",))
def action_plan():
    """Targets beside actual figures for a district's year, focus area 2 first; prints as a report."""
    options = services.filter_options(current_user)
    raw_district, raw_year = request.args.get("district"), request.args.get("year")
    district_id = parse_db_id(raw_district) if raw_district else None
    year = parse_db_id(raw_year) if raw_year else local_today().year
    if (raw_district and district_id is None) or year is None or year not in services.YEARS:
        return error_response(400, "bad_filter", _("Ugyldigt distrikt eller år (%(first)d–%(last)d).",
                                                   first=services.YEARS[0], last=services.YEARS[-1]))
    if district_id is None and options["districts"]:
        district_id = options["districts"][-1].id
    report = plan_report.build(district_id, year, services.threshold()) if district_id else None
    if district_id and report is None:
        abort(404)
    if report is not None:
        services.record_view("action_plan", report.stats.filter)
        db.session.commit()
    return render_template("reports/action_plan.html", report=report, options=options, year=year,
                           district_id=district_id, figure_labels=services.FIGURE_LABELS,
                           figures=plan_report.FIGURES, hidden_text=services.small_mark(),
                           disclosure_note=services.disclosure_note(report.stats) if report else None)


@bp.app_template_filter("stat")
def format_stat(value, figure: str = "") -> str:
    """A figure as Danish or English text: counts as integers, rates with one decimal or as a percentage."""
    from flask_babel import format_decimal, format_percent

    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if figure in ("attendance_rate", "capacity_use"):
        # released as whole percents (disclosure.RATE_DECIMALS)
        return format_percent(value, format="#,##0 %")
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.0")
    return format_decimal(value, format="#,##0")

