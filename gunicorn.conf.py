"""gunicorn settings for youthclub in production (`make serve`).

Every value can be changed from the environment, so the same file serves a laptop and
several instances behind a load balancer. The app itself is stateless: sessions are signed
cookies, rate limits live in Redis (REDIS_URL), data in PostgreSQL (DATABASE_URL).
"""
import multiprocessing
import os

# the app factory, with the configuration named by YOUTHCLUB_ENV (production under `make serve`)
wsgi_app = "youthclub:create_app()"

bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
#: worker processes; WEB_CONCURRENCY is the common name platforms set
workers = int(os.environ.get("GUNICORN_WORKERS") or os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS", "1"))

#: a request that takes longer than this is killed and its worker replaced
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
#: on a deploy or SIGTERM, workers get this long to finish the requests they are serving
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
#: recycle workers now and then, so a slow leak never takes an instance down. A new worker
#: builds the app again (about 0.65 s of CPU, then cold statement and template caches): at
#: 2,000 requests, a door's burst of check-ins recycled every worker every few seconds and
#: spent a fifth of the CPU on it (docs/benchmarks.md, check-in); at 20,000 it is a few per cent
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "2000"))

#: each worker builds its own app (and database pool) after the fork; no connection is shared
preload_app = False

#: the app writes one JSON line per request (youthclub/ops/requestlog.py) to stderr;
#: gunicorn's own access log would only repeat it with the raw paths
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")

#: addresses allowed to set X-Forwarded-Proto for gunicorn itself; the app's ProxyFix
#: (TRUSTED_PROXIES) is what decides the client's address and scheme
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "youthclub"

#: gunicorn 25.1+ opens a control socket at one path per user (~/.gunicorn/gunicorn.ctl),
#: which several instances on a host would share; it is off unless a path is given
#: (older gunicorns ignore these names)
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


#: the metrics directory made for this master (removed on exit); None when the operator named one
_metrics_dir_made = None


def on_starting(server):
    """Before any worker: prometheus-client's multiprocess directory (PROMETHEUS_MULTIPROC_DIR).

    Every worker writes its counters there and a scrape of /metrics at any worker reads them
    all (docs/monitoring.md). A directory named in the environment is emptied of the last
    run's files; without one, a temporary directory is made for this master.
    """
    global _metrics_dir_made
    # prometheus-client picks its mode from this variable when it is first imported, and the workers
    # inherit the master's imports: so it is set before anything (youthclub included) imports it
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir_made = tempfile.mkdtemp(prefix="youthclub-metrics-")
    from youthclub.ops.multiproc import prepare_directory

    path, _made = prepare_directory()
    server.log.info("metrics: multiprocess directory %s", path)


def child_exit(server, worker):
    """A worker has exited (recycled, crashed, killed): keep its counts, drop its live gauges."""
    from youthclub.ops.multiproc import worker_exited

    try:
        worker_exited(worker.pid, os.environ["PROMETHEUS_MULTIPROC_DIR"])
    except Exception:  # metrics must never take the master down
        server.log.exception("metrics: could not fold the files of worker %s", worker.pid)


def on_exit(server):
    if _metrics_dir_made:
        from youthclub.ops.multiproc import remove_directory

        remove_directory(_metrics_dir_made)


def post_worker_init(worker):
    """Once the worker has built the app: move everything alive so far out of the garbage collector's way.

    The app, its modules, SQLAlchemy's metadata and the compiled templates live as long as
    the worker. Frozen, a full collection no longer walks them, which took about 0.1 s in
    the middle of a large answer (the statistics dashboard for a year, docs/benchmarks.md).
    """
    import gc

    gc.freeze()
