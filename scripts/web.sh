#!/usr/bin/env bash
# The web process: gunicorn serving the Django app (static files through whitenoise).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/gunicorn tracker.wsgi:application --bind "${1:-127.0.0.1:8000}" \
    --workers "${WEB_WORKERS:-2}" --access-logfile - --graceful-timeout 10 \
    --logger-class tracker.access_log.RedactingLogger
