from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from .models import Role

ROLE_LABELS = {
    Role.STAFF: _l("Medarbejder"),
    Role.INSTITUTION_ADMIN: _l("Institutionsleder"),
    Role.COORDINATOR: _l("Koordinator"),
    Role.ADMIN: _l("Administrator"),
}


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "email"})
    password = PasswordField(_l("Adgangskode"), validators=[DataRequired(), Length(max=128)], render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Forbliv logget ind på denne enhed"))
    next = HiddenField()


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Nuværende adgangskode"), validators=[DataRequired(), Length(max=128)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("Ny adgangskode"), validators=[DataRequired(), Length(max=128)], render_kw={"autocomplete": "new-password"})


class UserCreateForm(FlaskForm):
    name = StringField(_l("Navn"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField(_l("Adgangskode"), validators=[Optional(), Length(max=128)])
    role = SelectField(_l("Rolle"), choices=[])
    institution_id = SelectField(_l("Institution"), coerce=int, validators=[Optional()], choices=[])


class RoleForm(FlaskForm):
    role = SelectField(_l("Rolle"), choices=[])
    institution_id = SelectField(_l("Institution"), coerce=int, validators=[Optional()], choices=[])


class StaffCreateForm(FlaskForm):
    name = StringField(_l("Navn"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    role = SelectField(_l("Rolle"), choices=[])


class InvitationAcceptForm(FlaskForm):
    """Accepting an invitation to an address without a login: a name and the password only its owner knows."""

    name = StringField(_l("Dit navn"), validators=[DataRequired(), Length(max=120)], render_kw={"autocomplete": "name"})
    password = PasswordField(_l("Vælg en adgangskode"), validators=[DataRequired(), Length(max=128)],
                             render_kw={"autocomplete": "new-password"})


class SimpleForm(FlaskForm):
    """A form with nothing but the CSRF token, for buttons that change state."""
