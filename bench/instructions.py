"""Instructions per request, counted by callgrind: the check-in, the floor and the ceiling.

    .venv/bin/python -m bench.instructions [--requests 200]

The wrk benchmark (``bench/checkin.py``) measures requests per second, but this shared
machine's speed changes by up to two times within minutes, so a change of less than about 20 %
does not show there. Instructions do not depend on the machine's speed or load: each part runs
in a Python process of its own under ``valgrind --tool=callgrind``, with counting off while it
sets up and warms up (``--instr-atstart=no``; the process switches counting on and off itself
with ``callgrind_control``), and the same code counts the same to a fraction of a per cent.

Each part serves its requests through the WSGI test client on a SQLite database (SQLite's own
work runs inside the process and is counted; gunicorn and the network are not, which the wrk
benchmark has):

- the ceiling: the minimal Flask endpoint that parses the same JSON (``bench/minimal_app.py``);
- the floor: that endpoint running the check-in's statements on the driver (``bench/floor_app.py``);
- a check-in: the real endpoint, a new attendance each (Bearer token, a distinct young person);
- a repeated scan: the same pass and nonce again, answered 200 without writing.

Writes the section "checkin-instructions" of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys

from bench.report import write_section

PARTS = ("ceiling", "floor", "checkin", "repeat")
LABELS = {
    "ceiling": "ceiling: the minimal endpoint",
    "floor": "floor: the endpoint and the check-in's statements on the driver",
    "checkin": "check-in, a new attendance",
    "repeat": "repeated scan (same pass and nonce), nothing written",
}
WARM_UP = 100
#: the code before this round, counted by this script in the same sitting (a worktree of it, this file copied in)
BEFORE = ("Before the scan's partial-index fix (5a26cee, counted the same way in the same sitting): a check-in "
          "5.79 M, a repeated scan 4.95 M, the ceiling 1.12 M.")


def _counting(on: bool) -> None:
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())], check=True,
                   capture_output=True)


def child(part: str, requests: int) -> None:
    """Set up ``part``, warm it up, then serve ``requests`` requests with counting on."""
    from bench.checkin import prepare
    from bench.common import bench_app, database, migrate

    with database("sqlite") as url:
        app = bench_app(url)
        migrate(app)
        tokens, sessions, bearer = prepare(app)
        if part == "ceiling":
            from bench.minimal_app import app as served
        elif part == "floor":
            os.environ["DATABASE_URL"] = url  # the floor reads it as it is imported
            from bench.floor_app import app as served
        else:
            served = app
        client = served.test_client()
        headers = {"Authorization": f"Bearer {bearer}"}
        pairs = [(token, session) for session in sessions for token in tokens]

        def scan(i: int) -> None:
            token, session = pairs[0] if part == "repeat" else pairs[i]
            nonce = "00000000-0000-4000-8000-000000000000" if part == "repeat" else f"{i:08d}-0000-4000-8000-000000000000"
            answer = client.post(f"/api/v1/sessions/{session}/checkins", json={"token": token, "nonce": nonce},
                                 headers=headers)
            if answer.status_code not in (200, 201):
                raise RuntimeError(f"{part}: {answer.status_code} {answer.get_data(as_text=True)[:300]}")

        for i in range(WARM_UP):
            scan(i)
        gc.collect()
        gc.freeze()  # as the gunicorn workers do after start-up
        _counting(True)
        for i in range(WARM_UP, WARM_UP + requests):
            scan(i)
        _counting(False)


def count(part: str, requests: int) -> float:
    """Instructions per request of ``part``, from a process of its own under callgrind."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
         sys.executable, "-m", "bench.instructions", "--child", part, "--requests", str(requests)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    found = re.findall(r"Collected : (\d+)", out.stderr)
    if out.returncode or not found:
        raise RuntimeError(f"{part}: {out.stderr[-2000:]}")
    return int(found[-1]) / requests


def report(counts: dict, requests: int) -> None:
    ceiling = counts["ceiling"]
    lines = [
        "## Check-in: instructions per request (`bench/instructions.py`)",
        "",
        f"Counted by callgrind, {requests} requests of each part after {WARM_UP} to warm up, each part in a "
        "process of its own through the WSGI test client on SQLite (SQLite's work included; gunicorn and the "
        "network not). Instructions do not depend on the machine's speed or load, which change by up to two "
        "times within minutes here: the same code counts the same to a fraction of a per cent, so this is the "
        "measure to compare two versions of the check-in by, and the wrk benchmark the measure of what a "
        "server does with them.",
        "",
        "| part | instructions per request | ÷ ceiling |",
        "| --- | ---: | ---: |",
    ]
    for part in PARTS:
        lines.append(f"| {LABELS[part]} | {counts[part] / 1e6:.2f} M | {counts[part] / ceiling:.1f} |")
    layers = counts["checkin"] - counts["floor"]
    lines += [
        "",
        f"The floor runs the same statements as the check-in for {(counts['floor'] - ceiling) / 1e6:.2f} M more "
        f"than the ceiling; the check-in spends {layers / 1e6:.2f} M more than the floor ({layers / counts['checkin']:.0%} "
        "of it): the layers around the statements (SQLAlchemy's execution and transaction, Flask's hooks, the "
        "token, the door's rules, the answer). " + BEFORE,
    ]
    write_section("checkin-instructions", "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--child", choices=PARTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.requests)
        return
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        raise SystemExit("valgrind is needed (Debian's package valgrind)")
    counts = {}
    for part in PARTS:
        counts[part] = count(part, args.requests)
        print(f"{part}: {counts[part] / 1e6:.3f} M instructions per request", flush=True)
    report(counts, args.requests)


if __name__ == "__main__":
    main()
