"""What a scrape reads at that moment: the outbox in the database and the job queue in Redis.

These are facts of the whole cluster, not of one worker, so every instance reports the
same values: a dashboard takes ``max()`` of them across instances, never ``sum()``.
Either source may be down; the scrape then still answers, with
``youthclub_metrics_source_up{source=...} 0`` in place of that source's figures.
"""
from __future__ import annotations

import os
from datetime import datetime

from flask import current_app
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY
from sqlalchemy import func, select

from ..db_types import utcnow
from ..extensions import db
from ..mail.models import OutboxMessage
from . import metrics
from .clients import redis_client
from .multiproc import LockedMultiProcessCollector

#: kombu's Redis transport keeps a queue's priorities 3, 6 and 9 in lists beside the queue's own
KOMBU_PRIORITY_SEP = "\x06\x16"
KOMBU_PRIORITY_STEPS = (3, 6, 9)


class ClusterCollector:
    """Outbox and queue figures, read when Prometheus asks."""

    def __init__(self, now: datetime | None = None):
        self.now = now

    def collect(self):
        up = GaugeMetricFamily("youthclub_metrics_source_up", "Whether a scrape could read a source "
                               "(1) or not (0): database, queue.", labels=["source"])
        yield from self._outbox(up)
        yield from self._queue(up)
        yield up

    def _outbox(self, up):
        unsent = OutboxMessage.sent_at.is_(None)
        try:
            row = db.session.execute(
                select(func.count(OutboxMessage.id),
                       func.count(OutboxMessage.id).filter(OutboxMessage.attempts > 0),
                       func.min(OutboxMessage.created_at)).where(unsent)
            ).one()
        except Exception as err:  # a scrape must answer while the database is down
            db.session.rollback()
            current_app.logger.warning("metrics: the outbox could not be read (%s)", type(err).__name__)
            up.add_metric(["database"], 0)
            return
        finally:
            db.session.commit()  # end the read transaction; nothing was written
        count, failing, oldest = row
        up.add_metric(["database"], 1)
        yield GaugeMetricFamily("youthclub_outbox_unsent_messages", "Mail in the outbox not sent yet.", value=count)
        yield GaugeMetricFamily("youthclub_outbox_failing_messages", "Unsent mail whose delivery failed at least once "
                                "(the job failures of mail).", value=failing)
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:  # SQLite hands back naive UTC
                oldest = oldest.replace(tzinfo=utcnow().tzinfo)
            age = max(((self.now or utcnow()) - oldest).total_seconds(), 0.0)
        yield GaugeMetricFamily("youthclub_outbox_oldest_unsent_age_seconds", "Age of the oldest unsent mail "
                                "(0 when every message is sent).", value=age)

    def _queue(self, up):
        url = current_app.config.get("CELERY_BROKER_URL") or current_app.config.get("REDIS_URL")
        if not url or not url.startswith(("redis://", "rediss://", "unix://")):
            return  # no Redis broker: nothing to report, and nothing is down
        names = current_app.config.get("METRICS_QUEUES") or ("celery",)
        try:
            client = redis_client(url, timeout=0.5)
            pipe = client.pipeline(transaction=False)
            for name in names:
                pipe.llen(name)
                for step in KOMBU_PRIORITY_STEPS:
                    pipe.llen(f"{name}{KOMBU_PRIORITY_SEP}{step}")
            lengths = pipe.execute()
        except Exception as err:  # redis.ConnectionError, TimeoutError, a wrong type at the key…
            current_app.logger.warning("metrics: the job queue could not be read (%s)", type(err).__name__)
            up.add_metric(["queue"], 0)
            return
        up.add_metric(["queue"], 1)
        depth = GaugeMetricFamily("youthclub_queue_depth", "Jobs waiting in the queue (Redis list length, all "
                                  "priorities); an absent queue counts 0.", labels=["queue"])
        per_queue = 1 + len(KOMBU_PRIORITY_STEPS)
        for index, name in enumerate(names):
            depth.add_metric([name], sum(lengths[index * per_queue:(index + 1) * per_queue]))
        yield depth


def exposition(now: datetime | None = None) -> bytes:
    """The text a scrape receives: every worker's instruments, then the cluster's figures."""
    if metrics.MULTIPROCESS:
        workers = CollectorRegistry()
        LockedMultiProcessCollector(workers, path=os.environ["PROMETHEUS_MULTIPROC_DIR"])
    else:
        workers = REGISTRY
    cluster = CollectorRegistry()
    cluster.register(ClusterCollector(now))
    return generate_latest(workers) + generate_latest(cluster)
