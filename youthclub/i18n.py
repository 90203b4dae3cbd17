"""Language and time: Danish by default, English on request, times shown in Europe/Copenhagen.

Each domain keeps its own English catalogue in ``<domain>/translations`` (message ids
are the Danish texts); Flask-Babel merges the catalogues.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, session
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

PACKAGE = Path(__file__).resolve().parent
LOCAL_TZ = ZoneInfo("Europe/Copenhagen")


def translation_directories() -> list[str]:
    """Every ``translations`` folder in the package (the shared one and one per domain)."""
    dirs = [PACKAGE / "translations"] + sorted(p for p in PACKAGE.glob("*/translations") if p.is_dir())
    return [str(d) for d in dirs]


def select_locale() -> str:
    if not has_request_context():  # the command line: services' messages in the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    if getattr(current_user, "is_authenticated", False) and current_user.locale in current_app.config["LANGUAGES"]:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def local_now() -> datetime:
    return datetime.now(LOCAL_TZ)


def local_today() -> date:
    return local_now().date()


def to_local(dt: datetime) -> datetime:
    return dt.astimezone(LOCAL_TZ)


def to_utc(day: date, at: time) -> datetime:
    """A wall-clock time in Copenhagen on ``day`` as UTC (DST-correct)."""
    return datetime.combine(day, at, tzinfo=LOCAL_TZ).astimezone(UTC)


def fmt_date(value) -> str:
    """dd.mm.yyyy"""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "dd.MM.yyyy")
    return value.strftime("%d.%m.%Y")


def fmt_time(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "HH:mm")
    return value.strftime("%H:%M")


def fmt_datetime(value) -> str:
    if value is None:
        return ""
    return format_datetime(value, "dd.MM.yyyy HH:mm")


def fmt_weekday(value) -> str:
    """The weekday's name in the current language (mandag / Monday)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "EEEE")
    return format_date(value, "EEEE")


def fmt_day(value) -> str:
    """e.g. "tirsdag 03.11." — for session lists."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "EEEE dd.MM.")
    return format_date(value, "EEEE dd.MM.")


def init_app(app) -> None:
    app.jinja_env.filters.update(
        date=fmt_date, time=fmt_time, datetime=fmt_datetime, weekday=fmt_weekday, day=fmt_day
    )

    @app.context_processor
    def _locale():
        return {"current_locale": str(get_locale() or "da")}
