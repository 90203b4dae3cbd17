"""The public side of activities: the catalogue, an offer's page and its calendar feed."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.access import can_access_institution
from ..database import parse_db_id
from ..extensions import db
from ..formutil import options
from ..main import error_response
from ..nav import nav_item, public_host, public_url, start_page
from ..programme.services import list_districts
from ..signups.places import confirmed_counts, free_places
from . import services
from .forms import CATEGORY_LABELS, WEEKDAY_LABELS, CatalogueForm
from .ical import webcal
from .models import Activity, ActivityStatus

bp = Blueprint("activities", __name__)

nav_item("activities.catalogue", _l("Find tilbud"), lambda u: True, order=10)
start_page("activities.catalogue", lambda u: not u.is_authenticated, priority=5)

DEFAULT_PER_PAGE = 20


def catalogue_filters(form: CatalogueForm) -> services.CatalogueFilters:
    """The filters a (possibly partly invalid) catalogue form asks for; bad values are ignored."""
    def number(value, low, high):
        try:
            n = int(value)
        except (TypeError, ValueError):
            return None
        return n if low <= n <= high else None

    category = form.category.data if form.category.data in {c.value for c in CATEGORY_LABELS} else None
    return services.CatalogueFilters(
        q=(form.q.data or "").strip()[:100],
        age=number(request.args.get("age"), 0, 99),
        weekday=number(form.weekday.data, 0, 6),
        district_id=number(form.district.data, 1, 2**31),
        category=category,
        free_places=bool(form.free.data),
        drop_in=bool(form.drop_in.data),
    )


@bp.route("/activities")
def catalogue():
    """The public catalogue of published offers, filtered by a plain GET form."""
    districts = list_districts()
    form = CatalogueForm(formdata=request.args)
    form.weekday.choices = options([("", _("Alle dage"))] + [(str(i), label) for i, label in enumerate(WEEKDAY_LABELS)])
    form.district.choices = options([("", _("Hele Nørrebro"))] + [(str(d.id), d.name) for d in districts])
    form.category.choices = options([("", _("Alle kategorier"))] + [(c.value, label) for c, label in CATEGORY_LABELS.items()])
    form.validate()
    raw_district = (request.args.get("district") or "").strip()
    if raw_district.lstrip("-").isdigit() and parse_db_id(raw_district) is None:
        # a number no district can have is a broken link, not a filter to ignore quietly
        return error_response(400, "bad_filter", _("Ugyldigt distrikt i adressen."))
    filters = catalogue_filters(form)
    page = request.args.get("page", 1, type=int) or 1
    per_page = int(current_app.config.get("CATALOGUE_PER_PAGE", DEFAULT_PER_PAGE))
    pagination, items = services.catalogue_page(filters, page, per_page)
    return render_template(
        "activities/catalogue.html",
        form=form,
        items=items,
        pagination=pagination,
        districts={d.id: d for d in districts},
        category_labels=CATEGORY_LABELS,
        filtered=any((filters.q, filters.age is not None, filters.weekday is not None, filters.district_id,
                      filters.category, filters.free_places, filters.drop_in)),
    )


def _visible_activity(activity_id: int) -> Activity:
    """A published offer for everyone; drafts only for those who manage them."""
    activity = services.public_activity(activity_id)
    if activity is not None:
        return activity
    activity = db.session.get(Activity, activity_id)
    if activity is None or not can_access_institution(current_user, activity.institution_id):
        abort(404)
    return activity


@bp.route("/activities/<int:activity_id>")
def detail(activity_id: int):
    """An offer's page: description, institution, next sessions, free places, sign-up."""
    activity = _visible_activity(activity_id)
    feed = public_url("activities.calendar", activity_id=activity.id)
    return render_template(
        "activities/detail.html",
        activity=activity,
        sessions=services.upcoming_sessions(activity),
        confirmed=confirmed_counts([activity.id])[activity.id],
        free=free_places(activity),
        category_labels=CATEGORY_LABELS,
        feed_url=feed,
        webcal_url=webcal(feed),
        can_manage=can_access_institution(current_user, activity.institution_id),
        ActivityStatus=ActivityStatus,
    )


@bp.route("/activities/<int:activity_id>/calendar.ics")
def calendar(activity_id: int):
    """The offer's sessions as an iCal feed that phone calendars can subscribe to."""
    activity = _visible_activity(activity_id)
    body = services.ical_feed(
        activity,
        host=public_host(),
        url=public_url("activities.detail", activity_id=activity.id),
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="tilbud-{activity.id}.ics"'
    response.headers["Cache-Control"] = "public, max-age=900"
    return response
