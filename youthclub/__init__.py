"""youthclub: club and activity offers, QR attendance and focus-area reporting for Hotspot Nørrebro."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class=None) -> Flask:
    """Build the app. ``config_class`` defaults to the class named by ``YOUTHCLUB_ENV``."""
    from config import configs

    if config_class is None:
        config_class = configs[os.environ.get("YOUTHCLUB_ENV", "development")]
    validate = getattr(config_class, "validate", None)
    if validate is not None:
        validate()

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=os.environ.get("YOUTHCLUB_INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=True,
    )
    app.config.from_object(config_class)
    from .database import IdConverter

    app.url_map.converters["int"] = IdConverter  # ids beyond the database's range are 404s
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "youthclub.db")

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from . import i18n, jobs, nav
    from .database import configure_engine
    from .extensions import babel, csrf, db, limiter, login_manager, migrate
    from .security import init_app as init_security

    init_security(app)  # headers, session limits, log redaction (before the engine is made)
    db.init_app(app)
    with app.app_context():
        configure_engine(app, db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=";".join(i18n.translation_directories()),
    )
    i18n.init_app(app)
    nav.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    jobs.init_app(app)

    from .accounts import auth

    auth.init_login_manager(login_manager)


def register_blueprints(app: Flask) -> None:
    import importlib
    import pkgutil

    from . import __path__ as package_path

    # a domain may split its views over views.py and views_*.py; all share views.bp
    for info in pkgutil.iter_modules(package_path):
        if info.ispkg:
            sub = importlib.import_module(f"{__name__}.{info.name}")
            for mod in pkgutil.iter_modules(sub.__path__):
                if mod.name.startswith("views_"):
                    importlib.import_module(f"{sub.__name__}.{mod.name}")

    from .accounts.views import bp as accounts_bp
    from .activities.views import bp as activities_bp
    from .api import bp as api_bp
    from .attendance.views import bp as attendance_bp
    from .mail.views import bp as mail_bp
    from .main import bp as main_bp
    from .mfa.views import bp as mfa_bp
    from .privacy.views import bp as privacy_bp
    from .programme.views import bp as programme_bp
    from .reports.views import bp as reports_bp
    from .signups.views import bp as signups_bp

    for bp in (main_bp, accounts_bp, programme_bp, activities_bp, signups_bp, attendance_bp, reports_bp, api_bp, privacy_bp,
               mfa_bp, mail_bp):
        app.register_blueprint(bp)

    from .ops.views import bp as ops_bp  # health, readiness, request logs, proxies

    app.register_blueprint(ops_bp)


def register_errorhandlers(app: Flask) -> None:
    from .main import register_error_pages

    register_error_pages(app)


def register_commands(app: Flask) -> None:
    from .cli import register

    register(app)
