"""The audit log in words: what each detail of an event means, and a link to its object where the reader may open it.

Details hold ids and codes, never personal data; here the ids become names of institutions,
districts, focus areas and initiatives (never of people), and the codes become words.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..activities.forms import CATEGORY_LABELS
from ..activities.models import Session
from ..extensions import db
from ..programme.models import District, FocusArea, Initiative, Institution
from .labels import object_label
from .services import FREE_TEXT_DETAILS

DETAIL_LABELS = {
    "reason": _l("Begrundelse"), "role": _l("Rolle"), "institution_id": _l("Institution"), "kind": _l("Samtykke til"),
    "youth_id": _l("Ung"), "title": _l("Titel"), "status": _l("Status"), "position": _l("Nummer på ventelisten"),
    "format": _l("Format"), "focus_areas": _l("Indsatsområder"), "initiatives": _l("Initiativer"),
    "filters": _l("Filtre"), "code": _l("Årsag"), "change": _l("Ændring"), "age_band": _l("Aldersgruppe"),
    "gender": _l("Køn"), "delta": _l("Ændring i antal"), "page": _l("Side"), "activity_id": _l("Tilbud"),
    "sessions": _l("Mødegange"), "removed": _l("Fjernede mødegange"), "kept": _l("Beholdte mødegange"),
    "given_by": _l("Givet af"), "anonymised": _l("Anonymiserede unge"), "tokens": _l("Slettede engangslinks"),
    "api_tokens": _l("Slettede API-nøgler"), "outbox": _l("Slettede mails"), "exact": _l("Nøjagtige tal"),
}
FILTER_LABELS = {
    "district_id": _l("distrikt"), "institution_ids": _l("institutioner"), "focus_area_id": _l("indsatsområde"),
    "initiative_id": _l("initiativ"), "category": _l("kategori"), "age_band": _l("aldersgruppe"), "gender": _l("køn"),
}
VALUE_LABELS = {
    "role": {"staff": _l("medarbejder"), "institution_admin": _l("institutionsleder"), "coordinator": _l("koordinator"),
             "admin": _l("administrator")},
    "kind": {"photos": _l("fotos"), "newsletter": _l("nyhedsbrev")},
    "status": {"confirmed": _l("fik plads"), "waitlisted": _l("på venteliste"), "cancelled": _l("afmeldt")},
    "change": {"add": _l("tilføjet"), "remove": _l("fjernet")},
    "given_by": {"self": _l("den unge selv"), "guardian": _l("forælder")},
    "page": {"rollcall": _l("afkrydsningsliste"), "signups": _l("tilmeldingsliste"), "pass_card": _l("adgangskort"),
             "registered": _l("registrerede unge"), "dashboard": _l("statistiksiden"), "action_plan": _l("planrapporten")},
    "age_band": {"u13": _l("under 13"), "13-15": _l("13–15 år"), "16-17": _l("16–17 år"), "18-24": _l("18–24 år")},
    "gender": {"pige": _l("pige"), "dreng": _l("dreng"), "andet": _l("andet"), "uoplyst": _l("ikke oplyst")},
    "format": {"xlsx": _l("Excel"), "csv": _l("CSV"), "json": _l("JSON")},
}




#: objects that are a young person, or one of theirs: a non-admin reader sees what happened, never which one
PERSONAL_OBJECTS = frozenset({"youth_profile", "signup", "attendance", "consent_record", "scan_conflict", "outbox_message"})
#: details that name a young person by id
PERSONAL_DETAILS = frozenset({"youth_id", "removed_youth_id"})


@dataclass
class Detail:
    label: str
    text: str
    url: str | None = None


class Describer:
    """Describes the events of one page for one reader; names are loaded once."""

    def __init__(self, reader):
        self.reader = reader
        self._names: dict = {}

    def _name(self, model, ident, attr="name"):
        cache = self._names.setdefault(model, {})
        if ident not in cache:
            obj = db.session.get(model, ident) if isinstance(ident, int) else None
            cache[ident] = getattr(obj, attr, None) if obj is not None else None
        return cache[ident]

    def _is_youth_user(self, user_id) -> bool:
        """A young person's login, or one that is gone (closed accounts' logins are deleted)."""
        from ..accounts.models import User

        return self._name(User, user_id, "is_youth") is not False

    def unlinked(self, table: str | None, ident) -> bool:
        """Whether the reader sees this object without its number: a young person, or something of theirs.

        A pseudonym ("ung #5") is still one person: the events it ties together are that person's
        trail, and one of them known from elsewhere (a sign-up at a certain minute) names them all.
        Coordinators work with numbers, never people, so for them the log says what happened, not to whom.
        """
        if self.reader.is_admin:
            return False
        return table in PERSONAL_OBJECTS or (table == "user" and self._is_youth_user(ident))

    def actor(self, event) -> str:
        """Who did it: the system, a young person (for a non-admin without a number), or a named user."""
        if event.user is None:
            return str(_l("system"))
        if event.user.is_youth:
            return str(_l("ung")) if not self.reader.is_admin else f"{_l('ung')} #{event.user_id}"
        return f"{event.user.name} (#{event.user_id})"

    def object_url(self, table: str | None, ident: int | None, details: dict) -> str | None:
        """Where the reader can open the event's object; None when there is no page or they may not see it."""
        if ident is None:
            return None
        if table == "activity":
            return url_for("activities.manage", activity_id=ident)
        if table == "session":
            activity_id = db.session.scalar(select(Session.activity_id).where(Session.id == ident))
            return url_for("activities.manage", activity_id=activity_id) if activity_id else None
        if table == "session_pattern" and isinstance(details.get("activity_id"), int):
            return url_for("activities.manage", activity_id=details["activity_id"])
        if table == "institution" and self._name(Institution, ident):
            return url_for("programme.institution", institution_id=ident)
        if table == "action_plan":
            return url_for("programme.plan", plan_id=ident)
        if table == "initiative":
            plan_id = self._name(Initiative, ident, "action_plan_id")
            return url_for("programme.plan", plan_id=plan_id) if plan_id else None
        if table == "user" and self.reader.is_admin:
            return url_for("accounts.user_edit", user_id=ident)
        return None  # young people, sign-ups, tokens: names stay out of the coordinator's reach

    def object_text(self, table: str | None, ident: int | None) -> str:
        if table is None:
            return ""
        if self.unlinked(table, ident):
            return object_label(table)
        name = {"institution": lambda: self._name(Institution, ident),
                "initiative": lambda: self._name(Initiative, ident, "title")}.get(table, lambda: None)()
        if name:
            return f"{object_label(table)} {name}"
        return str(_l("%(object)s nr. %(n)s", object=object_label(table), n=ident))

    def details(self, details) -> list[Detail]:
        if not isinstance(details, dict):
            return []
        out = []
        for key, value in details.items():
            if value is None or value == [] or key == "user":
                continue
            label = str(DETAIL_LABELS.get(key, key.replace("_", " ")))
            if (key in FREE_TEXT_DETAILS or key in PERSONAL_DETAILS) and not self.reader.is_admin:
                out.append(Detail(label, str(_l("(skjult)"))))
            else:
                out.append(Detail(label, *self._value(key, value)))
        return out

    def _value(self, key, value) -> tuple[str, str | None]:
        if key == "institution_id" and isinstance(value, int):
            name = self._name(Institution, value)
            return (name or str(_l("nr. %(n)s", n=value))), (url_for("programme.institution", institution_id=value) if name else None)
        if key == "activity_id" and isinstance(value, int):
            return str(_l("nr. %(n)s", n=value)), url_for("activities.manage", activity_id=value)
        if key == "youth_id":
            return str(_l("nr. %(n)s", n=value)), None
        if key == "focus_areas" and isinstance(value, list):
            return ", ".join(self._name(FocusArea, v, "label") or str(v) for v in value), None
        if key == "initiatives" and isinstance(value, list):
            return ", ".join(self._name(Initiative, v, "title") or str(v) for v in value), None
        if key == "filters" and isinstance(value, dict):
            return self._filters(value), None
        if key in VALUE_LABELS and str(value) in VALUE_LABELS[key]:
            return str(VALUE_LABELS[key][str(value)]), None
        if key == "category" and value in CATEGORY_LABELS:
            return str(CATEGORY_LABELS[value]), None
        return str(value), None

    def _filters(self, filters: dict) -> str:
        parts = []
        if filters.get("from") and filters.get("to"):
            parts.append(str(_l("periode %(start)s–%(end)s", start=_dmy(filters["from"]), end=_dmy(filters["to"]))))
        for key, value in filters.items():
            if value is None or key in ("from", "to") or key not in FILTER_LABELS:
                continue
            if key == "district_id":
                text = self._name(District, value) or str(value)
            elif key == "institution_ids":
                text = ", ".join(self._name(Institution, v) or str(v) for v in value)
            elif key == "focus_area_id":
                text = self._name(FocusArea, value, "label") or str(value)
            elif key == "initiative_id":
                text = self._name(Initiative, value, "title") or str(value)
            else:
                text = self._value(key, value)[0]
            parts.append(f"{FILTER_LABELS[key]}: {text}")
        return "; ".join(parts) if parts else str(_l("ingen"))


def _dmy(iso: str) -> str:
    return f"{iso[8:10]}.{iso[5:7]}.{iso[0:4]}" if isinstance(iso, str) and len(iso) >= 10 else str(iso)
