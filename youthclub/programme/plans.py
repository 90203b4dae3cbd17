"""Action plans and their initiatives with targets: the rules coordinators work under."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record_event
from ..extensions import db
from .models import ActionPlan, District, FocusArea, Initiative
from .services import ProgrammeError


def list_plans() -> list[ActionPlan]:
    return list(db.session.scalars(select(ActionPlan).join(District).order_by(ActionPlan.year.desc(), District.code)))


def save_plan(plan: ActionPlan | None, *, district_id: int, year: int, title: str | None) -> ActionPlan:
    """Create or update a district's action plan for a year (one per district and year)."""
    if db.session.get(District, district_id) is None:
        raise ProgrammeError(_("Vælg et distrikt."), "unknown_district")
    if not 2000 <= year <= 2100:
        raise ProgrammeError(_("Året skal ligge mellem 2000 og 2100."), "bad_year")
    clash = db.session.scalar(select(ActionPlan).where(ActionPlan.district_id == district_id, ActionPlan.year == year))
    if clash is not None and clash is not plan:
        raise ProgrammeError(_("Distriktet har allerede en handlingsplan for det år."), "plan_exists")
    created = plan is None
    if plan is None:
        plan = ActionPlan()
        db.session.add(plan)
    plan.district_id = district_id
    plan.year = year
    plan.title = (title or "").strip() or None
    db.session.flush()
    record_event("action_plan.create" if created else "action_plan.update", plan)
    return plan


def save_initiative(
    initiative: Initiative | None, plan: ActionPlan, *, focus_area_id: int, title: str, description: str | None,
    target_unique_youths: int | None, target_visits: int | None,
) -> Initiative:
    """Create or update an initiative of ``plan`` with its optional targets."""
    if db.session.get(FocusArea, focus_area_id) is None:
        raise ProgrammeError(_("Vælg et indsatsområde."), "unknown_focus_area")
    for target in (target_unique_youths, target_visits):
        if target is not None and target < 0:
            raise ProgrammeError(_("Et mål kan ikke være negativt."), "bad_target")
    created = initiative is None
    if initiative is None:
        initiative = Initiative(action_plan=plan)
        db.session.add(initiative)
    initiative.focus_area_id = focus_area_id
    initiative.title = title.strip()
    initiative.description = (description or "").strip() or None
    initiative.target_unique_youths = target_unique_youths
    initiative.target_visits = target_visits
    db.session.flush()
    record_event("initiative.create" if created else "initiative.update", initiative)
    return initiative


def delete_initiative(initiative: Initiative) -> None:
    """Remove an initiative; offers tagged with it lose the tag (the link rows cascade)."""
    record_event("initiative.delete", initiative, title=initiative.title)
    db.session.delete(initiative)
    db.session.flush()
