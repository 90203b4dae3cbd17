"""Reports: reading a statistics request, naming what the figures are about, and exporting them."""
from __future__ import annotations

import calendar
import csv
import io
from datetime import date

from babel.numbers import format_decimal
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..accounts.models import GENDER_LABELS as ACCOUNT_GENDER_LABELS
from ..activities.models import Category
from ..attendance.models import AgeBand
from ..audit.services import record_event
from ..database import parse_db_id
from ..errors import DomainError, Forbidden
from ..extensions import db
from ..i18n import local_today
from ..programme.models import ActionPlan, District, FocusArea, Initiative, Institution
from .disclosure import MAX_PERTURBATION, Statistics
from .stats import DIMENSIONS, FIGURES, RATE_FIGURES, StatsFilter


class StatsError(DomainError):
    status = 400


FIGURE_LABELS = {
    "sessions": _l("Afholdte gange"),
    "visits": _l("Fremmøder"),
    "dropins": _l("Anonyme drop-ins"),
    "unique": _l("Unikke unge"),
    "new": _l("Nye unge"),
    "returning": _l("Tilbagevendende unge"),
    "local": _l("Lokal rækkevidde"),
    "waitlist": _l("På venteliste"),
    "avg_per_session": _l("Gns. fremmøde pr. gang"),
    "avg_with_dropins": _l("Gns. pr. gang inkl. drop-ins"),
    "attendance_rate": _l("Fremmødeprocent"),
    "capacity_use": _l("Kapacitetsudnyttelse"),
}

FIGURE_DEFINITIONS = {
    "sessions": _l("Gange i perioden, der ikke er aflyst."),
    "visits": _l("Registrerede fremmøder (scannet eller afkrydset) ved afholdte gange."),
    "dropins": _l("Anonyme optællinger ved afholdte gange; altid vist for sig."),
    "unique": _l("Hver ung tælles én gang, på tværs af alle institutioner i gruppen."),
    "new": _l("Unge, hvis første fremmøde nogensinde ligger i perioden."),
    "returning": _l("Unge med mindst 3 fremmøder i perioden i gruppen."),
    "local": _l("Unikke unge, der bor i det distrikt, hvor tilbuddet foregår."),
    "waitlist": _l("Unge på en venteliste ved periodens slutning."),
    "avg_per_session": _l("Fremmøder divideret med afholdte gange."),
    "avg_with_dropins": _l("Fremmøder plus anonyme drop-ins divideret med afholdte gange."),
    "attendance_rate": _l("Fremmøder af bekræftede tilmeldte divideret med bekræftede tilmeldinger gange afholdte gange (tilbud med tilmelding)."),
    "capacity_use": _l("Fremmøder ved tilbud med pladsbegrænsning divideret med pladser gange afholdte gange."),
}

DIMENSION_LABELS = {
    "district": _l("Distrikt"),
    "institution": _l("Institution"),
    "focus_area": _l("Indsatsområde"),
    "initiative": _l("Initiativ"),
    "category": _l("Kategori"),
    "month": _l("Måned"),
    "age_band": _l("Aldersgruppe"),
    "gender": _l("Køn"),
}

AGE_BAND_LABELS = {
    AgeBand.UNDER_13.value: _l("Under 13"),
    AgeBand.AGE_13_15.value: _l("13–15 år"),
    AgeBand.AGE_16_17.value: _l("16–17 år"),
    AgeBand.AGE_18_24.value: _l("18–24 år"),
}

#: the figures' gender words are the enum's own labels (by value)
GENDER_LABELS = {gender.value: label for gender, label in ACCOUNT_GENDER_LABELS.items()}

CATEGORY_LABELS = {
    Category.SPORT.value: _l("Sport"),
    Category.KREATIV.value: _l("Kreativ"),
    Category.MUSIK.value: _l("Musik"),
    Category.GAMING.value: _l("Gaming"),
    Category.LEKTIEHJAELP.value: _l("Lektiehjælp"),
    Category.JOB.value: _l("Job og uddannelse"),
    Category.TURE.value: _l("Ture og oplevelser"),
    Category.ANDET.value: _l("Andet"),
}

#: breakdowns offered on the dashboard and in the exports, in order
BREAKDOWNS = (
    ("month",), ("district",), ("institution",), ("focus_area",), ("initiative",),
    ("category",), ("age_band",), ("gender",), ("age_band", "gender"),
)


#: the breakdowns the dashboard shows (``views.dashboard``)
DASHBOARD_BREAKDOWNS = (("month",), ("institution",), ("age_band", "gender"), ("initiative",))


def threshold() -> int:
    return int(current_app.config.get("SMALL_CELL_THRESHOLD", 5))


#: the years figures can be asked for
YEARS = range(2000, 2101)


def _int_arg(args, name):
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    value = parse_db_id(raw)
    if value is None:
        raise StatsError(_("Ugyldig værdi for %(name)s.", name=name), "bad_filter", field=name)
    return value


def _date_arg(args, name):
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise StatsError(_("Datoen skal skrives ÅÅÅÅ-MM-DD."), "bad_date", field=name) from None


def require_dates(args) -> None:
    """The API names its period with from and to, always."""
    if not args.get("from") or not args.get("to"):
        raise StatsError(_("Angiv from og to (ÅÅÅÅ-MM-DD)."), "bad_period")


def parse_period(args) -> tuple[date, date]:
    """From/to dates, or a year with an optional quarter or month (the current year by default)."""
    start, end = _date_arg(args, "from"), _date_arg(args, "to")
    if start or end:
        if not (start and end):
            raise StatsError(_("Angiv både fra- og til-dato."), "bad_period")
    else:
        year = _int_arg(args, "year") or local_today().year
        quarter, month = _int_arg(args, "quarter"), _int_arg(args, "month")
        if year not in YEARS or (quarter and not 1 <= quarter <= 4) or (month and not 1 <= month <= 12):
            raise StatsError(_("Ugyldig periode."), "bad_period")
        if month:
            start, end = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        elif quarter:
            last = 3 * quarter
            start, end = date(year, last - 2, 1), date(year, last, calendar.monthrange(year, last)[1])
        else:
            start, end = date(year, 1, 1), date(year, 12, 31)
    if end < start:
        raise StatsError(_("Til-datoen ligger før fra-datoen."), "bad_period")
    if (end - start).days > 366 * 5:
        raise StatsError(_("Perioden må højst være fem år."), "bad_period")
    return start, end


def parse_filter(args, user) -> StatsFilter:
    """A statistics filter from request arguments, limited to the institutions ``user`` may see."""
    start, end = parse_period(args)
    category, band, gender = (args.get(n) or None for n in ("category", "age_band", "gender"))
    if category and category not in CATEGORY_LABELS:
        raise StatsError(_("Ukendt kategori."), "bad_filter", field="category")
    if band and band not in AGE_BAND_LABELS:
        raise StatsError(_("Ukendt aldersgruppe."), "bad_filter", field="age_band")
    if gender and gender not in GENDER_LABELS:
        raise StatsError(_("Ukendt køn."), "bad_filter", field="gender")
    institution_id = _int_arg(args, "institution")
    allowed = None if user.is_programme_wide else frozenset(user.institution_ids())
    if institution_id is not None:
        if allowed is not None and institution_id not in allowed:
            raise Forbidden(_("Du kan kun se tal for din egen institution."), "forbidden")
        allowed = frozenset({institution_id})
    return StatsFilter(
        start=start, end=end, district_id=_int_arg(args, "district"), institution_ids=allowed,
        focus_area_id=_int_arg(args, "focus_area"), initiative_id=_int_arg(args, "initiative"),
        category=category, age_band=band, gender=gender,
    )


def parse_group_by(raw: str | None) -> tuple[str, ...]:
    dims = tuple(d.strip() for d in (raw or "").split(",") if d.strip())
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown or len(set(dims)) != len(dims) or len(dims) > 3:
        raise StatsError(_("group_by skal være op til tre af: %(dims)s.", dims=", ".join(DIMENSIONS)), "bad_group_by")
    return dims


def shows_raw_figures(user, f: StatsFilter) -> bool:
    """Only an institution's own staff see its small numbers; everyone else sees them hidden."""
    return not user.is_programme_wide and bool(f.institution_ids) and f.institution_ids <= user.institution_ids()


def statistics_for(user, f: StatsFilter, *, leaves_system: bool) -> Statistics:
    """Exact figures only for an institution's own staff on the page ("new", which depends on visits elsewhere,
    released even there); released figures (docs/metrics.md) for the rest."""
    raw = not leaves_system and shows_raw_figures(user, f)
    if raw:
        # their own figures exactly; "new" depends on visits elsewhere and is released
        return Statistics(f, None, elsewhere_threshold=threshold())
    return Statistics(f, threshold())


def disclosure_note(stats: Statistics) -> str:
    """One sentence a coordinator understands: what the released numbers are."""
    if not stats.perturbed:
        return str(_l("Tallene er nøjagtige, fordi du ser din egen institution, undtagen nye unge: de afhænger af besøg "
                      "andre steder og er ændret en smule som eksporterne og alle andre tal."))
    return str(_l(
        "Tallene er ændret en smule tilfældigt (højst ±%(d)d, oftest 0 eller ±1) for at beskytte de unge; "
        "små tal vises som <%(t)d, og .. betyder, at der står for få unge bag rækken.",
        d=MAX_PERTURBATION, t=threshold(),
    ))


class Labels:
    """Names for the values of each dimension, loaded once per request."""

    def __init__(self):
        self.names: dict[str, dict] = {
            "district": {d.id: d.name for d in db.session.scalars(select(District))},
            "institution": {i.id: i.name for i in db.session.scalars(select(Institution))},
            "focus_area": {a.id: a.label for a in db.session.scalars(select(FocusArea))},
            "initiative": {
                i.id: f"{i.title} ({i.action_plan.district.name} {i.action_plan.year})"
                for i in db.session.scalars(select(Initiative).options(joinedload(Initiative.action_plan).joinedload(ActionPlan.district)))
            },
            "category": CATEGORY_LABELS,
            "age_band": AGE_BAND_LABELS,
            "gender": GENDER_LABELS,
        }

    def __call__(self, dim: str, value) -> str:
        if value is None:
            return str(_l("(ingen)"))
        if dim == "month":
            return f"{value[5:7]}.{value[:4]}"
        return str(self.names.get(dim, {}).get(value, value))


def filter_options(user) -> dict:
    """Choices for the filter form, limited to what the user may see."""
    institutions = select(Institution).order_by(Institution.name)
    if not user.is_programme_wide:
        institutions = institutions.where(Institution.id.in_(sorted(user.institution_ids()) or [-1]))
    return {
        "districts": list(db.session.scalars(select(District).order_by(District.code))),
        "institutions": list(db.session.scalars(institutions)),
        "focus_areas": list(db.session.scalars(select(FocusArea).order_by(FocusArea.number))),
        "initiatives": list(db.session.scalars(
            select(Initiative).join(ActionPlan).order_by(ActionPlan.year.desc(), Initiative.title)
        )),
        "categories": CATEGORY_LABELS,
        "age_bands": AGE_BAND_LABELS,
        "genders": GENDER_LABELS,
    }


def describe_filter(f: StatsFilter, labels: Labels) -> list[tuple[str, str]]:
    """(name, value) pairs saying which filters were used, for exports and the page."""
    out = [(str(_l("Periode")), f"{f.start:%d.%m.%Y} – {f.end:%d.%m.%Y}")]
    if f.district_id is not None:
        out.append((str(DIMENSION_LABELS["district"]), labels("district", f.district_id)))
    if f.institution_ids is not None:
        out.append((str(DIMENSION_LABELS["institution"]), ", ".join(labels("institution", i) for i in sorted(f.institution_ids))))
    for dim, value in (("focus_area", f.focus_area_id), ("initiative", f.initiative_id), ("category", f.category),
                       ("age_band", f.age_band), ("gender", f.gender)):
        if value is not None:
            out.append((str(DIMENSION_LABELS[dim]), labels(dim, value)))
    return out


# -- exports ---------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def small_mark() -> str:
    return f"<{threshold()}"


def is_formula_shaped(text: str) -> bool:
    return isinstance(text, str) and text.startswith(FORMULA_START)


def csv_text(text: str) -> str:
    """A text cell Excel will not run as a formula: a leading apostrophe makes it literal text."""
    return "'" + text if is_formula_shaped(text) else text


#: a figure hidden because too few young people stand behind its row (or a rate on a hidden count)
PROTECTED = ".."


def absent_value(stats: Statistics):
    """What a group an answer has no row for is shown as: 0 in exact figures; in released ones the small mark.

    A released answer leaves out the rows under a margin with too few young people (``withheld``),
    so a missing cell may hold one to four of them: "0" would be wrong, and "<5" is what an
    empty group is shown as anyway.
    """
    return small_mark() if stats.perturbed else 0


def display_value(row, figure):
    """The figure, or "<5" when it is small, or ".." when it is hidden to protect another."""
    return _display(row, figure, small_mark())


def _display(row, figure, mark):
    if figure in row.small:
        return mark
    if figure in row.hidden:
        return PROTECTED
    return row.values.get(figure)


def _figure_columns(dims):
    return [f for f in FIGURES if not (f == "waitlist" and "month" in dims)]


def table_rows(stats: Statistics, dims, labels: Labels):
    """Header and rows (labels, then figures; hidden ones as "<5") of one breakdown."""
    figures = _figure_columns(dims)
    header = [str(DIMENSION_LABELS[d]) for d in dims] + [str(FIGURE_LABELS[f]) for f in figures]
    mark = small_mark()
    body = [[labels(d, row.key[d]) for d in dims] + [_display(row, f, mark) for f in figures] for row in stats.table(dims)]
    return header, body, figures


def sheet_name(dims) -> str:
    return " × ".join(str(DIMENSION_LABELS[d]) for d in dims)[:31] if dims else str(_l("Overblik"))


def build_xlsx(stats: Statistics, labels: Labels) -> bytes:
    """One sheet per breakdown, then the definitions and the filters used."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    def put(ws, r, c, value, number_format=None):
        cell = ws.cell(row=r, column=c)
        cell.value = value
        if isinstance(value, str):
            # text is always text: never a formula, whatever it starts with
            cell.data_type = "s"
            if is_formula_shaped(value):
                cell.quotePrefix = True
        elif number_format:
            cell.number_format = number_format
        return cell

    stats.prepare(BREAKDOWNS)
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for dims in ((),) + BREAKDOWNS:
        ws = wb.create_sheet(sheet_name(dims))
        header, body, figures = table_rows(stats, dims, labels)
        for c, text in enumerate(header, 1):
            put(ws, 1, c, text).font = bold
        for r, values in enumerate(body, 2):
            for c, value in enumerate(values, 1):
                fig = figures[c - 1 - len(dims)] if c > len(dims) else None
                fmt = "0%" if fig in ("attendance_rate", "capacity_use") else "0.0" if fig in RATE_FIGURES else "0"
                put(ws, r, c, value, fmt)
        ws.freeze_panes = ws.cell(row=2, column=len(dims) + 1)
        for c in range(1, len(header) + 1):
            ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = 22 if c <= len(dims) else 14
    ws = wb.create_sheet(str(_l("Definitioner")))
    put(ws, 1, 1, str(_l("Tal"))).font = bold
    put(ws, 1, 2, str(_l("Definition"))).font = bold
    for r, figure in enumerate(FIGURES, 2):
        put(ws, r, 1, str(FIGURE_LABELS[figure]))
        put(ws, r, 2, str(FIGURE_DEFINITIONS[figure]))
    note_row = len(FIGURES) + 3
    put(ws, note_row, 1, small_mark())
    put(ws, note_row, 2, str(_l("Tal fra 0 til %(n)d vises som \"<%(t)d\".", n=threshold() - 1, t=threshold())))
    put(ws, note_row + 1, 1, PROTECTED)
    put(ws, note_row + 1, 2, str(_l("Skjult, fordi der står færre end %(t)d unge bag rækken, eller fordi en andel bygger på et skjult tal.", t=threshold())))
    put(ws, note_row + 2, 1, "±")
    put(ws, note_row + 2, 2, disclosure_note(stats))
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 100
    ws = wb.create_sheet(str(_l("Filtre")))
    for r, (name, value) in enumerate(describe_filter(stats.filter, labels), 1):
        put(ws, r, 1, name).font = bold
        put(ws, r, 2, value)
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 60
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format_decimal(value, format="0.###", locale="da_DK")
    if isinstance(value, int):
        return str(value)
    return csv_text(str(value))


def build_csv(stats: Statistics, dims, labels: Labels) -> bytes:
    """One breakdown for Danish Excel: semicolons, UTF-8 with BOM, decimal comma."""
    stats.prepare([dims])
    header, body, _ = table_rows(stats, dims, labels)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow([csv_text(h) for h in header])
    for values in body:
        writer.writerow([_csv_value(v) for v in values])
    writer.writerow([])
    writer.writerow([csv_text(disclosure_note(stats))])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def json_rows(stats: Statistics, dims, labels: Labels) -> list[dict]:
    """Rows for the API: dimension values and names, figures (null where hidden) and the hidden figures' names."""
    stats.prepare([dims])
    out = []
    for row in stats.table(dims):
        item = {}
        for d in dims:
            item[d] = row.key[d]
            item[f"{d}_name"] = labels(d, row.key[d])
        for f in FIGURES:
            item[f] = None if f in row.hidden else row.values.get(f)
        item["suppressed"] = sorted(row.hidden)
        item["small"] = sorted(row.small)
        out.append(item)
    return out


def record_export(fmt: str, f: StatsFilter, **details) -> None:
    """Every export leaves a trace: who, when, which filters."""
    record_event("stats.export", format=fmt, filters=f.as_dict(), **details)


def record_view(page: str, f: StatsFilter, **details) -> None:
    """Every statistics page shown leaves a trace like an export: who, when, which page and filters."""
    record_event("stats.view", page=page, filters=f.as_dict(), **details)

