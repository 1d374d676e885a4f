#!/usr/bin/env bash
# A Celery worker. Run as many as you like, on as many machines as you like.
#
# Beside the web server on a small machine, the worker yields the CPU to it: it runs at a
# lower priority (WORKER_NICE, default 10), so a scan or a mail batch waits for the
# requests rather than the other way round; it takes one task at a time per process (prefetch
# 1, in settings), and replaces a pool process whose memory grew past
# WORKER_MAX_MEMORY_KB after a task (default 200 MB). One process (WORKER_CONCURRENCY) beside
# the web server on a 2-core machine: with two, a scan and a mail batch ran side by side, and
# their PostgreSQL backends (which nice does not reach) took the web's tail latency from
# 305 to 451-573 ms at p95 (bench/load.py). Where mail must drain faster, run more processes
# and as many senders (TRACKER_ALERT_SENDERS; bench/outbox.py --senders N shows the rates).
set -euo pipefail
cd "$(dirname "$0")/.."
exec nice -n "${WORKER_NICE:-10}" .venv/bin/celery -A tracker worker \
    --loglevel "${CELERY_LOGLEVEL:-INFO}" --concurrency "${WORKER_CONCURRENCY:-1}" \
    --max-memory-per-child "${WORKER_MAX_MEMORY_KB:-204800}" "$@"
