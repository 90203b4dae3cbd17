"""Configuration from the environment.

Three classes: Development (the default for ``make run``), Testing and Production.
Every setting a deployment changes is read from an environment variable.
"""
from __future__ import annotations

import json
import os
from datetime import timedelta


def database_url(url: str | None) -> str | None:
    """Normalise a DATABASE_URL so SQLAlchemy uses psycopg 3 for PostgreSQL."""
    if not url:
        return None
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: str = "") -> list[str]:
    """A comma-separated environment variable as a list, without blanks."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    #: None means "a SQLite file in the instance folder" (filled in by create_app)
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = 15000
    #: Row locks / immediate write transactions on capacity and check-in. Only tests
    #: turn this off, to prove that the concurrency tests would catch a race.
    LOCKING_ENABLED = True

    BABEL_DEFAULT_LOCALE = "da"
    BABEL_DEFAULT_TIMEZONE = "Europe/Copenhagen"
    LANGUAGES = ("da", "en")

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    #: idle and absolute limits for staff, coordinator and admin sessions
    STAFF_SESSION_IDLE = timedelta(minutes=30)
    STAFF_SESSION_MAX = timedelta(hours=12)
    #: young people may stay logged in on their own phone
    YOUTH_SESSION_MAX = timedelta(days=int(os.environ.get("YOUTH_SESSION_DAYS", "90")))
    #: days a personal API token works (then a new one is made); the CLI's --days may choose 1–366
    API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))
    #: bearer tokens whose principal each worker keeps while principal_version is unchanged (0: read every time)
    API_PRINCIPAL_CACHE = int(os.environ.get("API_PRINCIPAL_CACHE", "4096"))

    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    #: per-policy overrides of youthclub.ratelimits.DEFAULT_RATELIMITS, e.g.
    #: RATELIMITS='{"checkin": {"ip": "2000 per minute"}}' for a door with many scanners behind one NAT
    RATELIMITS: dict = json.loads(os.environ.get("RATELIMITS") or "{}")

    #: how many reverse proxies (nginx, a load balancer) stand in front of the app and set
    #: X-Forwarded-For/-Proto/-Host/-Port; 0 trusts none of those headers (werkzeug ProxyFix)
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    #: the bearer tokens a Prometheus scraper may send to /metrics: METRICS_TOKEN, comma-separated
    #: while one is rotated out; none, and /metrics answers 404 (docs/monitoring.md)
    METRICS_TOKENS = _list("METRICS_TOKEN")
    #: the job queues whose depth /metrics reports (Redis lists on the broker, CELERY_BROKER_URL or REDIS_URL)
    METRICS_QUEUES = _list("METRICS_QUEUES", "celery")

    SERVER_NAME = os.environ.get("SERVER_NAME")
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    #: absolute base used in e-mailed links, never taken from the Host header
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    #: the accessibility statement ("tilgængelighedserklæring") made in the Agency for Digital
    #: Government's WAS tool (https://www.was.digst.dk/...); /was and every page's footer lead there
    ACCESSIBILITY_STATEMENT_URL = os.environ.get("ACCESSIBILITY_STATEMENT_URL") or None

    MAIL_SERVER = os.environ.get("MAIL_SERVER")  # None: mail goes to the log and the outbox page
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Hotspot Nørrebro <noreply@hotspot.example>")
    #: seconds the app waits for each step of the SMTP conversation (in a worker, not in a request)
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "10"))
    #: attempts at one message before it is given up and shown as failed on the outbox page
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "8"))
    #: the wait after the first failed attempt; it doubles after each one, up to MAIL_RETRY_MAX_SECONDS
    MAIL_RETRY_SECONDS = int(os.environ.get("MAIL_RETRY_SECONDS", "30"))
    MAIL_RETRY_MAX_SECONDS = int(os.environ.get("MAIL_RETRY_MAX_SECONDS", "3600"))
    #: a worker's claim on an outbox message lasts this long; after it, the message is taken
    #: again (its worker died). Keep it well above MAIL_TIMEOUT × the steps of one conversation.
    OUTBOX_LEASE_SECONDS = int(os.environ.get("OUTBOX_LEASE_SECONDS", "300"))
    #: how often the scheduler sends the sweep that delivers whatever is due (default: every minute)
    OUTBOX_SWEEP_SECONDS = os.environ.get("OUTBOX_SWEEP_SECONDS") or None

    #: the job queue's broker (Celery); default REDIS_URL. Without either, jobs run in-process.
    JOBS_BROKER_URL = os.environ.get("JOBS_BROKER_URL")
    #: run jobs in the calling process even with a broker (a one-instance set-up without workers)
    JOBS_IN_PROCESS = _bool("JOBS_IN_PROCESS")
    #: fire every scheduled job every N seconds instead of at its hour (to try the schedule out);
    #: each still runs once per hour or day
    JOBS_SCHEDULE_SECONDS = os.environ.get("JOBS_SCHEDULE_SECONDS") or None

    #: guardian consent is needed for optional extras below this age (databeskyttelsesloven §6)
    CONSENT_AGE = int(os.environ.get("CONSENT_AGE", "15"))
    #: counts from 1 to SMALL_CELL_THRESHOLD-1 are hidden in anything that leaves the system
    SMALL_CELL_THRESHOLD = int(os.environ.get("SMALL_CELL_THRESHOLD", "5"))
    #: the figures of closed years are kept once computed (youthclub/reports/figures_cache.py)
    FIGURES_CACHE = os.environ.get("FIGURES_CACHE", "1") != "0"
    #: days after New Year before the year just ended counts as closed (no write that began in it is still open)
    FIGURES_CACHE_GRACE_DAYS = 2
    #: months of inactivity after which `youthclub purge` anonymises a young person
    RETENTION_MONTHS = int(os.environ.get("RETENTION_MONTHS", "24"))

    #: a pass is checked in to a session from this long before its start until this long after
    #: its end (by the scan's time); outside it the scan is refused as session_not_now
    CHECKIN_OPEN_BEFORE = timedelta(minutes=int(os.environ.get("CHECKIN_OPEN_BEFORE_MINUTES", "60")))
    CHECKIN_CLOSE_AFTER = timedelta(minutes=int(os.environ.get("CHECKIN_CLOSE_AFTER_MINUTES", "60")))

    DEMO_EMAIL_DOMAIN = "hotspot.example"

    #: roles that must log in with a second factor (an authenticator app); any of
    #: admin, coordinator, institution_admin, staff. Young people are never asked.
    MFA_REQUIRED_ROLES = [r.strip() for r in os.environ.get("MFA_REQUIRED_ROLES", "admin,coordinator").split(",") if r.strip()]
    #: the name the authenticator app shows next to the account
    MFA_ISSUER = os.environ.get("MFA_ISSUER", "Hotspot Nørrebro")
    #: how long the step between password and code may take
    MFA_PENDING_TTL = timedelta(minutes=5)


class DevelopmentConfig(Config):
    DEBUG = False
    TEMPLATES_AUTO_RELOAD = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL"))
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    PUBLIC_BASE_URL = "http://localhost"
    MAIL_SERVER = None
    #: jobs run in the test's own process (Celery's eager mode); the queue's own tests start real workers
    JOBS_BROKER_URL = None
    JOBS_IN_PROCESS = True
    #: fast password hashing in tests; production uses argon2id's defaults
    PASSWORD_HASH_FAST = True


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-session"
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def validate(cls) -> None:
        """Refuse to start without the settings production cannot guess."""
        if not os.environ.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set in production")
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("DATABASE_URL must be set in production")
        if any(len(token) < 24 for token in _list("METRICS_TOKEN")):
            raise RuntimeError("METRICS_TOKEN must be at least 24 characters (e.g. python -c "
                               "'import secrets; print(secrets.token_urlsafe(32))')")


configs = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
