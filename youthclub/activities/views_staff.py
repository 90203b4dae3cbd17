"""Staff and coordinators manage an institution's offers, weekly patterns and sessions."""
from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from ..accounts.access import (
    get_activity_or_403,
    get_institution_or_403,
    get_session_or_403,
    is_coordinator,
    is_staff_or_coordinator,
    require,
    works_at,
)
from ..extensions import db
from ..formutil import options, saved_or_refused, show_refusal
from ..i18n import LOCAL_TZ, to_local
from ..nav import institution_link
from ..programme.services import list_districts
from ..signups.places import confirmed_counts, free_places
from . import services
from .forms import CATEGORY_LABELS, WEEKDAY_LABELS, ActivityForm, PatternForm, ReasonForm, SessionMoveForm, TagForm
from .models import Activity, ActivityStatus, SessionPattern
from .views import bp

institution_link("activities.institution_activities", _l("Tilbud"), order=20)

STATUS_LABELS = {
    ActivityStatus.DRAFT: _l("Kladde"),
    ActivityStatus.PUBLISHED: _l("Offentliggjort"),
    ActivityStatus.CANCELLED: _l("Aflyst"),
}


def _aware(value: datetime | None) -> datetime | None:
    """A datetime-local form value is Copenhagen wall-clock time."""
    return value.replace(tzinfo=LOCAL_TZ) if value is not None else None


def _submit(form, action, message: str, target, problems=None):
    """Validate ``form`` and run ``action``; commit, flash and redirect to ``target(result)``.

    A refusal goes next to its field and the form is shown again (None is returned). When the
    form itself refuses, ``problems()`` (the service's own check) adds what else is wrong, so
    one submit shows every error.
    """
    if not form.validate_on_submit():
        if form.is_submitted() and problems is not None:
            for problem in problems():
                show_refusal(form, problem, unless_shown=True)
        return None
    with saved_or_refused(form) as saved:
        result = action()
    if not saved.ok:
        return None
    flash(message, "success")
    warning = services.tag_warning(result) if isinstance(result, Activity) else None
    if warning:
        flash(warning, "warning")
    return redirect(target(result))


def _to_manage(activity_id: int):
    return lambda _result: url_for("activities.manage", activity_id=activity_id)


def _activity_form(institution, activity=None) -> ActivityForm:
    form = ActivityForm(obj=activity)
    form.district_id.choices = options((d.id, f"{d.name} (distrikt {d.code})") for d in list_districts())
    if activity is None and not form.is_submitted():
        form.district_id.data = institution.district_id
        form.address.data = institution.address
        form.min_age.data, form.max_age.data = 13, 17
    if activity is not None and not form.is_submitted():
        form.drop_in_only.data = not activity.requires_signup
        form.category.data = activity.category.value
        form.signup_opens_at.data = to_local(activity.signup_opens_at).replace(tzinfo=None) if activity.signup_opens_at else None
        form.signup_closes_at.data = (to_local(activity.signup_closes_at).replace(tzinfo=None)
                                      if activity.signup_closes_at else None)
    return form


def _activity_fields(form: ActivityForm) -> dict:
    return dict(
        title=form.title.data, description=form.description.data, category=form.category.data,
        min_age=form.min_age.data, max_age=form.max_age.data, address=form.address.data, room=form.room.data,
        district_id=form.district_id.data, requires_signup=not form.drop_in_only.data, capacity=form.capacity.data,
        waitlist_enabled=form.waitlist_enabled.data, allows_drop_in=form.allows_drop_in.data,
        signup_opens_at=_aware(form.signup_opens_at.data), signup_closes_at=_aware(form.signup_closes_at.data),
    )


@bp.route("/institutions/<int:institution_id>/activities")
@login_required
def institution_activities(institution_id: int):
    """An institution's offers in every state, for its staff."""
    institution = get_institution_or_403(institution_id)
    activities = services.institution_activities(institution)
    counts = confirmed_counts([a.id for a in activities])
    return render_template("activities/institution_activities.html", institution=institution, activities=activities,
                           counts=counts, status_labels=STATUS_LABELS, category_labels=CATEGORY_LABELS)


@bp.route("/institutions/<int:institution_id>/activities/new", methods=["GET", "POST"])
@require(is_staff_or_coordinator)
def activity_new(institution_id: int):
    """Create an offer (a draft until it is published)."""
    institution = get_institution_or_403(institution_id)
    form = _activity_form(institution)
    done = _submit(form, lambda: services.create_activity(institution, created_by=current_user, **_activity_fields(form)),
                   _("Tilbuddet er oprettet. Tilføj nu mødegange."),
                   lambda activity: url_for("activities.pattern_new", activity_id=activity.id),
                   problems=lambda: services.activity_problems(_activity_fields(form)))
    return done or render_template("activities/activity_form.html", form=form, institution=institution, activity=None)


@bp.route("/activities/<int:activity_id>/manage")
@login_required
def manage(activity_id: int):
    """An offer as staff see it: state, sessions, patterns, tags."""
    activity = get_activity_or_403(activity_id)
    return render_template(
        "activities/manage.html", activity=activity, sessions=services.activity_sessions(activity),
        confirmed=confirmed_counts([activity.id])[activity.id], free=free_places(activity), status_labels=STATUS_LABELS,
        category_labels=CATEGORY_LABELS, weekday_labels=WEEKDAY_LABELS, ActivityStatus=ActivityStatus,
        can_tag=is_coordinator(current_user), tag_warning=services.tag_warning(activity),
    )


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@require(is_staff_or_coordinator)
def activity_edit(activity_id: int):
    """Change an offer's details."""
    activity = get_activity_or_403(activity_id)
    form = _activity_form(activity.institution, activity)
    done = _submit(form, lambda: services.update_activity(activity, **_activity_fields(form)), _("Tilbuddet er gemt."),
                   _to_manage(activity.id), problems=lambda: services.activity_problems(_activity_fields(form)))
    return done or render_template("activities/activity_form.html", form=form, institution=activity.institution,
                                   activity=activity)


def _state_change(activity_id: int, service, message: str):
    activity = get_activity_or_403(activity_id)
    with saved_or_refused(success=message):
        service(activity)
    return redirect(url_for("activities.manage", activity_id=activity.id))


@bp.route("/activities/<int:activity_id>/publish", methods=["POST"])
@require(is_staff_or_coordinator)
def activity_publish(activity_id: int):
    """Put the offer in the public catalogue."""
    return _state_change(activity_id, services.publish_activity, _("Tilbuddet er offentliggjort."))


@bp.route("/activities/<int:activity_id>/unpublish", methods=["POST"])
@require(is_staff_or_coordinator)
def activity_unpublish(activity_id: int):
    """Take the offer out of the catalogue."""
    return _state_change(activity_id, services.unpublish_activity, _("Tilbuddet er ikke længere offentligt."))


@bp.route("/activities/<int:activity_id>/restore", methods=["POST"])
@require(is_staff_or_coordinator)
def activity_restore(activity_id: int):
    """Undo the offer's cancellation."""
    return _state_change(activity_id, services.restore_activity, _("Aflysningen er fortrudt."))


@bp.route("/activities/<int:activity_id>/cancel", methods=["GET", "POST"])
@require(is_staff_or_coordinator)
def activity_cancel(activity_id: int):
    """Cancel the whole offer with a reason."""
    activity = get_activity_or_403(activity_id)
    form = ReasonForm()
    done = _submit(form, lambda: services.cancel_activity(activity, form.reason.data), _("Tilbuddet er aflyst."),
                   _to_manage(activity.id))
    return done or render_template("activities/reason_form.html", form=form, activity=activity,
                                   heading=_("Aflys %(title)s", title=activity.title),
                                   hint=_("Alle kommende mødegange aflyses. De tilmeldte unge ser begrundelsen."),
                                   submit=_("Aflys tilbuddet"))


@bp.route("/activities/<int:activity_id>/tags", methods=["GET", "POST"])
@require(is_coordinator)
def activity_tags(activity_id: int):
    """Coordinators tag an offer with focus areas and action-plan initiatives."""
    from ..programme.models import ActionPlan, FocusArea, Initiative

    activity = get_activity_or_403(activity_id)
    form = TagForm()
    form.focus_areas.choices = options((a.id, a.label) for a in
                                      db.session.scalars(select(FocusArea).order_by(FocusArea.number)))
    initiatives = db.session.scalars(
        select(Initiative).join(ActionPlan).order_by(ActionPlan.year.desc(), ActionPlan.district_id, Initiative.id)
    ).all()
    form.initiatives.choices = options(
        (i.id, f"{i.title} ({i.action_plan.district.name} {i.action_plan.year})") for i in initiatives
    )
    if not form.is_submitted():
        form.focus_areas.data = [a.id for a in activity.focus_areas]
        form.initiatives.data = [i.id for i in activity.initiatives]
    done = _submit(form, lambda: services.tag_activity(activity, focus_area_ids=form.focus_areas.data,
                                                         initiative_ids=form.initiatives.data),
                   _("Tilbuddets indsatsområder er gemt."), _to_manage(activity.id))
    return done or render_template("activities/tags.html", form=form, activity=activity)


def _pattern_view(activity, pattern: SessionPattern | None):
    form = PatternForm(obj=pattern)
    if pattern is not None and not form.is_submitted():
        form.skip_dates.data = " ".join(f"{d[8:10]}.{d[5:7]}.{d[0:4]}" for d in pattern.skip_dates or [])
    def fields():
        return dict(weekdays=form.weekdays.data, start_time=form.start_time.data, end_time=form.end_time.data,
                    starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                    skip_dates=getattr(form, "parsed_skip_dates", []))

    done = _submit(form, lambda: services.save_pattern(activity, pattern=pattern, **fields()),
                   _("Mødegangene er gemt."), _to_manage(activity.id),
                   problems=lambda: services.pattern_problems(activity, **fields()))
    return done or render_template("activities/pattern_form.html", form=form, activity=activity, pattern=pattern)


@bp.route("/activities/<int:activity_id>/patterns/new", methods=["GET", "POST"])
@require(is_staff_or_coordinator)
def pattern_new(activity_id: int):
    """Add weekly sessions (or a single one) to an offer."""
    return _pattern_view(get_activity_or_403(activity_id), None)


@bp.route("/activities/<int:activity_id>/patterns/<int:pattern_id>/edit", methods=["GET", "POST"])
@require(is_staff_or_coordinator)
def pattern_edit(activity_id: int, pattern_id: int):
    """Change a weekly pattern; its sessions follow, but sessions with attendance stay."""
    activity = get_activity_or_403(activity_id)
    pattern = db.session.get(SessionPattern, pattern_id)
    if pattern is None or pattern.activity_id != activity.id:
        abort(404)
    return _pattern_view(activity, pattern)


@bp.route("/sessions/<int:session_id>/move", methods=["GET", "POST"])
@require(is_staff_or_coordinator)
def session_move(session_id: int):
    """Move one session to another day or time, with a reason."""
    session = get_session_or_403(session_id)
    form = SessionMoveForm()
    if not form.is_submitted():
        local = to_local(session.starts_at)
        form.day.data, form.start_time.data = local.date(), local.time().replace(tzinfo=None)
        form.end_time.data = to_local(session.ends_at).time().replace(tzinfo=None)
        form.reason.data = session.cancel_reason
    done = _submit(form, lambda: services.move_session(
                       session, *services.session_times(form.day.data, form.start_time.data, form.end_time.data),
                       reason=form.reason.data or "", door_staff=works_at(current_user, session.activity.institution_id)),
                   _("Mødegangen er flyttet."), _to_manage(session.activity_id))
    return done or render_template("activities/session_move.html", form=form, session=session, activity=session.activity)


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@require(is_staff_or_coordinator)
def session_cancel(session_id: int):
    """Cancel one session with a reason the signed-up young people see."""
    session = get_session_or_403(session_id)
    form = ReasonForm()
    done = _submit(form, lambda: services.cancel_session(session, form.reason.data), _("Mødegangen er aflyst."),
                   _to_manage(session.activity_id))
    return done or render_template("activities/reason_form.html", form=form, activity=session.activity, session=session,
                                   heading=_("Aflys mødegangen %(day)s", day=to_local(session.starts_at).strftime("%d.%m.%Y")),
                                   hint=_("De tilmeldte unge ser begrundelsen."), submit=_("Aflys mødegangen"))


@bp.route("/sessions/<int:session_id>/restore", methods=["POST"])
@require(is_staff_or_coordinator)
def session_restore(session_id: int):
    """Undo a session's cancellation."""
    session = get_session_or_403(session_id)
    with saved_or_refused(success=_("Mødegangen gennemføres alligevel.")):
        services.restore_session(session)
    return redirect(url_for("activities.manage", activity_id=session.activity_id))
