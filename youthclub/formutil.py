"""Helpers shared by the forms of every domain."""
from __future__ import annotations

from contextlib import contextmanager

from flask import flash
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, ValidationError

from .database import MAX_COUNT
from .errors import DomainError
from .extensions import db

#: the years a date in the programme may fall in (the database and the time zones are sure of them)
FIRST_YEAR, LAST_YEAR = 2000, 2100


class PlausibleDate:
    """A date between FIRST_YEAR and LAST_YEAR: year 1 or 9999 is a typing error, not a plan."""

    def __call__(self, form, field):
        if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
            raise ValidationError(str(_l("Datoen skal ligge mellem år %(first)d og %(last)d.",
                                         first=FIRST_YEAR, last=LAST_YEAR)))


def count_range(minimum: int = 0) -> NumberRange:
    """A count between ``minimum`` and MAX_COUNT, with a Danish message."""
    return NumberRange(min=minimum, max=MAX_COUNT,
                       message=_l("Skriv et tal mellem %(min)s og %(max)s.", min=minimum, max=MAX_COUNT))


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def show_refusal(form, err: DomainError, *, default=None, fields=None, unless_shown=False) -> None:
    """Show a service's refusal on ``form``: next to the field it is about, or above the form.

    An error that holds several refusals (``err.problems``) shows each of them. The field is
    ``fields[code]``, else the one the error names (``err.field``), else ``default``. With
    ``unless_shown``, a field that already shows an error (the form's own) keeps only that one.
    """
    for problem in getattr(err, "problems", None) or [err]:
        field = (fields or {}).get(problem.code)
        if field is None and getattr(problem, "field", None):
            field = getattr(form, problem.field, None)
        if field is None:
            field = default
        if field is None:
            form.form_errors.append(problem.message)
        elif not (unless_shown and field.errors):
            field.errors = [*field.errors, problem.message]
    form._errors = None  # WTForms caches form.errors


class Outcome:
    """Whether the service call inside ``saved_or_refused`` was committed."""

    ok = False


@contextmanager
def saved_or_refused(form=None, *, default=None, fields=None, success=None):
    """Around a service call: commit what it did, or, when a rule refuses it, undo it and show the
    refusal on ``form`` (``show_refusal``), or without a form as a flashed message (a button's
    POST that redirects). ``success`` is flashed once committed. Check ``outcome.ok`` after.

        with saved_or_refused(form, default=form.year) as saved:
            plan = plans.save_plan(...)
        if saved.ok:
            return redirect(...)
    """
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as err:
        db.session.rollback()
        if form is None:
            flash(err.message, "error")
        else:
            show_refusal(form, err, default=default, fields=fields)
    else:
        db.session.commit()
        outcome.ok = True
        if success:
            flash(success, "success")
