"""gunicorn.conf.py and `make serve`."""
from __future__ import annotations

import os
import runpy
import shutil
import subprocess

import pytest

from tests.conftest import ROOT


def load_gunicorn_conf(monkeypatch, **env) -> dict:
    for name in ("GUNICORN_BIND", "GUNICORN_WORKERS", "WEB_CONCURRENCY", "GUNICORN_CONTROL_SOCKET", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    conf = load_gunicorn_conf(monkeypatch, GUNICORN_WORKERS="3", PORT="9001")
    assert conf["wsgi_app"] == "youthclub:create_app()"
    assert conf["workers"] == 3 and conf["bind"] == "127.0.0.1:9001"
    assert conf["accesslog"] is None  # the app logs each request itself
    assert conf["preload_app"] is False
    assert conf["graceful_timeout"] == 30 and conf["timeout"] == 30
    assert conf["control_socket_disable"] is True

    conf = load_gunicorn_conf(monkeypatch, WEB_CONCURRENCY="5", GUNICORN_BIND="0.0.0.0:8080")
    assert conf["workers"] == 5 and conf["bind"] == "0.0.0.0:8080"
    assert conf["workers"] >= 1


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_serve_refuses_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    result = subprocess.run(["make", "-s", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_links_to_the_port_it_serves():
    """`PORT=5077 make run` must not hand out claim-code and calendar links to port 5000."""
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"}
    env["PORT"] = "5077"
    result = subprocess.run(["make", "-n", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    serve = next(line for line in result.stdout.splitlines() if "youthclub dev" in line)
    assert 'PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:5077}"' in serve
    assert "--port 5077" in serve
    shell = subprocess.run(["sh", "-c", serve.split(" .venv")[0] + ' sh -c \'echo "$PUBLIC_BASE_URL"\''],
                           env=env, capture_output=True, text=True)
    assert shell.stdout.strip() == "http://127.0.0.1:5077"
