#!/usr/bin/env bash
# A Celery worker. Run as many as you like, on as many machines as you like.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/celery -A tracker worker --loglevel "${CELERY_LOGLEVEL:-INFO}" \
    --concurrency "${WORKER_CONCURRENCY:-1}" "$@"
