"""The institution's "Today" page: today's and the coming week's sessions, where staff start scanning."""
from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from ..accounts.access import get_institution_or_403
from ..i18n import local_today
from ..nav import institution_link, start_page
from ..signups.places import confirmed_counts
from . import services
from .views import bp


def _first_institution(user):
    ids = sorted(user.institution_ids())
    return {"institution_id": ids[0]} if ids else None


institution_link("activities.today", _l("I dag"), order=10)
start_page("activities.today", lambda u: u.is_authenticated and u.is_staff_member, priority=16,
           values=_first_institution)


@bp.route("/institutions/<int:institution_id>/today")
@login_required
def today(institution_id: int):
    """Today's and the coming week's sessions with sign-up counts."""
    institution = get_institution_or_403(institution_id)
    days = services.today_sessions(institution)
    activity_ids = {s.activity_id for _day, sessions in days for s in sessions}
    counts = confirmed_counts(activity_ids)
    return render_template("activities/today.html", institution=institution, days=days, counts=counts,
                           today=local_today())
