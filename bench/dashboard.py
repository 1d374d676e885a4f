"""Benchmark the review pages on a large database, against the aggregate SQL alone.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ct_bench_dashboard \
        .venv/bin/python bench/dashboard.py --rows 100000

WARNING: it migrates the database named by ``DATABASE_URL`` and replaces its data with
generated rows (the same generator as ``bench/scan.py``). Point it at a scratch database.

It builds ``--rows`` commitments, flags them with the deadline scan, then renders the
overview and an agreement page ``--repeat`` times each through Django's test client as a
logged-in reviewer, and reports the median and 95th percentile render times and the number
of queries of each. The baseline is the time of the overview's counts written by hand as
PostgreSQL (one statement per table the page aggregates over), run the same number of times.

The last lines time the compliance table as of a date (``compliance_table``, and the agreement
page with ``?as_of=``) for that agreement, whose commitments get three ratings each, against
the SQL that reads the same history by hand (``DISTINCT ON`` the latest rating per pair).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from scan import build, execute  # bench/scan.py: the shared data generator; sets Django up

from alerts.services.scan import scan
from commitments.models import Agreement
from commitments.selectors import compliance_table

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


def timed(action, repeat: int) -> list[float]:
    """Return the seconds each of ``repeat`` runs of ``action`` took."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/dashboard.py needs DATABASE_URL pointing at PostgreSQL")

    call_command("migrate", verbosity=0)
    build(args.rows)
    started = time.perf_counter()
    scan(now=timezone.now())
    print(f"flagged with the scan in {time.perf_counter() - started:.1f} s")
    execute("VACUUM ANALYZE commitments_commitment")

    reviewer, _ = get_user_model().objects.get_or_create(
        username="bench-reviewer", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(reviewer)
    agreement = Agreement.objects.order_by("id").first()
    if agreement is None:
        raise SystemExit("no agreement was generated")
    pages = {
        "overview": reverse("dashboard:overview"),
        f"agreement ({agreement.commitments.count()} commitments)": reverse(
            "dashboard:agreement", args=[agreement.pk]
        ),
    }
    execute(RATINGS_SQL, {"agreement": agreement.pk})
    execute("VACUUM ANALYZE commitments_assessment")
    as_of = dt.date(2024, 3, 15)
    pages[f"agreement as of {as_of}"] = (
        reverse("dashboard:agreement", args=[agreement.pk]) + f"?as_of={as_of}"
    )
    today = timezone.localdate()

    def aggregate_sql() -> None:
        with connection.cursor() as cursor:
            for statement in filter(str.strip, OVERVIEW_SQL.split(";")):
                cursor.execute(statement, {"today": today})
                cursor.fetchall()

    baseline = timed(aggregate_sql, args.repeat)
    print(f"\n{args.rows} commitments, {args.repeat} runs each")
    print(f"{'page':<36} {'median ms':>10} {'p95 ms':>10} {'queries':>8} {'x SQL':>7}")
    print(
        f"{'aggregate SQL alone (baseline)':<36} {statistics.median(baseline) * 1000:>10.1f}"
        f" {p95(baseline) * 1000:>10.1f} {3:>8}"
    )
    for name, url in pages.items():
        client.get(url)  # warm caches and templates
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            status = client.get(url).status_code
        if status != 200:
            raise SystemExit(f"{url} answered {status}")
        samples = timed(lambda url=url: client.get(url), args.repeat)
        ratio = statistics.median(samples) / statistics.median(baseline)
        print(
            f"{name:<36} {statistics.median(samples) * 1000:>10.1f} {p95(samples) * 1000:>10.1f}"
            f" {len(queries.captured_queries):>8} {ratio:>7.2f}"
        )

    def as_of_sql() -> None:
        with connection.cursor() as cursor:
            for statement in filter(str.strip, AS_OF_SQL.split(";")):
                cursor.execute(statement, {"agreement": agreement.pk, "as_of": as_of})
                cursor.fetchall()

    def as_of_table() -> None:
        len(compliance_table(agreement=agreement, as_of=as_of).parties)

    hand = timed(as_of_sql, args.repeat)
    ours = timed(as_of_table, args.repeat)
    rows = len(compliance_table(agreement=agreement, as_of=as_of).rows)
    print(f"\ncompliance as of {as_of}: {rows} rows, 3 ratings per row in the history")
    print(
        f"{'history SQL by hand (baseline)':<36} {statistics.median(hand) * 1000:>10.1f}"
        f" {p95(hand) * 1000:>10.1f} {2:>8}"
    )
    print(
        f"{'compliance_table(as_of=)':<36} {statistics.median(ours) * 1000:>10.1f}"
        f" {p95(ours) * 1000:>10.1f} {3:>8}"
        f" {statistics.median(ours) / statistics.median(hand):>7.2f}"
    )


if __name__ == "__main__":
    main()
