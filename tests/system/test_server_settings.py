"""The web and worker processes' settings: gunicorn's model from the environment, pooled
database connections, and the scripts that start them with those settings."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "tracker" / "gunicorn.conf.py"


def _gunicorn_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, object]:
    for name in ("WEB_WORKERS", "WEB_THREADS", "WEB_WORKER_CLASS", "WEB_MAX_REQUESTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_defaults_are_the_measured_model(monkeypatch):
    """With no environment: the worker model README's performance section measured."""
    conf = _gunicorn_settings(monkeypatch)
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (4, 2, "gthread")
    assert conf["max_requests"] == 5000
    assert conf["max_requests_jitter"] == 500
    assert conf["logger_class"] == "tracker.access_log.RedactingLogger"


def test_gunicorn_threads_switch_to_the_threaded_worker(monkeypatch):
    conf = _gunicorn_settings(monkeypatch, WEB_WORKERS="3", WEB_THREADS="4")
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (3, 4, "gthread")


def test_gunicorn_worker_class_can_be_named(monkeypatch):
    conf = _gunicorn_settings(monkeypatch, WEB_WORKER_CLASS="sync", WEB_THREADS="1")
    assert conf["worker_class"] == "sync"


def test_gunicorn_accepts_its_config_file():
    """gunicorn itself reads the file: ``--check-config`` loads the app and the settings."""
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "tracker.wsgi:application",
            "--config",
            str(GUNICORN_CONF),
            "--check-config",
        ],
        cwd=ROOT,
        env={**os.environ, "WEB_WORKERS": "3", "WEB_THREADS": "2"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_wsgi_application_freezes_what_its_start_loaded():
    """The WSGI module loads every view, then freezes what is loaded for the garbage collector
    (issue 16): the start's objects are never walked by a full collection again."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gc, sys; import tracker.wsgi; "
            "print(gc.get_freeze_count(), 'commitments.api.views' in sys.modules)",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": "postgres://u@db.example.org:5432/t"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    frozen, views_loaded = result.stdout.split()
    assert int(frozen) > 50_000
    assert views_loaded == "True"


def _database_settings(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_CONN_MAX_AGE"}}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'tracker.settings'); from django.conf import settings; "
            "d = settings.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])",
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_database_connections_are_kept_and_checked_by_default():
    """A process keeps its connection 60 s, checked before each reuse."""
    assert _database_settings({"DATABASE_URL": "postgres://u@db.example.org:5432/t"}) == "60 True"


def test_database_connection_age_comes_from_the_environment():
    url = "postgres://u@db.example.org:5432/t"
    assert _database_settings({"DATABASE_URL": url, "DATABASE_CONN_MAX_AGE": "0"}) == "0 True"
    with_age = f"{url}?conn_max_age=600"
    assert _database_settings({"DATABASE_URL": with_age, "DATABASE_CONN_MAX_AGE": "5"}) == (
        "600 True"
    )


@pytest.mark.parametrize("script", ["web.sh", "worker.sh"])
def test_server_scripts_are_valid_shell(script):
    result = subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)], check=False)
    assert result.returncode == 0
