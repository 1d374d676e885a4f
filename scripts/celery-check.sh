#!/usr/bin/env bash
# Run the tests with real parts of the queue (Celery worker and beat processes on Redis, the
# test database on PostgreSQL, an SMTP server in the test process) on their own. They use
# Redis databases 4 and 5, which they flush. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tracker_celery_check}
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "Redis is not answering on 127.0.0.1:6379" >&2; exit 1; }
exec .venv/bin/python -m pytest -m celery_worker "$@"
