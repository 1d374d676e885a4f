"""Gunicorn's settings for ``scripts/web.sh``, read from the environment.

The defaults are the worker model measured best with ``bench/load.py`` on the 2-core machine
(README, "Performance"). ``WEB_WORKERS``, ``WEB_THREADS`` and ``WEB_WORKER_CLASS`` change it
for another machine; ``WEB_MAX_REQUESTS`` recycles a worker after that many requests (with
jitter, so the workers do not restart together), which bounds what any leak can grow to.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


workers = _int("WEB_WORKERS", 4)
threads = _int("WEB_THREADS", 2)
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread" if threads > 1 else "sync")
max_requests = _int("WEB_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
graceful_timeout = 10
accesslog = "-"
logger_class = "tracker.access_log.RedactingLogger"
