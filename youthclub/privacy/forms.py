from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..formutil import PlausibleDate


class CloseAccountForm(FlaskForm):
    password = PasswordField(_l("Din adgangskode"), validators=[DataRequired(), Length(max=128)], render_kw={"autocomplete": "current-password"})
    confirm = BooleanField(_l("Ja, luk min konto. Jeg ved, at det ikke kan fortrydes."), validators=[DataRequired()])


class AuditFilterForm(FlaskForm):
    """Filters for the audit log (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    action = SelectField(_l("Handling"), choices=[], validators=[Optional()])
    object_type = SelectField(_l("Type"), choices=[], validators=[Optional()])
    user = StringField(_l("Bruger (e-mail eller nummer)"), validators=[Optional(), Length(max=254)])
    date_from = DateField(_l("Fra dato"), validators=[Optional(), PlausibleDate()])
    date_to = DateField(_l("Til dato"), validators=[Optional(), PlausibleDate()])
