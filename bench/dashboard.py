"""Benchmark the review pages on a large database, each against the SQL that reads its rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ct_bench_dashboard \
        .venv/bin/python bench/dashboard.py --rows 100000 --agreement-size 1000

WARNING: it migrates the database named by ``DATABASE_URL`` and replaces its data with
generated rows (the same generator as ``bench/scan.py``). Point it at a scratch database.

It builds ``--rows`` commitments, flags them with the deadline scan, gives the first agreement
exactly ``--agreement-size`` commitments (moving rows from or to the others; default 1,000, the
issue's size) with three ratings each, then renders the overview, that agreement's page, and
its page with ``?as_of=`` ``--repeat`` times each through Django's test client as a logged-in
reviewer. It reports the median and 95th percentile render times and the number of queries.

Each page is compared with its own baseline, timed in the same process on the same data:

* the overview with its counts written by hand as PostgreSQL (one statement per table the page
  aggregates over; the issue's target is at most 1.2 times that);
* the agreement page, as of today and as of a date, with its own queries replayed through a
  raw cursor (the SQL that reads the rows the page shows, without Django; target 1.5 times);
* ``compliance_table(as_of=)`` with the same history read by hand (``DISTINCT ON`` the latest
  rating per pair).

Each line prints the figure, its baseline, the ratio, the target and whether it is met.
The pages run as in production (``DJANGO_DEBUG=false``: no query log, no debug context).

``--reuse-db`` measures the database a previous run built, as it left it (no migration, no
new rows, no scan: a minute less at 100,000 rows); its first agreement must hold
``--agreement-size`` commitments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable

# As in production and in the other benches: no query log, cached templates.
os.environ["DJANGO_DEBUG"] = "false"

from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from scan import (  # bench/scan.py: the shared data generator; sets Django up
    build,
    execute,
    p95,
    timed,
)

from alerts.services.scan import scan
from commitments.models import Agreement, Commitment
from commitments.selectors import compliance_table
from core.fragments import FRAGMENTS

OVERVIEW_SQL = """
SELECT count(*),
       count(*) FILTER (WHERE deadline_state = 'overdue'),
       count(*) FILTER (WHERE status IN ('not_started', 'in_progress', 'partially_fulfilled')
                          AND due_date BETWEEN %(today)s AND %(today)s + 7),
       count(*) FILTER (WHERE status IN ('not_started', 'in_progress', 'partially_fulfilled')
                          AND due_date BETWEEN %(today)s AND %(today)s + 30),
       count(*) FILTER (WHERE status = 'fulfilled')
FROM commitments_commitment;
SELECT obligor_id, count(*), count(*) FILTER (WHERE deadline_state = 'overdue'),
       count(*) FILTER (WHERE status = 'fulfilled')
FROM commitments_commitment GROUP BY obligor_id;
SELECT agreement_id, count(*), count(*) FILTER (WHERE deadline_state = 'overdue'),
       count(*) FILTER (WHERE status = 'fulfilled')
FROM commitments_commitment GROUP BY agreement_id;
"""

#: Three ratings per commitment of one agreement, a month apart, the last one current.
RATINGS_SQL = """
INSERT INTO commitments_assessment (commitment_id, party_id, rating, assessed_on, justification,
    created, current, reviewed_on, review_due)
SELECT c.id, c.obligor_id, r.rating, r.day, 'Generated rating ' || r.n, now(), r.n = 3, r.day,
    false
FROM commitments_commitment c
CROSS JOIN (VALUES (1, 'in_the_works', DATE '2024-02-01'), (2, 'stalled', DATE '2024-03-01'),
                   (3, 'not_verifiable', DATE '2024-04-01')) AS r(n, rating, day)
WHERE c.agreement_id = %(agreement)s
"""

#: The compliance table as of a date written by hand: the commitments with their obligor, and
#: each pair's latest rating dated on or before the date.
AS_OF_SQL = """
SELECT c.id, c.key, c.title, p.id, p.name FROM commitments_commitment c
JOIN commitments_party p ON p.id = c.obligor_id WHERE c.agreement_id = %(agreement)s
ORDER BY c.due_date, c.id;
SELECT DISTINCT ON (a.commitment_id, a.party_id) a.commitment_id, a.party_id, a.rating,
       a.justification, a.assessed_on
FROM commitments_assessment a JOIN commitments_commitment c ON c.id = a.commitment_id
WHERE c.agreement_id = %(agreement)s AND a.assessed_on <= %(as_of)s
ORDER BY a.commitment_id, a.party_id, a.assessed_on DESC, a.id DESC
"""


def give_size(agreement_id: int, size: int) -> None:
    """Make the agreement ``agreement_id`` hold exactly ``size`` commitments.

    Moves the newest commitments of the other agreements to it, or its own newest to the next
    agreement; the generator's keys are unique across agreements, so nothing else changes.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM commitments_commitment WHERE agreement_id = %s", [agreement_id]
        )
        have = cursor.fetchone()[0]
        if have < size:
            cursor.execute(
                "UPDATE commitments_commitment SET agreement_id = %s WHERE id IN (SELECT id FROM"
                " commitments_commitment WHERE agreement_id <> %s ORDER BY id DESC LIMIT %s)",
                [agreement_id, agreement_id, size - have],
            )
        elif have > size:
            cursor.execute(
                "UPDATE commitments_commitment SET agreement_id = (SELECT min(id) FROM"
                " commitments_agreement WHERE id <> %s) WHERE id IN (SELECT id FROM"
                " commitments_commitment WHERE agreement_id = %s ORDER BY id DESC LIMIT %s)",
                [agreement_id, agreement_id, have - size],
            )
        cursor.execute(
            "SELECT count(*) FROM commitments_commitment WHERE agreement_id = %s", [agreement_id]
        )
        if cursor.fetchone()[0] != size:
            raise SystemExit(f"--rows is too small for an agreement of {size} commitments")


def replay(statements: list[str]) -> Callable[[], None]:
    """Return an action that runs ``statements`` through a raw cursor and fetches every row."""

    def run() -> None:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()

    return run


def line(
    name: str,
    samples: list[float],
    queries: int | str,
    base: list[float] | None = None,
    target: float | None = None,
) -> str:
    """Return one row of the table: times, queries, and the ratio to ``base`` with its target."""
    text = (
        f"{name:<44} {statistics.median(samples) * 1000:>9.1f} {p95(samples) * 1000:>9.1f}"
        f" {queries:>7}"
    )
    if base is not None:
        ratio = statistics.median(samples) / statistics.median(base)
        text += f" {statistics.median(base) * 1000:>9.1f} {ratio:>7.2f}"
        if target is not None:
            text += f" {target:>7.2f} {'met' if ratio <= target else 'NOT MET':>8}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--agreement-size",
        type=int,
        default=1000,
        help="commitments of the agreement whose page is measured (the issue's target: 1,000)",
    )
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="measure the data a previous run built instead of building it again",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/dashboard.py needs DATABASE_URL pointing at PostgreSQL")

    if args.reuse_db:
        agreement = Agreement.objects.order_by("id").first()
        if agreement is None or agreement.commitments.count() != args.agreement_size:
            raise SystemExit(
                f"--reuse-db: no agreement of {args.agreement_size} commitments; run without it"
            )
        args.rows = Commitment.objects.count()
    else:
        call_command("migrate", verbosity=0)
        build(args.rows)
        started = time.perf_counter()
        scan(now=timezone.now())
        print(f"flagged with the scan in {time.perf_counter() - started:.1f} s")
        agreement = Agreement.objects.order_by("id").first()
        if agreement is None:
            raise SystemExit("no agreement was generated")
        give_size(agreement.pk, args.agreement_size)
        execute(RATINGS_SQL, {"agreement": agreement.pk})
        execute("VACUUM ANALYZE commitments_commitment")
        execute("VACUUM ANALYZE commitments_assessment")

    reviewer, _ = get_user_model().objects.get_or_create(
        username="bench-reviewer", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(reviewer)
    as_of = dt.date(2024, 3, 15)
    size = agreement.commitments.count()
    page = reverse("dashboard:agreement", args=[agreement.pk])
    pages = {
        "overview": (reverse("dashboard:overview"), 1.2),
        f"agreement ({size} commitments)": (page, 1.5),
        f"agreement as of {as_of} ({size})": (page + f"?as_of={as_of}", 1.5),
    }
    today = timezone.localdate()

    def aggregate_sql() -> None:
        with connection.cursor() as cursor:
            for statement in filter(str.strip, OVERVIEW_SQL.split(";")):
                cursor.execute(statement, {"today": today})
                cursor.fetchall()

    print(f"\n{args.rows} commitments, {args.repeat} runs each; load average {os.getloadavg()}")
    print(
        f"{'page':<44} {'median ms':>9} {'p95 ms':>9} {'queries':>7} {'base ms':>9}"
        f" {'x base':>7} {'target':>7} {'':>8}"
    )
    sections = caches[FRAGMENTS]
    for name, (url, target) in pages.items():
        client.get(url)  # warm caches and templates
        sections.clear()
        reset_queries()
        # The baseline is the SQL of a render that reads every row the page shows: its
        # sections not kept (their cache emptied), without the version of their rows
        # (core.fragments), which reads no row the page shows.
        with CaptureQueriesContext(connection) as queries:
            status = client.get(url).status_code
        if status != 200:
            raise SystemExit(f"{url} answered {status}")
        # Read now: the log is emptied by each later request (``request_started``).
        captured = queries.captured_queries
        statements = [
            q["sql"]
            for q in captured
            if q["sql"] and q["sql"].lstrip().startswith("SELECT") and " xmin " not in q["sql"]
        ]
        own_sql = replay(statements)
        # Interleaved, so that a burst of load on the shared machine hits both alike (the
        # overview's aggregate SQL too: timed after the page, it moved 87-113 ms between runs).
        samples, base, counts, rendered = [], [], [], []
        with CaptureQueriesContext(connection) as kept:
            client.get(url)
        kept_queries = len(kept.captured_queries)
        for _ in range(args.repeat):
            base += timed(own_sql, 1)
            samples += timed(lambda url=url: client.get(url), 1)
            if name == "overview":
                counts += timed(aggregate_sql, 1)
            else:
                rendered += timed(lambda url=url: (sections.clear(), client.get(url)), 1)
        if name == "overview":
            print(line("  its aggregate SQL alone (baseline)", counts, 3))
            print(line(name, samples, len(captured), counts, target))
            print(line("  overview vs its own queries replayed", samples, len(statements), base))
        else:
            print(line("  its own queries replayed (baseline)", base, len(statements)))
            print(line(name, samples, kept_queries, base, target))
            print(line("  sections rendered (rows changed)", rendered, len(captured), base))

    def as_of_sql() -> None:
        with connection.cursor() as cursor:
            for statement in filter(str.strip, AS_OF_SQL.split(";")):
                cursor.execute(statement, {"agreement": agreement.pk, "as_of": as_of})
                cursor.fetchall()

    def as_of_table() -> None:
        len(compliance_table(agreement=agreement, as_of=as_of).parties)

    hand, ours = [], []
    for _ in range(args.repeat):
        hand += timed(as_of_sql, 1)
        ours += timed(as_of_table, 1)
    with CaptureQueriesContext(connection) as queries:
        rows = len(compliance_table(agreement=agreement, as_of=as_of).rows)
    print(f"\ncompliance as of {as_of}: {rows} rows, 3 ratings per row in the history")
    print(line("  history SQL by hand (baseline)", hand, 2))
    print(line("compliance_table(as_of=)", ours, len(queries.captured_queries), hand))


if __name__ == "__main__":
    main()
