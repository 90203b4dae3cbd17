"""The home page, which sends each role to its start page, and the error pages."""
from __future__ import annotations

import contextlib

from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError, StatementError
from werkzeug.exceptions import HTTPException

from .extensions import db
from .nav import start_url

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    """Logged in: the role's start page. Anonymous: what the app is, and the way in."""
    target = start_url(current_user)
    if target:
        return redirect(target)
    return render_template("main/home.html")


@bp.route("/was")
def accessibility_statement():
    """The accessibility statement: a redirect to the one published in the WAS tool, or where it will be."""
    url = current_app.config.get("ACCESSIBILITY_STATEMENT_URL")
    if url and url.startswith("https://"):
        return redirect(url, code=302)
    return render_template("main/was.html")


def _messages():
    return {
        400: _("Forespørgslen kunne ikke forstås."),
        401: _("Du skal logge ind."),
        403: _("Du har ikke adgang til denne side."),
        404: _("Siden findes ikke."),
        405: _("Den handling er ikke tilladt her."),
        413: _("Det sendte er for stort."),
        429: _("For mange forsøg. Vent lidt, og prøv igen."),
        500: _("Der skete en fejl hos os. Prøv igen om lidt."),
        503: _("Vi kan ikke nå databasen lige nu. Prøv igen om lidt."),
    }


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str | None = None, message: str | None = None, **extra):
    message = message or _messages().get(status, _messages()[500])
    if wants_json():
        body = {"error": {"code": code or _status_code_name(status), "message": message, **extra}}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message), status


def _status_code_name(status: int) -> str:
    return {
        400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
        405: "method_not_allowed", 413: "too_large", 429: "rate_limited", 500: "server_error",
        503: "unavailable",
    }.get(status, "error")


#: seconds a client is asked to wait when the database is away
DATABASE_RETRY_AFTER = 30


#: the 503 page when even choosing the language needs the database (the logged-in user): Danish, the default
_DATABASE_AWAY_DA = "Vi kan ikke nå databasen lige nu. Prøv igen om lidt."


def database_unavailable():
    """The database cannot be reached: 503 with Retry-After, a Danish page (or JSON under /api/)."""
    with contextlib.suppress(DBAPIError):
        db.session.rollback()
    try:
        response, status = error_response(503, "database_unavailable", _messages()[503])
    except DBAPIError:
        if wants_json():
            response = jsonify({"error": {"code": "database_unavailable", "message": _DATABASE_AWAY_DA}})
        else:
            response = ('<!doctype html><html lang="da"><head><meta charset="utf-8"><title>503</title></head>'
                        f"<body><h1>503</h1><p>{_DATABASE_AWAY_DA}</p></body></html>")
        status = 503
    response = make_response(response, status)
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def input_out_of_range():
    """A number or date beyond what the database or the calendar can hold: the caller's mistake, a 400."""
    db.session.rollback()
    return error_response(400, "out_of_range", _("Et tal eller en dato er uden for det tilladte område."))


def register_error_pages(app) -> None:
    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf(err):
        return error_response(400, "csrf_failed", _("Formularen er udløbet. Genindlæs siden, og prøv igen."))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        if status < 400:
            return err
        return error_response(status)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_away(err):
        app.logger.warning("database unreachable on %s %s: %s", request.method, request.url_rule, type(err).__name__)
        return database_unavailable()

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _out_of_range(err):
        # a safety net: forms and filters bound their numbers and dates, this catches any they miss
        app.logger.warning("input out of range on %s %s: %s", request.method, request.url_rule, type(err).__name__)
        return input_out_of_range()

    @app.errorhandler(StatementError)
    def _statement(err: StatementError):
        # the database layer wraps what failed while it bound a value: a time with no UTC is input out of range
        if isinstance(err.orig, OverflowError):
            return _out_of_range(err)
        return _unexpected(err)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.url_rule)
        db.session.rollback()
        return error_response(500)
