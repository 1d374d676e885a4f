#!/usr/bin/env bash
# A Celery worker. Run as many as you like, on as many machines as you like.
#
# Beside the web server on a small machine, the worker yields the CPU to it: it runs at a
# lower priority (WORKER_NICE, default 10), so a scan or a mail batch waits for the
# requests rather than the other way round; it takes one task at a time per process (prefetch
# 1, in settings), and replaces a pool process whose memory grew past
# WORKER_MAX_MEMORY_KB after a task (default 200 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
exec nice -n "${WORKER_NICE:-10}" .venv/bin/celery -A tracker worker \
    --loglevel "${CELERY_LOGLEVEL:-INFO}" --concurrency "${WORKER_CONCURRENCY:-1}" \
    --max-memory-per-child "${WORKER_MAX_MEMORY_KB:-204800}" "$@"
