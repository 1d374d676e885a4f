#!/usr/bin/env bash
# Run the whole test suite. Uses DATABASE_URL / CELERY_BROKER_URL when set (CI sets both),
# else SQLite and the embedded broker. Extra arguments go to pytest.
#
# The whole suite runs in two passes: first every test that keeps to its own database and
# servers, in TEST_PROCESSES processes (pytest-xdist, default 2: one per core here); then,
# alone, the tests that share something between processes - a real Celery worker on the one
# broker (`celery_worker`), the fault drills that stop servers (`faults`), and the tests that
# read the process's own log output (`serial`). With arguments naming tests or a marker
# expression, one ordinary pass runs exactly what was asked.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/system-deps.sh
.venv/bin/python manage.py compilemessages --ignore=.venv --verbosity 0

args=(${PYTEST_ARGS:-} "$@")
if [[ " ${args[*]} " == *" -m "* || " ${args[*]} " == *"tests/"* || " ${args[*]} " == *"::"* ]]; then
    exec .venv/bin/python -m pytest "${args[@]}"
fi

alone="celery_worker or faults or serial"
status=0
# --durations: the slowest tests of each pass are listed, to keep CI inside its 30 minutes.
.venv/bin/python -m pytest -n "${TEST_PROCESSES:-2}" -m "not ($alone)" --durations=25 "${args[@]}" || status=$?
second=0
.venv/bin/python -m pytest -m "$alone" --durations=10 "${args[@]}" || second=$?
# 5 is "no test selected", which a narrowed run may give.
if [[ $second -ne 0 && $second -ne 5 ]]; then status=$second; fi
exit $status
