#!/usr/bin/env bash
# Build the tracker's image from docker/Dockerfile with podman, then start its web, worker and
# beat entry points (the same scripts `make run` uses) and check them from outside.
#
#   ./scripts/build-image.sh            # build localhost/commitment-tracker:ci and smoke-test it
#
# The pinned base (python:3.11.7-slim-bookworm) comes from Docker Hub. Where the registry
# cannot be reached (this CI machine reaches Debian's mirror and PyPI only), the script builds
# an equivalent base from Debian's packages with debootstrap (bookworm, Python 3.11, venv, pip)
# once, with this machine's certificate authorities (its egress proxy re-signs TLS), keeps it
# as localhost/tracker-base:bookworm, and passes it as BASE_IMAGE.
#
# RUN steps use chroot isolation: this machine's kernel (cgroups v1 in hybrid mode, no rlimit
# rights) lets podman build but not start an OCI container. The smoke test therefore mounts a
# container made from the image and runs its entry points under chroot as the image's user (uid 10001), on the
# host's network, against PostgreSQL (DATABASE_URL's server, a database of its own) and Redis
# (db 10): `check --deploy`, `migrate`, then scripts/web.sh, worker.sh and beat.sh; a scan is
# asked for, and the check passes when /healthz answers 200, `celery_health` sees a worker
# and a finished scan, and all three processes are still running.
set -euo pipefail
export PGOPTIONS='-c client_min_messages=warning'
cd "$(dirname "$0")/.."

IMAGE=localhost/commitment-tracker:ci
PINNED_BASE=python:3.11.7-slim-bookworm
LOCAL_BASE=localhost/tracker-base:bookworm
PG_SERVER=${IMAGE_CHECK_PG:-postgres://postgres@127.0.0.1:5432}
PG_DB=ct_image_check
BROKER=${IMAGE_CHECK_BROKER:-redis://127.0.0.1:6379/10}

need=()
command -v podman >/dev/null || need+=(podman)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
    echo "image: installing ${need[*]} from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${need[@]}" >/dev/null \
        || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }
fi

base=$PINNED_BASE
if ! podman image exists "$PINNED_BASE" && ! timeout 60 podman pull -q "docker.io/library/$PINNED_BASE" >/dev/null 2>&1; then
    base=$LOCAL_BASE
    if ! podman image exists "$LOCAL_BASE"; then
        echo "image: registry unreachable; building $LOCAL_BASE from Debian's packages"
        rootfs=$(mktemp -d /tmp/tracker-base.XXXXXX)
        debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
            bookworm "$rootfs" http://deb.debian.org/debian >/tmp/tracker-base-debootstrap.log 2>&1 \
            || { tail -20 /tmp/tracker-base-debootstrap.log >&2; rm -rf "$rootfs"; exit 1; }
        # Trust the same certificate authorities as this machine (its egress proxy's among
        # them), for apt and for pip, which otherwise reads only its own bundle.
        if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
            cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
            chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
        fi
        printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/etc/pip.conf"
        tar -C "$rootfs" -c . | podman import --quiet - "$LOCAL_BASE" >/dev/null
        rm -rf "$rootfs"
    fi
fi

echo "image: building $IMAGE on $base"
podman build --quiet --format docker --isolation=chroot --build-arg "BASE_IMAGE=$base" \
    -f docker/Dockerfile -t "$IMAGE" . >/dev/null

# --- smoke test: the image's own entry points, run from its filesystem ---------------------
# A container made from the image (never started: that needs the runtime) has the writable
# layer a running container would; its root gets /proc, /dev and an empty /dev/shm, as a
# container runtime would provide.
cid=$(podman create "$IMAGE")
mnt=$(podman mount "$cid")
mount -t proc proc "$mnt/proc"
mount --rbind /dev "$mnt/dev"
mount --make-rslave "$mnt/dev"
workdir=$(mktemp -d /tmp/tracker-image-check.XXXXXX)
pids=()
cleanup() {
    # Every process whose root is the container's (the entry points and their children).
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        local left=0
        for proc in /proc/[0-9]*; do
            if [ "$(readlink "$proc/root" 2>/dev/null)" = "$mnt" ]; then
                kill "${proc#/proc/}" 2>/dev/null || true
                left=1
            fi
        done
        [ "$left" = 0 ] && break
        sleep 1
    done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    umount -R "$mnt/dev" 2>/dev/null || umount -l "$mnt/dev" 2>/dev/null || true
    umount "$mnt/proc" 2>/dev/null || umount -l "$mnt/proc" 2>/dev/null || true
    podman umount "$cid" >/dev/null 2>&1 || true
    podman rm -f "$cid" >/dev/null 2>&1 || true
    psql "$PG_SERVER/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$workdir"
}
trap cleanup EXIT

psql "$PG_SERVER/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
psql "$PG_SERVER/postgres" -qc "CREATE DATABASE $PG_DB" >/dev/null
redis-cli -u "$BROKER" flushdb >/dev/null

secret="image-check-$(date +%s%N)-a-long-random-secret-with-variety-0123456789"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
in_image() {  # in_image COMMAND...: run in the image's working directory as its user
    chroot --userspec=10001:10001 "$mnt" /usr/bin/env -i \
        PATH=/srv/tracker/.venv/bin:/usr/local/bin:/usr/bin:/bin HOME=/home/tracker \
        DJANGO_ENV=production DJANGO_SECRET_KEY="$secret" \
        DJANGO_ALLOWED_HOSTS=tracker.example.org,127.0.0.1 \
        DATABASE_URL="$PG_SERVER/$PG_DB" CELERY_BROKER_URL="$BROKER" \
        TRACKER_VAR_DIR=/srv/tracker/var \
        /bin/sh -c 'cd /srv/tracker && exec "$@"' sh "$@"
}

in_image .venv/bin/python manage.py check --deploy --fail-level WARNING
in_image .venv/bin/python manage.py migrate --noinput >/dev/null
in_image ./scripts/web.sh "127.0.0.1:$port" >"$workdir/web.log" 2>&1 & pids+=($!)
in_image ./scripts/worker.sh >"$workdir/worker.log" 2>&1 & pids+=($!)
in_image ./scripts/beat.sh >"$workdir/beat.log" 2>&1 & pids+=($!)

# Beat fires the scan every 15 minutes; ask for one now, as an operator would.
in_image .venv/bin/celery -A tracker call alerts.scan_deadlines >/dev/null

healthy=0
for _ in $(seq 120); do
    if curl -fsS -H "Host: tracker.example.org" "http://127.0.0.1:$port/healthz" >"$workdir/healthz.json" 2>/dev/null \
        && in_image .venv/bin/python manage.py celery_health >"$workdir/celery.txt" 2>"$workdir/celery.err"; then
        healthy=1
        break
    fi
    sleep 1
done
if [ "$healthy" != 1 ]; then
    echo "image: the entry points did not come up healthy" >&2
    for f in healthz.json celery.txt celery.err web.log worker.log beat.log; do
        echo "--- $f" >&2; tail -20 "$workdir/$f" >&2 2>/dev/null || true
    done
    exit 1
fi
for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "image: a process exited early" >&2; tail -20 "$workdir"/*.log >&2; exit 1; }
done
grep -q "beat: Starting" "$workdir/beat.log" || { echo "image: beat did not start" >&2; tail -20 "$workdir/beat.log" >&2; exit 1; }
echo "image: $IMAGE built; check --deploy clean; web /healthz: $(cat "$workdir/healthz.json")"
echo "image: $(tr '\n' ' ' <"$workdir/celery.txt")"
