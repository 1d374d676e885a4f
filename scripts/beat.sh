#!/usr/bin/env bash
# Celery beat, the scheduler. Run exactly one per deployment.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/celery -A tracker beat --loglevel "${CELERY_LOGLEVEL:-INFO}" "$@"
