"""Staff and admins merge two profiles of one young person (a confirm page, then one POST)."""
from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..activities.models import Activity, Session
from ..attendance.models import Attendance
from ..audit.services import audited_page
from ..extensions import db
from ..formutil import saved_or_refused
from ..nav import slot
from ..signups.models import Signup
from ..signups.services import ACTIVE
from .access import can_merge_youths, get_youth_or_404, youth_part_for
from .forms import SimpleForm
from .merge import merge_candidates, merge_youths
from .views import bp

slot("youth", "accounts/_merge_candidates.html", order=80)


@bp.app_template_global("merge_candidates")
def merge_candidates_global(youth):
    """Templates: profiles the current user could merge with ``youth`` (same first name and birth month)."""
    return merge_candidates(youth, current_user)


def _facts(youth) -> dict:
    """What the confirm page shows of a profile: its visits and sign-ups only at the viewer's institutions."""
    visits = select(func.count(Attendance.id)).join(Session, Session.id == Attendance.session_id) \
        .join(Activity, Activity.id == Session.activity_id).where(Attendance.youth_id == youth.id)
    places = select(func.count(Signup.id)).join(Activity, Activity.id == Signup.activity_id) \
        .where(Signup.youth_id == youth.id, Signup.status.in_(ACTIVE))
    ids = youth_part_for(current_user)
    if ids is not None:
        visits, places = visits.where(Activity.institution_id.in_(ids)), places.where(Activity.institution_id.in_(ids))
    return {"youth": youth, "visits": db.session.scalar(visits) or 0, "signups": db.session.scalar(places) or 0}


@bp.route("/youths/<int:youth_id>/merge/<int:other_id>", methods=["GET", "POST"])
@login_required
def youth_merge(youth_id: int, other_id: int):
    """Confirm, side by side, that two profiles are one young person; keep the first, remove the second."""
    keep, remove = get_youth_or_404(youth_id), get_youth_or_404(other_id)
    if not can_merge_youths(current_user, keep, remove):
        abort(403)
    form = SimpleForm()
    if form.validate_on_submit():
        with saved_or_refused(success=_("Profilerne er slået sammen. Brug adgangskortet fra denne profil.")) as saved:
            merge_youths(keep, remove, current_user)
        if not saved.ok:
            return redirect(url_for("accounts.youth_merge", youth_id=youth_id, other_id=other_id))
        return redirect(url_for("accounts.youth", youth_id=youth_id))
    html = render_template("accounts/youth_merge.html", keep=_facts(keep), remove=_facts(remove), form=form)
    return audited_page("youth.view", keep, html, page="merge", other_youth_id=remove.id)
