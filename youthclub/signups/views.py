"""Sign-up views: the sign-up box, "Mine aktiviteter", the iCal feed, staff lists and the mail outbox."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from ..accounts.access import can_see_roster, get_roster_activity_or_403, is_youth, require, works_at
from ..accounts.forms import SimpleForm
from ..accounts.models import YouthProfile
from ..accounts.views import safe_next
from ..accounts.youth_services import new_calendar_token, revoke_calendar_token
from ..activities.ical import calendar, webcal
from ..activities.models import Activity, Session
from ..audit.services import audited_page
from ..db_types import utcnow
from ..extensions import db
from ..formutil import saved_or_refused
from ..nav import nav_item, public_host, public_url, slot, start_page
from ..ratelimits import rate_limited
from . import (
    receivers,  # noqa: F401  (connects the signal receivers)
    services,
)
from .forms import SignupForm, StaffCancelForm
from .models import Signup, SignupStatus
from .places import free_places

bp = Blueprint("signups", __name__)

slot("activity_detail", "signups/_signup_box.html", order=10)
slot("activity_manage", "signups/_manage_link.html")
nav_item("signups.my_activities", _l("Mine aktiviteter"), is_youth, order=10)
start_page("signups.my_activities", lambda u: u.is_authenticated and u.is_youth, priority=30)


def _youth() -> YouthProfile:
    youth = current_user.youth_profile
    if youth is None or youth.anonymised_at is not None:
        abort(403)
    return youth


@bp.app_template_global()
def signup_box(activity: Activity) -> dict:
    """What the sign-up box on an activity's page shows to the current visitor."""
    youth = current_user.youth_profile if getattr(current_user, "is_authenticated", False) else None
    signup = services.active_signup(youth.id, activity.id) if youth is not None else None
    return {
        "signup": signup,
        "free": free_places(activity),
        "refusal": None if signup else services.refusal(youth, activity),
        "is_youth": youth is not None,
        "opens_at": activity.signup_opens_at if activity.signup_opens_at and activity.signup_opens_at > utcnow() else None,
        "form": SignupForm(),
        "next": request.full_path if request.query_string else request.path,
    }


@bp.route("/activities/<int:activity_id>/signup", methods=["POST"])
@require(is_youth)
@rate_limited("signup")
def sign_up(activity_id: int):
    """Sign the logged-in young person up, or put them on the waitlist."""
    activity = db.get_or_404(Activity, activity_id)
    form = SignupForm()
    back = safe_next(form.next.data) or url_for("signups.my_activities")
    if not form.validate_on_submit():
        abort(400)
    with saved_or_refused() as saved:
        signup = services.sign_up(_youth(), activity, by_user=current_user)
    if not saved.ok:
        return redirect(back)
    if signup.status == SignupStatus.CONFIRMED:
        flash(_("Du er tilmeldt %(title)s.", title=activity.title), "success")
    else:
        flash(_("Der er fuldt. Du er nummer %(n)d på ventelisten.", n=signup.position), "info")
    return redirect(back)


def _own_signup_or_404(signup_id: int) -> Signup:
    signup = db.get_or_404(Signup, signup_id)
    if signup.youth_id != _youth().id:
        abort(404)
    return signup


@bp.route("/signups/<int:signup_id>/cancel", methods=["POST"])
@require(is_youth)
def cancel(signup_id: int):
    """The young person cancels their place or leaves the waitlist."""
    signup = _own_signup_or_404(signup_id)
    form = SignupForm()
    if not form.validate_on_submit():
        abort(400)
    was_waiting = signup.status == SignupStatus.WAITLISTED
    services.cancel_signup(signup, by_user=current_user)
    db.session.commit()
    flash(_("Du har forladt ventelisten.") if was_waiting else _("Du er meldt fra."), "success")
    return redirect(safe_next(form.next.data) or url_for("signups.my_activities"))


@bp.route("/me/activities")
@require(is_youth)
def my_activities():
    """ "Mine aktiviteter": the young person's places and waitlist places with the next sessions."""
    youth = _youth()
    signups = services.my_signups(youth)
    sessions = {s.id: services.upcoming_sessions(s.activity_id, limit=4) for s in signups}
    feed_url = None
    if youth.calendar_token:
        feed_url = public_url("signups.calendar_feed", token=youth.calendar_token)
    return render_template(
        "signups/my_activities.html", youth=youth, signups=signups, sessions=sessions, feed_url=feed_url,
        webcal_url=webcal(feed_url) if feed_url else None,
        form=SignupForm(), simple=SimpleForm(),
    )


@bp.route("/me/calendar", methods=["POST"])
@require(is_youth)
def calendar_new():
    """Make (or replace) the secret address of the personal calendar feed."""
    if SimpleForm().validate_on_submit():
        new_calendar_token(_youth())
        db.session.commit()
        flash(_("Din kalender-adresse er klar. Den gamle virker ikke længere."), "success")
    return redirect(url_for("signups.my_activities") + "#calendar")


@bp.route("/me/calendar/revoke", methods=["POST"])
@require(is_youth)
def calendar_revoke():
    """Switch the calendar feed off; the address stops working."""
    if SimpleForm().validate_on_submit():
        revoke_calendar_token(_youth())
        db.session.commit()
        flash(_("Din kalender-adresse er slået fra."), "success")
    return redirect(url_for("signups.my_activities") + "#calendar")


@bp.route("/calendar/<token>.ics")
def calendar_feed(token: str):
    """The personal iCal feed: anyone with the secret address, nobody without it."""
    if not token or len(token) > 64:
        abort(404)
    youth = db.session.scalar(select(YouthProfile).where(YouthProfile.calendar_token == token))
    if youth is None or youth.anonymised_at is not None:
        abort(404)
    since = utcnow() - timedelta(days=30)
    entries = db.session.execute(
        select(Session, Activity)
        .join(Activity, Activity.id == Session.activity_id)
        .join(Signup, Signup.activity_id == Activity.id)
        .where(Signup.youth_id == youth.id, Signup.status == SignupStatus.CONFIRMED, Session.starts_at >= since)
        .order_by(Session.starts_at)
        .limit(500)
    ).all()
    body = calendar(entries, name=_("Mine aktiviteter"), host=public_host(),
                    url_of=lambda activity: public_url("activities.detail", activity_id=activity.id))
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=900"
    response.headers["Content-Disposition"] = 'inline; filename="mine-aktiviteter.ics"'
    return response


@bp.route("/activities/<int:activity_id>/signups")
@login_required
def activity_signups(activity_id: int):
    """Staff: an activity's sign-ups and waitlist."""
    activity = get_roster_activity_or_403(activity_id)
    confirmed = db.session.scalars(
        select(Signup).where(Signup.activity_id == activity.id, Signup.status == SignupStatus.CONFIRMED)
        .order_by(Signup.confirmed_at, Signup.id)
    ).all()
    cancelled = db.session.scalars(
        select(Signup).where(Signup.activity_id == activity.id, Signup.status == SignupStatus.CANCELLED)
        .order_by(Signup.cancelled_at.desc()).limit(50)
    ).all()
    html = render_template(
        "signups/activity_signups.html", activity=activity, confirmed=confirmed,
        waiting=services.waitlist(activity.id), cancelled=cancelled, free=free_places(activity),
        form=StaffCancelForm(),
    )
    return audited_page("roster.view", activity, html, page="signups")


@bp.route("/signups/<int:signup_id>/staff-cancel", methods=["POST"])
@login_required
def staff_cancel(signup_id: int):
    """Staff cancel a sign-up or waitlist place, with a reason the young person sees."""
    signup = db.get_or_404(Signup, signup_id)
    if not can_see_roster(current_user, signup.activity.institution_id):
        abort(403)
    form = StaffCancelForm()
    if form.validate_on_submit():
        promoted = services.cancel_signup(signup, by_user=current_user, reason=form.reason.data)
        db.session.commit()
        flash(_("Tilmeldingen er annulleret."), "success")
        if promoted:
            flash(_("Fra ventelisten har fået plads: %(names)s.",
                    names=", ".join(s.youth.display_name for s in promoted)), "info")
            untold = [s.youth.display_name for s in promoted if services.youth_email(s.youth) is None]
            if untold:
                flash(_("%(names)s har ingen e-mail: giv besked, og markér det under \"Skal have besked\".",
                        names=", ".join(untold)), "warning")
    else:
        flash(" ".join(form.reason.errors) or _("Formularen er udløbet. Genindlæs siden, og prøv igen."), "error")
    return redirect(url_for("signups.activity_signups", activity_id=signup.activity_id))


@bp.app_template_global()
def signups_to_tell(activity: Activity) -> list[Signup]:
    """The to-do on an offer's pages: whom to tell about their new place (only for the institution's own staff)."""
    if not works_at(current_user, activity.institution_id):
        return []
    return services.to_tell(activity.id)


@bp.route("/signups/<int:signup_id>/told", methods=["POST"])
@login_required
def mark_told(signup_id: int):
    """Staff mark that they told a young person without e-mail about their place."""
    signup = db.get_or_404(Signup, signup_id)
    if not works_at(current_user, signup.activity.institution_id):
        abort(403)
    form = SignupForm()
    if form.validate_on_submit():
        services.mark_told(signup, by_user=current_user)
        db.session.commit()
        flash(_("Markeret: %(name)s har fået besked.", name=signup.youth.display_name), "success")
    return redirect(safe_next(form.next.data) or url_for("signups.activity_signups", activity_id=signup.activity_id))
