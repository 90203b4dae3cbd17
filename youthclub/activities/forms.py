from __future__ import annotations

from datetime import date

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..formutil import PlausibleDate, options
from .models import Category

CATEGORY_LABELS = {
    Category.SPORT: _l("Sport"),
    Category.KREATIV: _l("Kreativ"),
    Category.MUSIK: _l("Musik"),
    Category.GAMING: _l("Gaming"),
    Category.LEKTIEHJAELP: _l("Lektiehjælp"),
    Category.JOB: _l("Job og uddannelse"),
    Category.TURE: _l("Ture og oplevelser"),
    Category.ANDET: _l("Andet"),
}

WEEKDAY_LABELS = [
    _l("mandag"), _l("tirsdag"), _l("onsdag"), _l("torsdag"), _l("fredag"), _l("lørdag"), _l("søndag"),
]

NUMBER_MESSAGE = _l("Skriv et helt tal.")
DATE_MESSAGE = _l("Skriv en gyldig dato.")
TIME_MESSAGE = _l("Skriv et gyldigt tidspunkt (tt:mm).")


CHOICE_MESSAGE = _l("Vælg en af mulighederne.")


class _DanishParse(wtforms.Field):
    """WTForms has no Danish catalogue: say in Danish when a value cannot be read."""

    parse_message = NUMBER_MESSAGE

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(self.parse_message)) from None


class _DanishChoice(wtforms.Field):
    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(str(CHOICE_MESSAGE)) from None


class IntegerField(_DanishParse, wtforms.IntegerField):
    parse_message = NUMBER_MESSAGE


class DateField(_DanishParse, wtforms.DateField):
    parse_message = DATE_MESSAGE


class TimeField(_DanishParse, wtforms.TimeField):
    parse_message = TIME_MESSAGE


class DateTimeLocalField(_DanishParse, wtforms.DateTimeLocalField):
    parse_message = _l("Skriv dato og tidspunkt.")


class SelectField(_DanishChoice, wtforms.SelectField):
    pass


class MultiCheckboxField(_DanishParse, _DanishChoice, SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
    parse_message = CHOICE_MESSAGE


class ActivityForm(FlaskForm):
    title = StringField(_l("Titel"), validators=[DataRequired(_l("Skriv en titel.")), Length(max=200)])
    description = TextAreaField(_l("Beskrivelse"), validators=[Optional(), Length(max=5000)])
    category = SelectField(_l("Kategori"), choices=options((c.value, label) for c, label in CATEGORY_LABELS.items()))
    min_age = IntegerField(_l("Fra alder"), validators=[InputRequired(NUMBER_MESSAGE)])
    max_age = IntegerField(_l("Til alder"), validators=[InputRequired(NUMBER_MESSAGE)])
    address = StringField(_l("Adresse"), validators=[Optional(), Length(max=300)])
    room = StringField(_l("Lokale"), validators=[Optional(), Length(max=120)])
    district_id = SelectField(_l("Distrikt"), coerce=int, choices=[])
    drop_in_only = BooleanField(_l("Drop-in uden tilmelding"))
    capacity = IntegerField(_l("Antal pladser"), validators=[Optional()])
    waitlist_enabled = BooleanField(_l("Venteliste, når der er fuldt"), default=True)
    allows_drop_in = BooleanField(_l("Unge uden tilmelding må også komme (drop-in)"), default=False)
    signup_opens_at = DateTimeLocalField(_l("Tilmelding åbner"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    signup_closes_at = DateTimeLocalField(_l("Tilmelding lukker"), format="%Y-%m-%dT%H:%M", validators=[Optional()])


def parse_dates(text: str) -> list[date]:
    """Dates written as dd.mm.yyyy or yyyy-mm-dd, separated by commas, spaces or lines."""
    days = []
    for part in (text or "").replace(",", " ").replace(";", " ").split():
        try:
            if "." in part:
                d, m, y = part.split(".")
                days.append(date(int(y), int(m), int(d)))
            else:
                days.append(date.fromisoformat(part))
        except ValueError:
            raise ValidationError(_l("Ukendt dato: %(text)s. Skriv datoer som dd.mm.åååå.", text=part)) from None
    return days


class PatternForm(FlaskForm):
    weekdays = MultiCheckboxField(_l("Ugedage"), coerce=int, choices=options(enumerate(WEEKDAY_LABELS)))
    start_time = TimeField(_l("Starter kl."), validators=[InputRequired(TIME_MESSAGE)])
    end_time = TimeField(_l("Slutter kl."), validators=[InputRequired(TIME_MESSAGE)])
    starts_on = DateField(_l("Første dato"), validators=[InputRequired(DATE_MESSAGE), PlausibleDate()])
    ends_on = DateField(_l("Sidste dato"), validators=[Optional(), PlausibleDate()])
    skip_dates = TextAreaField(_l("Datoer der springes over"), validators=[Optional(), Length(max=4000)])

    def validate_skip_dates(self, field):
        self.parsed_skip_dates = parse_dates(field.data)


class SessionMoveForm(FlaskForm):
    day = DateField(_l("Dato"), validators=[InputRequired(DATE_MESSAGE), PlausibleDate()])
    start_time = TimeField(_l("Starter kl."), validators=[InputRequired(TIME_MESSAGE)])
    end_time = TimeField(_l("Slutter kl."), validators=[InputRequired(TIME_MESSAGE)])
    reason = StringField(_l("Begrundelse"), validators=[Optional(), Length(max=300)])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Begrundelse"), validators=[DataRequired(_l("Skriv en begrundelse.")), Length(max=300)])


class TagForm(FlaskForm):
    focus_areas = MultiCheckboxField(_l("Indsatsområder"), coerce=int, choices=[])
    initiatives = MultiCheckboxField(_l("Initiativer i handlingsplanerne"), coerce=int, choices=[])


class CatalogueForm(FlaskForm):
    """The catalogue's filters (a GET form: no CSRF, links can be shared)."""

    class Meta:
        csrf = False

    q = StringField(_l("Søg"), validators=[Optional(), Length(max=100)])
    age = IntegerField(_l("Alder"), validators=[Optional()])
    weekday = SelectField(_l("Ugedag"), choices=[])
    district = SelectField(_l("Område"), choices=[])
    category = SelectField(_l("Kategori"), choices=[])
    free = BooleanField(_l("Kun med ledige pladser"))
    drop_in = BooleanField(_l("Drop-in"))
