"""Institutions: coordinators manage them; staff see their own."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from ..accounts.access import get_institution_or_403, is_coordinator, require
from ..extensions import db
from ..formutil import options, saved_or_refused
from ..nav import nav_item, start_page
from . import services
from .forms import KIND_LABELS, InstitutionForm
from .models import Institution

bp = Blueprint("programme", __name__)


def _first_institution(user):
    ids = sorted(user.institution_ids())
    return {"institution_id": ids[0]} if ids else None


nav_item("programme.institutions", _l("Institutioner"), is_coordinator, order=40)
nav_item(
    "programme.institution",
    _l("Min institution"),
    lambda u: u.is_authenticated and not u.is_programme_wide and u.is_staff_member,
    order=40,
    values=_first_institution,
)
start_page("programme.institutions", is_coordinator, priority=20)
start_page(
    "programme.institution",
    lambda u: u.is_authenticated and u.is_staff_member,
    priority=15,
    values=_first_institution,
)


@bp.route("/institutions")
@require(is_coordinator)
def institutions():
    """Every institution in the programme."""
    rows = db.session.scalars(select(Institution).order_by(Institution.name)).all()
    return render_template("programme/institutions.html", institutions=rows, kind_labels=KIND_LABELS)


def _form(institution=None) -> InstitutionForm:
    form = InstitutionForm(obj=institution)
    form.district_id.choices = options((d.id, f"{d.name} (distrikt {d.code})") for d in services.list_districts())
    return form


@bp.route("/institutions/new", methods=["GET", "POST"])
@require(is_coordinator)
def institution_new():
    """Add an institution."""
    form = _form()
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.district_id) as saved:
            institution = services.save_institution(
                None, name=form.name.data, kind=form.kind.data,
                district_id=form.district_id.data, address=form.address.data,
            )
        if saved.ok:
            flash(_("Institutionen er oprettet."), "success")
            return redirect(url_for("programme.institution", institution_id=institution.id))
    return render_template("programme/institution_form.html", form=form, institution=None)


@bp.route("/institutions/<int:institution_id>")
@login_required
def institution(institution_id: int):
    """An institution's page: the start for its staff."""
    institution = get_institution_or_403(institution_id)
    can_manage_staff = current_user.is_admin or current_user.has_role("institution_admin", institution.id)
    return render_template(
        "programme/institution.html",
        institution=institution,
        kind_labels=KIND_LABELS,
        can_manage_staff=can_manage_staff,
    )


@bp.route("/institutions/<int:institution_id>/edit", methods=["GET", "POST"])
@require(is_coordinator)
def institution_edit(institution_id: int):
    """Change an institution's name, kind, district or address."""
    institution = get_institution_or_403(institution_id)
    form = _form(institution)
    if form.validate_on_submit():
        with saved_or_refused(form, default=form.district_id) as saved:
            services.save_institution(
                institution, name=form.name.data, kind=form.kind.data,
                district_id=form.district_id.data, address=form.address.data,
            )
        if saved.ok:
            flash(_("Institutionen er gemt."), "success")
            return redirect(url_for("programme.institution", institution_id=institution.id))
    return render_template("programme/institution_form.html", form=form, institution=institution)
