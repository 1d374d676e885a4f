#!/usr/bin/env bash
# Run the tracker: migrate, load the seeds, make the demo login, then the web server, a Celery
# worker and Celery beat together. Ctrl-C stops all three. With no environment set it uses
# SQLite and a SQLite-backed broker in var/; DATABASE_URL and CELERY_BROKER_URL switch to
# PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
bin=.venv/bin
host=${TRACKER_HOST:-127.0.0.1}
port=${TRACKER_PORT:-8000}
export TRACKER_SITE_URL=${TRACKER_SITE_URL:-http://$host:$port}

$bin/python manage.py migrate --noinput
$bin/python manage.py loadseeds
$bin/python manage.py collectstatic --noinput --verbosity 0
login=$($bin/python manage.py create_demo_admin)

pids=()
stop() {
    trap - INT TERM EXIT
    echo "Stopping web, worker and beat..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

./scripts/web.sh "$host:$port" & pids+=($!)
./scripts/worker.sh & pids+=($!)
./scripts/beat.sh & pids+=($!)

echo
echo "Commitment Tracker is running at $TRACKER_SITE_URL/  (admin: $TRACKER_SITE_URL/admin/)"
echo "$login"
echo "Press Ctrl-C to stop."
wait -n "${pids[@]}"
