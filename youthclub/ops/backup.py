"""Consistent copies of a SQLite database while the app runs (SQLite's online backup API)."""
from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path


class BackupError(Exception):
    pass


def backup_sqlite(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Copy the SQLite database at ``source`` to ``target`` as one consistent snapshot.

    The backup API reads a single snapshot (WAL lets writers carry on meanwhile) and the
    copy is written next to ``target`` first and moved into place, so ``target`` is never
    a half-written file.
    """
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise BackupError(f"no database file at {source}")
    if target.resolve() == source.resolve():
        raise BackupError("the backup must not overwrite the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        src = sqlite3.connect(source, timeout=30)
        dst = sqlite3.connect(tmp)
        try:
            with dst:
                src.backup(dst)  # pages=-1: the whole database in one step, from one snapshot
            # a plain single file that opens anywhere, without a -wal beside it
            dst.execute("PRAGMA journal_mode = DELETE")
            check = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
            src.close()
        if check != "ok":
            raise BackupError(f"the copy failed its integrity check: {check}")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
