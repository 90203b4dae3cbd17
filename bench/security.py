"""Security overhead: the per-request hooks (headers, session limits, NUL check), log redaction,
and the cost of a production argon2id hash (what one log-in attempt costs the server).

Run: ``.venv/bin/python -m bench.security``. Writes the "security" section of docs/benchmarks.md.
"""
from __future__ import annotations

import logging
import statistics
import tempfile
import time

from bench.report import stamp, write_section

ROUNDS, REQUESTS = 5, 300


def _per_request(clients, url: str) -> list[float]:
    """Median seconds per request for each client, rounds interleaved so both see the same machine."""
    samples = [[] for _ in clients]
    for client in clients:  # warm up
        for _ in range(50):
            client.get(url)
    for _ in range(ROUNDS):
        for n, client in enumerate(clients):
            start = time.perf_counter()
            for _ in range(REQUESTS):
                client.get(url)
            samples[n].append((time.perf_counter() - start) / REQUESTS)
    return [statistics.median(s) for s in samples]


def _apps():
    from flask_migrate import upgrade

    from config import TestingConfig
    from youthclub import ROOT, create_app, security

    folder = tempfile.mkdtemp()

    class Bench(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder}/bench.db"

    app = create_app(Bench)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    baseline = create_app(Bench)
    # the baseline: the same app without this module's request hooks
    hooks = {security.reject_nul_characters, security.enforce_session_limits}
    baseline.before_request_funcs[None] = [f for f in baseline.before_request_funcs[None] if f not in hooks]
    baseline.after_request_funcs[None] = [
        f for f in baseline.after_request_funcs[None] if f is not security.set_security_headers
    ]
    return app, baseline


def main() -> None:
    from youthclub.security import redact

    app, baseline = _apps()
    with_hooks, without = _per_request([app.test_client(), baseline.test_client()], "/privacy")

    line = 'POST /login?next=/account 401 for user 17 from 10.0.0.1 token Zq8Wm2Lp5Xk9Tr4Yv7Nb3Hc6 a@b.dk'
    start = time.perf_counter()
    for _ in range(20000):
        redact(line)
    per_redact = (time.perf_counter() - start) / 20000
    logger = logging.getLogger("bench.null")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    start = time.perf_counter()
    for _ in range(20000):
        logger.warning("login failed for %s", "a@b.dk")
    per_record = (time.perf_counter() - start) / 20000

    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    start = time.perf_counter()
    for _ in range(10):
        hasher.hash("correct horse battery")
    per_hash = (time.perf_counter() - start) / 10

    markdown = "\n".join([
        "## security",
        "",
        stamp(),
        "",
        "| what | time | baseline | ratio |",
        "| --- | --- | --- | --- |",
        f"| GET /privacy, anonymous (headers, NUL check, session limits) | {with_hooks * 1e3:.2f} ms | "
        f"{without * 1e3:.2f} ms without the hooks | {with_hooks / without:.2f} |",
        f"| redact() one log line | {per_redact * 1e6:.1f} µs | | |",
        f"| one log record through the redacting record factory | {per_record * 1e6:.1f} µs | | |",
        f"| argon2id hash, production parameters (one log-in) | {per_hash * 1e3:.1f} ms | | |",
        "",
        f"Median of {ROUNDS} rounds of {REQUESTS} requests through the Flask test client on SQLite.",
    ])
    write_section("security", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
