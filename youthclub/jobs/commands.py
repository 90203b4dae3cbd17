"""``youthclub worker``, ``youthclub scheduler`` (the job queue's processes) and ``youthclub dev`` (``make run``)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import click
import redis
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from . import SCHEDULE, broker_url, in_process, init_app


def _celery():
    celery = current_app.extensions["celery"]
    if in_process(current_app):
        raise click.ClickException("No job queue: set REDIS_URL (or JOBS_BROKER_URL) to run workers and the scheduler.")
    return celery


@click.command("worker")
@click.option("--concurrency", "-c", type=int, default=None, help="Jobs at a time (default: the number of cores).")
@click.option("--pool", type=click.Choice(["prefork", "threads", "solo"]), default="prefork", show_default=True)
@click.option("--name", default=None, help="The worker's node name (default: celery@host).")
@click.option("--loglevel", default="INFO", show_default=True)
@with_appcontext
def worker_command(concurrency, pool, name, loglevel):
    """Run jobs from the queue: mail and the scheduled jobs. Run one or more per cluster."""
    argv = ["worker", f"--loglevel={loglevel}", f"--pool={pool}", "--without-gossip", "--without-mingle"]
    if name:
        argv.append(f"--hostname={name}")
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    _celery().worker_main(argv)


@click.command("scheduler")
@click.option("--schedule-file", default=None, help="Where beat keeps its state (default: the instance folder).")
@click.option("--loglevel", default="INFO", show_default=True)
@with_appcontext
def scheduler_command(schedule_file, loglevel):
    """Send the scheduled jobs on time (Celery beat). One is enough; a second for safety runs nothing twice."""
    schedule_file = schedule_file or os.path.join(current_app.instance_path, "celerybeat-schedule")
    os.makedirs(os.path.dirname(schedule_file), exist_ok=True)
    _celery().Beat(schedule=schedule_file, loglevel=loglevel).run()


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def _tick_in_process(app, every: float) -> None:
    """Without a queue: run every scheduled job now and then in this process (each still once per slot)."""
    celery = app.extensions["celery"]
    while True:
        time.sleep(every)
        for task_name, _ in SCHEDULE.values():
            celery.tasks[task_name].apply()


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def dev_command(host, port):
    """Development: the web server, a worker and the scheduler, stopped together (``make run``).

    Uses Redis at REDIS_URL (else redis://127.0.0.1:6379/0 when it answers); with no Redis the
    jobs run in this process and mail reaches the outbox at once.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the app behind the proxy: its config is changed and it is served
    env = dict(os.environ, PUBLIC_BASE_URL=os.environ.get("PUBLIC_BASE_URL") or f"http://{host}:{port}")
    url = broker_url(app) or "redis://127.0.0.1:6379/0"
    children: list[subprocess.Popen] = []
    if not app.config.get("JOBS_IN_PROCESS") and _redis_answers(url):
        env.setdefault("REDIS_URL", url)
        youthclub = [sys.executable, "-m", "youthclub.cli"]
        children = [
            subprocess.Popen([*youthclub, "worker", "--pool", "threads", "--concurrency", "2", "--loglevel", "WARNING"], env=env),
            subprocess.Popen([*youthclub, "scheduler", "--loglevel", "WARNING"], env=env),
        ]
        click.echo(f"Jobs: a worker and the scheduler on {url} (stopped with the server).")
        if broker_url(app) is None:
            # this process made its Celery without a broker: give it the one the worker listens to
            app.config["JOBS_BROKER_URL"] = url
            init_app(app)
    else:
        click.echo(f"Jobs: no Redis at {url}, so jobs run in this process: mail reaches the outbox at once, "
                   "and the schedule (reminders, purge, …) is checked every minute here.")
        if not in_process(app):  # REDIS_URL names a Redis that does not answer
            app.config["JOBS_IN_PROCESS"] = True
            init_app(app)
        threading.Thread(target=_tick_in_process, args=(app, 60), daemon=True).start()
    click.echo(f"Serving on http://{host}:{port} (links in mail use {env['PUBLIC_BASE_URL']})")
    try:
        app.config["PUBLIC_BASE_URL"] = env["PUBLIC_BASE_URL"]
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped by a signal: still stop the children
        # werkzeug's server directly: app.run() refuses to run inside the flask command line
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def register(cli_group) -> None:
    cli_group.add_command(worker_command)
    cli_group.add_command(scheduler_command)
    cli_group.add_command(dev_command)
