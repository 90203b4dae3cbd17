"""Action plans and initiatives with targets: coordinators manage them."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..accounts.access import is_coordinator, require
from ..extensions import db
from ..formutil import options, saved_or_refused
from ..nav import nav_item
from . import plans, services
from .models import ActionPlan, FocusArea, Initiative
from .plan_forms import ActionPlanForm, InitiativeForm
from .views import bp

nav_item("programme.plans_index", _l("Handlingsplaner"), is_coordinator, order=45)


def _plan_or_404(plan_id: int) -> ActionPlan:
    plan = db.session.get(ActionPlan, plan_id)
    if plan is None:
        abort(404)
    return plan


def _plan_form(plan=None) -> ActionPlanForm:
    form = ActionPlanForm(obj=plan)
    form.district_id.choices = options((d.id, f"{d.name} (distrikt {d.code})") for d in services.list_districts())
    return form


def _initiative_form(initiative=None) -> InitiativeForm:
    form = InitiativeForm(obj=initiative)
    areas = db.session.scalars(select(FocusArea).order_by(FocusArea.number))
    form.focus_area_id.choices = options((a.id, a.label) for a in areas)
    if initiative is None and form.focus_area_id.data is None:
        # focus area 2 is what the programme reports on
        form.focus_area_id.data = next((c.value for c in form.focus_area_id.choices if c.label.startswith("2.")), None)
    return form


@bp.route("/plans")
@require(is_coordinator)
def plans_index():
    """Every district's action plans, newest year first."""
    return render_template("programme/plans.html", plans=plans.list_plans())


@bp.route("/plans/new", methods=["GET", "POST"])
@require(is_coordinator)
def plan_new():
    """Start a district's action plan for a year."""
    form = _plan_form()
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.year) as saved:
            plan = plans.save_plan(None, district_id=form.district_id.data, year=form.year.data, title=form.title.data)
        if saved.ok:
            flash(_("Handlingsplanen er oprettet."), "success")
            return redirect(url_for("programme.plan", plan_id=plan.id))
    return render_template("programme/plan_form.html", form=form, plan=None)


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@require(is_coordinator)
def plan(plan_id: int):
    """A plan: its district, year and title (editable), and its initiatives with targets."""
    plan = _plan_or_404(plan_id)
    form = _plan_form(plan)
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.year) as saved:
            plans.save_plan(plan, district_id=form.district_id.data, year=form.year.data, title=form.title.data)
        if saved.ok:
            flash(_("Handlingsplanen er gemt."), "success")
            return redirect(url_for("programme.plan", plan_id=plan.id))
    initiatives = sorted(plan.initiatives, key=lambda i: (i.focus_area.number != 2, i.focus_area.number, i.title))
    return render_template("programme/plan.html", plan=plan, form=form, initiatives=initiatives)


@bp.route("/plans/<int:plan_id>/initiatives/new", methods=["GET", "POST"])
@require(is_coordinator)
def initiative_new(plan_id: int):
    """Add an initiative with its targets to a plan."""
    plan = _plan_or_404(plan_id)
    form = _initiative_form()
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.title) as saved:
            plans.save_initiative(None, plan, **_initiative_values(form))
        if saved.ok:
            flash(_("Initiativet er oprettet."), "success")
            return redirect(url_for("programme.plan", plan_id=plan.id))
    return render_template("programme/plan_initiative_form.html", form=form, plan=plan, initiative=None)


def _initiative_values(form) -> dict:
    return {
        "focus_area_id": form.focus_area_id.data, "title": form.title.data, "description": form.description.data,
        "target_unique_youths": form.target_unique_youths.data, "target_visits": form.target_visits.data,
    }


@bp.route("/initiatives/<int:initiative_id>/edit", methods=["GET", "POST"])
@require(is_coordinator)
def initiative_edit(initiative_id: int):
    """Change an initiative's title, focus area, description or targets."""
    initiative = db.session.get(Initiative, initiative_id)
    if initiative is None:
        abort(404)
    form = _initiative_form(initiative)
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.title) as saved:
            plans.save_initiative(initiative, initiative.action_plan, **_initiative_values(form))
        if saved.ok:
            flash(_("Initiativet er gemt."), "success")
            return redirect(url_for("programme.plan", plan_id=initiative.action_plan_id))
    return render_template("programme/plan_initiative_form.html", form=form, plan=initiative.action_plan, initiative=initiative)


@bp.route("/initiatives/<int:initiative_id>/delete", methods=["POST"])
@require(is_coordinator)
def initiative_delete(initiative_id: int):
    """Delete an initiative (its tags on offers go with it)."""
    initiative = db.session.get(Initiative, initiative_id)
    if initiative is None:
        abort(404)
    plan_id = initiative.action_plan_id
    plans.delete_initiative(initiative)
    db.session.commit()
    flash(_("Initiativet er slettet."), "success")
    return redirect(url_for("programme.plan", plan_id=plan_id))
