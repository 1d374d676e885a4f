#!/usr/bin/env bash
# The web process: gunicorn serving the Django app (static files through whitenoise). Its
# worker model, count and logging are in tracker/gunicorn.conf.py (WEB_WORKERS, WEB_THREADS,
# WEB_WORKER_CLASS, WEB_MAX_REQUESTS in the environment).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/gunicorn tracker.wsgi:application --config tracker/gunicorn.conf.py \
    --bind "${1:-127.0.0.1:8000}"
