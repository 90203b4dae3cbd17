from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..formutil import options
from .models import InstitutionKind

KIND_LABELS = {
    InstitutionKind.FRITIDSKLUB: _l("Fritidsklub"),
    InstitutionKind.UNGDOMSKLUB: _l("Ungdomsklub"),
    InstitutionKind.SKOLE: _l("Skole"),
    InstitutionKind.FORENING: _l("Forening"),
    InstitutionKind.BIBLIOTEK: _l("Bibliotek"),
    InstitutionKind.BOLIGSOCIAL: _l("Boligsocial indsats"),
    InstitutionKind.ANDET: _l("Andet"),
}


class InstitutionForm(FlaskForm):
    name = StringField(_l("Navn"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Type"), choices=options((k.value, v) for k, v in KIND_LABELS.items()))
    district_id = SelectField(_l("Distrikt"), coerce=int, choices=[])
    address = StringField(_l("Adresse"), validators=[Optional(), Length(max=300)])
