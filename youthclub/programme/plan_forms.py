from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..formutil import count_range


class ActionPlanForm(FlaskForm):
    district_id = SelectField(_l("Distrikt"), coerce=int, choices=[])
    year = IntegerField(_l("År"), validators=[DataRequired(), NumberRange(min=2000, max=2100)])
    title = StringField(_l("Titel"), validators=[Optional(), Length(max=200)])


class InitiativeForm(FlaskForm):
    title = StringField(_l("Titel"), validators=[DataRequired(), Length(max=200)])
    focus_area_id = SelectField(_l("Indsatsområde"), coerce=int, choices=[])
    description = TextAreaField(_l("Beskrivelse"), validators=[Optional(), Length(max=4000)])
    target_unique_youths = IntegerField(_l("Mål: unikke unge"), validators=[Optional(), count_range()])
    target_visits = IntegerField(_l("Mål: fremmøder"), validators=[Optional(), count_range()])
