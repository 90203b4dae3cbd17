"""Where offers are missing: a coordinator's page of demand against supply per district."""
from __future__ import annotations

from flask import jsonify, render_template
from flask_babel import lazy_gettext as _l

from ..accounts.access import is_coordinator, require
from ..activities.forms import WEEKDAY_LABELS
from ..nav import nav_item
from . import services
from .disclosure import MAX_PERTURBATION
from .gaps import GAP_DIMENSIONS, GAP_FIGURES, offer_gaps
from .views import bp

nav_item("reports.offer_gaps_page", _l("Hvor mangler der tilbud?"), is_coordinator, order=62)

GAP_FIGURE_LABELS = {
    "offers": _l("Tilbud"),
    "full": _l("Fulde tilbud"),
    "free_places": _l("Ledige pladser"),
    "waitlist": _l("Unge på venteliste"),
}
GAP_DIMENSION_LABELS = {"category": _l("Kategori"), "weekday": _l("Ugedag"), "age_band": _l("Aldersgruppe")}


def _group_label(dim: str, value) -> str:
    if dim == "weekday":
        return str(WEEKDAY_LABELS[value]).capitalize()
    return str({"category": services.CATEGORY_LABELS, "age_band": services.AGE_BAND_LABELS}[dim].get(value, value))


def is_gap(row) -> bool:
    """Young people wait and no place is free: the action plan may need another offer here.

    Only a released waitlist says so: marking a "<5" would tell "a few" from "none".
    """
    return "waitlist" not in row.hidden and row.values["waitlist"] > 0 and row.values["free_places"] == 0


@bp.route("/reports/offer-gaps")
@require(is_coordinator)
def offer_gaps_page():
    """Demand against supply per district by category, weekday and age band; small numbers hidden."""
    report = offer_gaps(threshold=services.threshold())
    return render_template(
        "reports/offer_gaps.html", report=report, dimensions=GAP_DIMENSIONS, figures=GAP_FIGURES,
        figure_labels=GAP_FIGURE_LABELS, dimension_labels=GAP_DIMENSION_LABELS, group_label=_group_label,
        is_gap=is_gap, hidden_text=services.small_mark(), max_perturbation=MAX_PERTURBATION,
    )


def _json_row(row) -> dict:
    return {figure: services.display_value(row, figure) for figure in GAP_FIGURES}


@bp.route("/reports/offer-gaps.json")
@require(is_coordinator)
def offer_gaps_json():
    """The same figures as JSON; a small count is "<5", the others carry their cell key's perturbation."""
    report = offer_gaps(threshold=services.threshold())
    return jsonify({
        "total": _json_row(report.total),
        "districts": [{
            "district": {"id": d.district.id, "code": d.district.code, "name": d.district.name},
            "total": _json_row(d.total),
            **{dim: [{"value": row.key[dim], "label": _group_label(dim, row.key[dim]), **_json_row(row)}
                     for row in d.tables[dim]] for dim in GAP_DIMENSIONS},
        } for d in report.districts],
    })
