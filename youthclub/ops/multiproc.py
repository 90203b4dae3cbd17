"""prometheus-client's multiprocess mode under gunicorn: the directory, dead workers, and reading it.

gunicorn.conf.py calls ``prepare_directory`` when the master starts (before any worker
imports prometheus-client, which decides its mode from ``PROMETHEUS_MULTIPROC_DIR`` on import)
and ``worker_exited`` for each worker the master reaps. gunicorn replaces its workers
now and then (``max_requests``), so without care the directory would gain a counter and a
histogram file per worker ever started and every scrape would read them all; instead a dead
worker's counters and histograms are added into one ``*_archive.db`` per kind, and its
``live*`` gauges (the pool) are dropped. A lock file keeps a scrape from reading
the directory halfway through that fold, when it would count the dead worker twice or not at all.
"""
from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import tempfile
from contextlib import contextmanager

from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

#: the kinds of file whose values must outlive the worker that wrote them
KEPT_KINDS = ("counter", "histogram", "summary")
LOCK_NAME = ".lock"


def prepare_directory(environ=os.environ) -> tuple[str, bool]:
    """The multiprocess directory, emptied of a previous run's files; made (and set) when none is given.

    Returns the path and whether it was made here (so the master removes it on exit).
    One directory belongs to one gunicorn master: two instances on a host need two.
    """
    path = environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        path = tempfile.mkdtemp(prefix="youthclub-metrics-")
        environ["PROMETHEUS_MULTIPROC_DIR"] = path
        return path, True
    os.makedirs(path, exist_ok=True)
    # values from before a restart would be added to the new ones (and gauges of pids long gone)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)
    return path, False


def remove_directory(path: str) -> None:
    for name in glob.glob(os.path.join(path, "*.db")) + [os.path.join(path, LOCK_NAME)]:
        with contextlib.suppress(FileNotFoundError):
            os.remove(name)
    with contextlib.suppress(OSError):
        os.rmdir(path)


@contextmanager
def directory_lock(path: str, *, exclusive: bool):
    """Shared while a scrape reads the directory, exclusive while a dead worker is folded in."""
    with open(os.path.join(path, LOCK_NAME), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def worker_exited(pid: int, path: str) -> None:
    """A worker is gone: drop its live gauges and add its counters and histograms to the archive."""
    with directory_lock(path, exclusive=True):
        mark_process_dead(pid, path)
        for kind in KEPT_KINDS:
            dead = os.path.join(path, f"{kind}_{pid}.db")
            if os.path.exists(dead):
                _fold(dead, os.path.join(path, f"{kind}_archive.db"))


def _fold(dead: str, archive: str) -> None:
    sources = [dead] + ([archive] if os.path.exists(archive) else [])
    # accumulate=False: buckets stay per bucket, as the files hold them
    merged = MultiProcessCollector.merge(sources, accumulate=False)
    partial = archive + ".partial"  # not *.db: a scrape never reads it
    if os.path.exists(partial):
        os.remove(partial)
    out = MmapedDict(partial)
    try:
        for metric in merged:
            for sample in metric.samples:
                key = mmap_key(metric.name, sample.name, list(sample.labels), list(sample.labels.values()),
                               metric.documentation)
                out.write_value(key, sample.value, 0.0)
    finally:
        out.close()
    os.replace(partial, archive)
    os.remove(dead)


class LockedMultiProcessCollector(MultiProcessCollector):
    """prometheus-client's collector, reading under the directory's shared lock."""

    def collect(self):
        with directory_lock(self._path, exclusive=False):
            return list(super().collect())
