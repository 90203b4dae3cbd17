"""Programme rules: institutions, districts and the current programme."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record_event
from ..errors import DomainError
from ..extensions import db
from .models import District, Institution, InstitutionKind, Programme


class ProgrammeError(DomainError):
    pass


def current_programme() -> Programme | None:
    return db.session.scalar(select(Programme).order_by(Programme.starts_on.desc()).limit(1))


def list_districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.code)))


def save_institution(
    institution: Institution | None, *, name: str, kind: str, district_id: int, address: str | None
) -> Institution:
    """Create or update an institution."""
    if db.session.get(District, district_id) is None:
        raise ProgrammeError(_("Vælg et distrikt."), "unknown_district")
    created = institution is None
    if institution is None:
        institution = Institution()
        db.session.add(institution)
    institution.name = name.strip()
    institution.kind = InstitutionKind(kind)
    institution.district_id = district_id
    institution.address = (address or "").strip() or None
    db.session.flush()
    record_event("institution.create" if created else "institution.update", institution)
    return institution
