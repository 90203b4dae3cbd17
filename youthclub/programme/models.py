"""The programme and its geography: districts, focus areas, action plans, initiatives, institutions."""
from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Choice, UTCDateTime, utcnow
from ..extensions import Model


class Programme(Model):
    """An area-based programme such as Hotspot Nørrebro."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    districts: Mapped[list[District]] = relationship(back_populates="programme", order_by="District.code")

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class District(Model):
    """A police district ("distrikt") that is one hotspot."""

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    #: the police district number, e.g. "8" or "12"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    #: e.g. "inkl. rode 157"
    note: Mapped[str | None] = mapped_column(String(200))

    programme: Mapped[Programme] = relationship(back_populates="districts")

    def __str__(self) -> str:
        return self.name


#: the three focus areas as the action plans name them; marked here so the catalogue has their English
FOCUS_AREA_TITLES = (
    _l("Styrket samordning af den kriminalpræventive indsats"),
    _l("Børn og unge med uroskabende adfærd og inklusion"),
    _l("Sammenhængskraft i lokalområdet"),
)


class FocusArea(Model):
    """One of the three focus areas ("indsatsområder") every action plan has."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 1, 2 or 3 as numbered in the action plans; 2 is children and young people
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200))

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        """The title in the reader's language: the plans' own three have English, any other stays as written."""
        return gettext(self.title) if self.title else self.title

    @property
    def label(self) -> str:
        """"2. Børn og unge …": the number and the title, as lists and menus show a focus area."""
        return f"{self.number}. {self.display_title}"


class ActionPlan(Model):
    """A district's annual action plan ("handlingsplan")."""

    __table_args__ = (UniqueConstraint("district_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(200))

    district: Mapped[District] = relationship()
    initiatives: Mapped[list[Initiative]] = relationship(
        back_populates="action_plan", order_by="Initiative.id", cascade="all, delete-orphan"
    )


class Initiative(Model):
    """A concrete initiative of an action plan under one focus area."""

    id: Mapped[int] = mapped_column(primary_key=True)
    action_plan_id: Mapped[int] = mapped_column(ForeignKey("action_plan.id"), index=True)
    focus_area_id: Mapped[int] = mapped_column(ForeignKey("focus_area.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    #: optional targets the plan sets for the year
    target_unique_youths: Mapped[int | None] = mapped_column(Integer)
    target_visits: Mapped[int | None] = mapped_column(Integer)

    action_plan: Mapped[ActionPlan] = relationship(back_populates="initiatives")
    focus_area: Mapped[FocusArea] = relationship()

    def __str__(self) -> str:
        return self.title


class InstitutionKind(enum.StrEnum):
    FRITIDSKLUB = "fritidsklub"
    UNGDOMSKLUB = "ungdomsklub"
    SKOLE = "skole"
    FORENING = "forening"
    BIBLIOTEK = "bibliotek"
    BOLIGSOCIAL = "boligsocial"
    ANDET = "andet"


class Institution(Model):
    """A local institution that lists offers: a club, school, association, library …"""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[InstitutionKind] = mapped_column(Choice(InstitutionKind))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    district: Mapped[District] = relationship()

    def __str__(self) -> str:
        return self.name
