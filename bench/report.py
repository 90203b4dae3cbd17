"""Writes benchmark results into docs/benchmarks.md, one section per benchmark.

Each benchmark owns the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``;
a section that is not there yet is appended. Results carry the machine and the date.
"""
from __future__ import annotations

import fcntl
import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}"


def stamp() -> str:
    return f"_Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}._"


def write_section(name: str, markdown: str) -> None:
    """Replace (or add) the section ``name`` of docs/benchmarks.md with ``markdown``.

    Under a lock on the file: the suite's workers (pytest-xdist) write their sections at the same
    time, and a read-modify-write without it could drop another's.
    """
    DOC.parent.mkdir(parents=True, exist_ok=True)
    block = f"<!-- {name}:start -->\n{markdown.strip()}\n\n{stamp()}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S)
    with open(DOC.with_suffix(".md.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
        if pattern.search(text):
            text = pattern.sub(lambda _: block, text)
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
        DOC.write_text(text, encoding="utf-8")
