from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional


class SignupForm(FlaskForm):
    """Sign up, leave the waitlist or cancel: the CSRF token and where to go back to."""

    next = HiddenField()


class StaffCancelForm(FlaskForm):
    reason = StringField(
        _l("Begrundelse (vises for den unge)"), validators=[Optional(), Length(max=300)],
        description=_l("Skriv om tilmeldingen, aldrig om personen."),
    )
