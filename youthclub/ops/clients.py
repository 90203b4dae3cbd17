"""One Redis client per process, URL and timeout, for the probes and the metrics (each keeps its own pool)."""
from __future__ import annotations

import redis
from flask import current_app


def redis_client(url: str, *, timeout: float) -> redis.Redis:
    """A client with short timeouts: a probe or a scrape must answer while Redis is lost, not hang."""
    clients = current_app.extensions.setdefault("ops_redis", {})
    client = clients.get((url, timeout))
    if client is None:
        client = clients[(url, timeout)] = redis.Redis.from_url(url, socket_timeout=timeout,
                                                                 socket_connect_timeout=timeout)
    return client
