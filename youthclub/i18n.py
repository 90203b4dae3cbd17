"""Language and time: Danish by default, English on request, times shown in Europe/Copenhagen.

Each domain keeps its own English catalogue in ``<domain>/translations`` (message ids
are the Danish texts); Flask-Babel merges the catalogues.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
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
    if isinstance(lang, str) and lang in current_app.config["LANGUAGES"]:
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


def exists_locally(day: date, at: time) -> bool:
    """Whether a clock in Copenhagen shows ``at`` on ``day`` (not in the hour skipped for summer time)."""
    wall = datetime.combine(day, at, tzinfo=LOCAL_TZ)
    return wall.astimezone(UTC).astimezone(LOCAL_TZ).replace(tzinfo=None) == wall.replace(tzinfo=None)


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


#: WTForms' own messages (English, and with no Danish catalogue of its own), as Danish texts of
#: ours: they go through our catalogues like every other text, so English mode shows English.
#: A singular and its plural share one Danish text ("1 tegn", "5 tegn").
WTFORMS_MESSAGES = {
    "This field is required.": _l("Feltet skal udfyldes."),
    "Invalid email address.": _l("Skriv en gyldig e-mailadresse."),
    "Field must be equal to %(other_name)s.": _l("Feltet skal være det samme som %(other_name)s."),
    "Field must be at least %(min)d character long.": _l("Skriv mindst %(min)d tegn."),
    "Field must be at least %(min)d characters long.": _l("Skriv mindst %(min)d tegn."),
    "Field cannot be longer than %(max)d character.": _l("Skriv højst %(max)d tegn."),
    "Field cannot be longer than %(max)d characters.": _l("Skriv højst %(max)d tegn."),
    "Field must be exactly %(max)d character long.": _l("Skriv præcis %(max)d tegn."),
    "Field must be exactly %(max)d characters long.": _l("Skriv præcis %(max)d tegn."),
    "Field must be between %(min)d and %(max)d characters long.": _l("Skriv mellem %(min)d og %(max)d tegn."),
    "Number must be at least %(min)s.": _l("Tallet skal være mindst %(min)s."),
    "Number must be at most %(max)s.": _l("Tallet må højst være %(max)s."),
    "Number must be between %(min)s and %(max)s.": _l("Tallet skal være mellem %(min)s og %(max)s."),
    "Date must be at least %(min)s.": _l("Datoen skal være %(min)s eller senere."),
    "Date must be at most %(max)s.": _l("Datoen skal være %(max)s eller tidligere."),
    "Date must be between %(min)s and %(max)s.": _l("Datoen skal ligge mellem %(min)s og %(max)s."),
    "Invalid input.": _l("Ugyldig værdi."),
    "Invalid IP address.": _l("Skriv en gyldig IP-adresse."),
    "Invalid Mac address.": _l("Skriv en gyldig MAC-adresse."),
    "Invalid URL.": _l("Skriv en gyldig webadresse."),
    "Invalid UUID.": _l("Skriv et gyldigt UUID."),
    "Invalid value, must be one of: %(values)s.": _l("Ugyldig værdi. Vælg en af: %(values)s."),
    "Invalid value, can't be any of: %(values)s.": _l("Ugyldig værdi. Den må ikke være en af: %(values)s."),
    "This field cannot be edited.": _l("Feltet kan ikke ændres."),
    "This field is disabled and cannot have a value.": _l("Feltet er slået fra og kan ikke have en værdi."),
    "Invalid CSRF Token.": _l("Formularen er udløbet. Indlæs siden igen, og prøv en gang til."),
    "CSRF token missing.": _l("Formularen er udløbet. Indlæs siden igen, og prøv en gang til."),
    "CSRF failed.": _l("Formularen er udløbet. Indlæs siden igen, og prøv en gang til."),
    "CSRF token expired.": _l("Formularen er udløbet. Indlæs siden igen, og prøv en gang til."),
    "Invalid Choice: could not coerce.": _l("Vælg en af mulighederne."),
    "Choices cannot be None.": _l("Vælg en af mulighederne."),
    "Not a valid choice.": _l("Vælg en af mulighederne."),
    "Invalid choice(s): one or more data inputs could not be coerced.": _l("Vælg blandt mulighederne."),
    "'%(value)s' is not a valid choice for this field.": _l("Vælg blandt mulighederne (ikke '%(value)s')."),
    "'%(value)s' are not valid choices for this field.": _l("Vælg blandt mulighederne (ikke '%(value)s')."),
    "Not a valid datetime value.": _l("Skriv en gyldig dato og tid."),
    "Not a valid date value.": _l("Skriv en gyldig dato."),
    "Not a valid time value.": _l("Skriv et gyldigt tidspunkt."),
    "Not a valid week value.": _l("Skriv en gyldig uge."),
    "Not a valid integer value.": _l("Skriv et helt tal."),
    "Not a valid decimal value.": _l("Skriv et tal."),
    "Not a valid float value.": _l("Skriv et tal."),
}


class FormTranslations:
    """WTForms' messages in the request's language, through our catalogues (``WTFORMS_MESSAGES``).

    Flask-WTF asks ``request.wtforms_translations`` first (``flask_wtf.i18n``); ``init_app`` puts
    this there on every request, so every form of every domain speaks Danish without a base class.
    A message not in the table is left as WTForms wrote it (``tests/test_form_messages.py`` finds it).
    """

    def ugettext(self, string: str) -> str:
        text = WTFORMS_MESSAGES.get(string)
        # str() of a lazy text without variables is the bare translation: WTForms fills in %(min)d itself
        return string if text is None else str(text)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return self.ugettext(singular if n == 1 else plural)

    gettext, ngettext = ugettext, ungettext


FORM_TRANSLATIONS = FormTranslations()


def init_app(app) -> None:
    app.jinja_env.filters.update(
        date=fmt_date, time=fmt_time, datetime=fmt_datetime, weekday=fmt_weekday, day=fmt_day
    )

    @app.before_request
    def _form_translations():
        request.wtforms_translations = FORM_TRANSLATIONS  # type: ignore[attr-defined]  # read by flask_wtf.i18n

    @app.context_processor
    def _locale():
        return {"current_locale": str(get_locale() or "da")}
