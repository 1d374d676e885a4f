#!/usr/bin/env bash
# Validate docker/compose.yml with Debian's docker-compose (installed if missing), using the
# committed .env.example as its env file.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker-compose >/dev/null; then
    apt-get install -y --no-install-recommends docker-compose >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y --no-install-recommends docker-compose >/dev/null; }
fi
env_file=docker/.env
created=0
if [ ! -e "$env_file" ]; then
    sed 's/^POSTGRES_PASSWORD=$/POSTGRES_PASSWORD=compose-check/' .env.example > "$env_file"
    created=1
fi
trap 'if [ "$created" = 1 ]; then rm -f "$env_file"; fi' EXIT
docker-compose -f docker/compose.yml config -q
echo "docker/compose.yml is valid"
