#!/usr/bin/env bash
# Run the whole test suite. Uses DATABASE_URL / CELERY_BROKER_URL when set (CI sets both),
# else SQLite and the embedded broker. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/system-deps.sh
.venv/bin/python manage.py compilemessages --ignore=.venv --verbosity 0
exec .venv/bin/python -m pytest ${PYTEST_ARGS:-} "$@"
