"""Helpers shared by the forms of every domain."""
from __future__ import annotations

from contextlib import contextmanager

from wtforms.fields.choices import SelectChoice

from .errors import DomainError
from .extensions import db


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
def saved_or_refused(form, *, default=None, fields=None):
    """Around a submitted form's service call: commit what it did, or, when a rule refuses it,
    undo it and show the refusal on the form (``show_refusal``). Check ``outcome.ok`` after.

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
        show_refusal(form, err, default=default, fields=fields)
    else:
        db.session.commit()
        outcome.ok = True
