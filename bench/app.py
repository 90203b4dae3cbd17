"""The app as the benchmarks serve it under gunicorn: production settings, rate limits off.

Rate limits are switched off here because they exist precisely to cap one client's request
rate; the benchmark measures what the check-in path itself costs.
"""
from __future__ import annotations

import os

from config import ProductionConfig


class BenchConfig(ProductionConfig):
    SECRET_KEY = os.environ.get("SECRET_KEY", "bench-secret")
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "session"
    RATELIMIT_ENABLED = False

    @classmethod
    def validate(cls) -> None:
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("DATABASE_URL must be set for the benchmark app")


def make_app():
    from youthclub import create_app

    BenchConfig.SQLALCHEMY_DATABASE_URI = __import__("config").database_url(os.environ["DATABASE_URL"])
    return create_app(BenchConfig)


app = make_app() if os.environ.get("BENCH_SERVE") else None
