#!/usr/bin/env bash
# A Celery worker. Run as many as you like, on as many machines as you like.
#
# Beside the web server on a small machine, the worker yields the CPU to it: it runs at a
# lower priority (WORKER_NICE, default 10), so a scan or a mail batch waits for the
# requests rather than the other way round; it takes one task at a time per process (prefetch
# 1, in settings), and replaces a pool process whose memory grew past
# WORKER_MAX_MEMORY_KB after a task (default 200 MB). Two processes (WORKER_CONCURRENCY): the
# alerts' backlog is drained by TRACKER_ALERT_SENDERS (2) senders at once, each waiting on the
# SMTP server and on its commits most of each mail's time; at nice 10 each gets about a tenth of
# a core a web process (nice 0) also wants (CFS weights 110 against 1024).
set -euo pipefail
cd "$(dirname "$0")/.."
exec nice -n "${WORKER_NICE:-10}" .venv/bin/celery -A tracker worker \
    --loglevel "${CELERY_LOGLEVEL:-INFO}" --concurrency "${WORKER_CONCURRENCY:-2}" \
    --max-memory-per-child "${WORKER_MAX_MEMORY_KB:-204800}" "$@"
