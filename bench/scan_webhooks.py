"""Benchmark what webhooks add to the deadline scan: bench/scan.py with and without them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ct_scan .venv/bin/python \
        bench/scan_webhooks.py --rows 20000 --endpoints 3 [--without-webhooks]

WARNING: like bench/scan.py (which it runs), it replaces the data of the database it is given.

It runs bench/scan.py's ``main`` unchanged, after registering ``--endpoints`` webhook
endpoints subscribed to every kind (owned by superusers, so that they receive everything), and
with each reset also emptying the webhook events. The first scan then writes one overdue event
per commitment it flags overdue and one delivery per event and endpoint, in the scan's
transaction. ``--without-webhooks`` unregisters the webhooks' scan listener instead: the scan
as it was before webhooks, for a comparison on the same machine at the same moment. Without
it, the two webhook statements are also timed alone, on the flags a first scan leaves.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scan as bench  # bench/scan.py, which sets Django up
from django.contrib.auth import get_user_model
from django.db import transaction

from commitments.services import hooks
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services.events import events_write_overdue, record_flags


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--without-webhooks", action="store_true")
    args, rest = parser.parse_known_args()
    sys.argv = [sys.argv[0], *rest]
    build, reset = bench.build, bench.reset

    def build_with_endpoints(rows: int) -> None:
        build(rows)
        for n in range(args.endpoints):
            owner = get_user_model().objects.create_superuser(username=f"hook-owner-{n}")
            WebhookEndpoint.objects.create(
                owner=owner,
                target_url=f"https://hooks-{n}.example.org/tracker",
                secret="bench-secret-0123456789",  # noqa: S106 (no receiver behind it)
            )

    written: list[tuple[int, int]] = []

    def reset_with_events() -> None:
        written.append((WebhookEvent.objects.count(), WebhookDelivery.objects.count()))
        bench.execute(f"TRUNCATE {WebhookEvent._meta.db_table} CASCADE")
        reset()

    bench.build = build_with_endpoints
    bench.reset = reset_with_events
    if args.without_webhooks:
        hooks.unregister_flags(record_flags)
    bench.main()
    events, deliveries = max(written)
    print(
        f"webhooks: {'off' if args.without_webhooks else 'on'};"
        f" {WebhookEndpoint.objects.count()} endpoints; a run of our scans wrote {events} events"
        f" and {deliveries} deliveries"
    )
    if not args.without_webhooks:
        statements_alone()


def statements_alone() -> None:
    """Time the webhooks' two statements alone, on the flags a first scan leaves."""
    hooks.unregister_flags(record_flags)
    try:
        bench.reset()
        bench.scan(now=bench.NOW)
    finally:
        hooks.register_flags(record_flags)
    times = []
    for _ in range(3):
        bench.execute(f"TRUNCATE {WebhookEvent._meta.db_table} CASCADE")
        started = time.perf_counter()
        with transaction.atomic():
            events_write_overdue(now=bench.NOW, commitment_ids=None)
        times.append(time.perf_counter() - started)
    print(
        f"webhook statements alone:   best {min(times):.3f} s of {len(times)} for"
        f" {WebhookEvent.objects.count()} events and {WebhookDelivery.objects.count()} deliveries"
    )


if __name__ == "__main__":
    main()
