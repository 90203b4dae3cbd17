"""The bundled list of common passwords that are refused."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

LIST = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def _words() -> frozenset[str]:
    lines = (line.strip() for line in LIST.read_text(encoding="utf-8").splitlines())
    return frozenset(line.casefold() for line in lines if line and not line.startswith("#"))


def is_common(password: str) -> bool:
    return password.strip().casefold() in _words()
