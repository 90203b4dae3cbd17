"""Forms for young people's accounts, staff-made profiles, password reset and consent."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from .models import contact_problem, name_problem

MONTHS = [
    _l("januar"), _l("februar"), _l("marts"), _l("april"), _l("maj"), _l("juni"),
    _l("juli"), _l("august"), _l("september"), _l("oktober"), _l("november"), _l("december"),
]


def _rule(problem):
    """A field validator from one of the models' rules (``contact_problem``, ``name_problem``): its message, in Danish."""

    def validate(_form, field):
        message = problem(field.data)
        if message:
            raise ValidationError(message)

    return validate


def _district_id(value) -> int | None:
    """A district id from the form; None for the empty "Vælg"."""
    return None if value in ("", None) else int(value)


class AboutYouForm(FlaskForm):
    """Step 1 of registration, and the profile staff fill in."""

    first_name = StringField(_l("Fornavn"), validators=[DataRequired(), Length(max=60), _rule(name_problem)])
    last_name = StringField(_l("Efternavn (frivilligt)"), validators=[Optional(), Length(max=60), _rule(name_problem)])
    birth_month = SelectField(_l("Fødselsmåned"), coerce=int, choices=[])
    birth_year = SelectField(_l("Fødselsår"), coerce=int, choices=[])
    gender = SelectField(_l("Køn (frivilligt)"), choices=[])
    #: starts at "Vælg" (None); 0 is "somewhere else", so InputRequired, not DataRequired
    home_district_id = SelectField(_l("Hvor bor du?"), coerce=_district_id, choices=[],
                                   validators=[InputRequired(_l("Vælg, hvor du bor."))])


class StaffYouthForm(AboutYouForm):
    home_district_id = SelectField(_l("Bor i"), coerce=_district_id, choices=[],
                                   validators=[InputRequired(_l("Vælg, hvor den unge bor."))])
    contact = StringField(_l("Telefon eller e-mail (frivilligt)"),
                          validators=[Optional(), Length(max=254), _rule(contact_problem)])
    #: asked only when the young person may be registered already
    create_anyway = BooleanField(_l("Nej, det er en anden person. Opret en ny profil."))


class LoginDetailsForm(FlaskForm):
    """Step 2 of registration: the login."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    password = PasswordField(_l("Vælg en adgangskode"), validators=[DataRequired(), Length(max=128)], render_kw={"autocomplete": "new-password"})
    read_notice = BooleanField(_l("Jeg har læst, hvad I gemmer om mig"), validators=[DataRequired()])


class ClaimForm(FlaskForm):
    code = StringField(_l("Din kode fra klubben"), validators=[DataRequired(), Length(max=20)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    password = PasswordField(_l("Vælg en adgangskode"), validators=[DataRequired(), Length(max=128)], render_kw={"autocomplete": "new-password"})


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
                       render_kw={"autocomplete": "email"})


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("Ny adgangskode"), validators=[DataRequired(), Length(max=128)], render_kw={"autocomplete": "new-password"})


class GuardianRequestForm(FlaskForm):
    kind = SelectField(_l("Hvad"), choices=[])
    guardian_email = EmailField(
        _l("Din forælders e-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )


class ConsentKindForm(FlaskForm):
    kind = SelectField(_l("Hvad"), choices=[])
