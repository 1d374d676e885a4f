"""Benchmark the deadline scan against the same work hand-written in SQL, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ct_scan .venv/bin/python bench/scan.py \
        --rows 1000000

WARNING: it migrates the database named by ``DATABASE_URL`` and replaces its commitments,
agreements, parties, subscriptions, alerts and users with generated data. Point it at a
scratch database.

It builds ``--rows`` commitments (with ``INSERT ... SELECT generate_series``, not the ORM)
spread over agreements in several time zones, due dates from two years back to two years
ahead, some closed, some without a deadline, a quarter with an owner, a tenth with a beneficiary,
a tenth recurring monthly (12 occurrences each, some fulfilled), one in 200 suspended by a
revision and one in 100 extended (revision rows written directly), and users with
subscriptions of every scope. Then, on identical data reset between runs:

* ``ours``: :func:`alerts.services.scan.scan` at a fixed instant (every row is flagged from
  scratch and the outbox filled);
* ``hand-written``: the same flags and outbox rows written by idiomatic PostgreSQL in one
  transaction (interval arithmetic, ``DISTINCT ON``), checked to give the same result;
* ``rescan``: ours again at the same instant, with nothing to change (after ``VACUUM
  ANALYZE``, as autovacuum does after the first scan rewrote every row; the figure before it is
  shown too), and three scans 15 minutes apart.

The scan's statements rely on two partial indexes of ``commitments.Commitment``
(``commitment_open_state_due``, ``commitment_closed_state``); ``--without-indexes`` drops them
to show what they are worth: without them a no-change rescan reads every open row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
if __name__ == "__main__":
    # As in production: without the debug cursor, which logs every statement of every scan.
    os.environ.setdefault("DJANGO_DEBUG", "false")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from alerts.services.scan import scan  # noqa: E402

NOW = dt.datetime(2026, 4, 27, 0, 0, tzinfo=dt.UTC)
ZONES = [
    "Asia/Tokyo",
    "Europe/Paris",
    "America/New_York",
    "UTC",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Los_Angeles",
    "Europe/London",
]
TERMINAL_SQL = "('cancelled', 'fulfilled', 'missed')"


def execute(sql: str, params: list | dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, [] if params is None else params)
        return cursor.rowcount


def build(rows: int) -> None:
    """Replace the domain data with ``rows`` generated commitments and their watchers."""
    started = time.perf_counter()
    execute(
        "TRUNCATE alerts_alert, alerts_subscriptionlead, alerts_subscription,"
        " alerts_historicalsubscription, commitments_commitment_beneficiaries,"
        " commitments_historicalcommitment, commitments_commitment, commitments_agreement_parties,"
        " commitments_agreement, commitments_party, commitments_occurrence,"
        " commitments_deadlinerevision, commitments_citation, commitments_source, auth_user"
        " CASCADE"
    )
    execute(
        "INSERT INTO commitments_party (key, name, name_fr, kind, country_code, created, updated)"
        " SELECT 'p-' || g, 'Party ' || g, '', 'state', '', now(), now()"
        " FROM generate_series(1, 20) g"
    )
    agreements = max(10, rows // 1000)
    execute(
        "INSERT INTO commitments_agreement (key, title, kind, date, place, time_zone, summary,"
        " created, updated)"
        " SELECT 'a-' || g, 'Agreement ' || g, 'framework', DATE '2024-01-01', '',"
        " (%s::text[])[1 + g %% %s], '', now(), now() FROM generate_series(1, %s) g",
        [ZONES, len(ZONES), agreements],
    )
    execute(
        "INSERT INTO auth_user (username, email, password, first_name, last_name, is_superuser,"
        " is_staff, is_active, date_joined)"
        " SELECT 'u' || g, CASE WHEN g %% 50 = 0 THEN '' ELSE 'u' || g || '@example.org' END,"
        " '!', '', '', false, true, true, now() FROM generate_series(1, 300) g"
    )
    # Due dates from two years back to two years ahead; the due instant is the end of the
    # due day in the agreement's zone, as commitments.deadlines.due_instant computes it.
    execute(
        "INSERT INTO commitments_commitment (agreement_id, key, title, description, obligor_id,"
        " category, target_unit, deadline_kind, deadline_date, offset_unit, anchor_kind,"
        " period_unit, deadline_phrase, due_date, due_at, status, deadline_state, owner_id,"
        " created, updated, deadline_precision, deadline_suspended, due_precision,"
        " effective_from_precision, ended_reason, fulfilment_timing, instrument_title,"
        " instrument_url, original_due_date, original_due_precision, recurrence,"
        " recurrence_interval, recurrence_unit, recurrence_count)"
        " SELECT a.id, 'c-' || g.n, 'Commitment ' || g.n, '', p.id, 'meeting', '',"
        " CASE WHEN g.n %% 20 = 0 THEN 'none' ELSE 'fixed' END,"
        " CASE WHEN g.n %% 20 = 0 THEN NULL ELSE g.due END, '', '', '', '',"
        " CASE WHEN g.n %% 20 = 0 THEN NULL ELSE g.due END,"
        " CASE WHEN g.n %% 20 = 0 THEN NULL"
        " ELSE ((g.due + 1)::timestamp AT TIME ZONE a.time_zone) - interval '1 microsecond' END,"
        " CASE g.n %% 10 WHEN 3 THEN 'fulfilled' WHEN 7 THEN 'in_progress'"
        " ELSE 'not_started' END,"
        " 'none', CASE WHEN g.n %% 4 = 0 THEN u.id END, now(), now(),"
        # One in 200 suspended by a revision (below); one in 10 recurs monthly, 12 times.
        # A dated rule's due date (and its original) is known to the day, as the services
        # store it: left empty, the first write to a row recomputed it and rescanned the row.
        " '', g.n %% 200 = 11, CASE WHEN g.n %% 20 = 0 THEN '' ELSE 'day' END, 'day', '', '',"
        " '', '', CASE WHEN g.n %% 20 = 0 THEN NULL ELSE g.due END,"
        " CASE WHEN g.n %% 20 = 0 THEN '' ELSE 'day' END,"
        " CASE WHEN g.n %% 10 = 5 THEN 'every' ELSE 'none' END,"
        " CASE WHEN g.n %% 10 = 5 THEN 1 END,"
        " CASE WHEN g.n %% 10 = 5 THEN 'months' ELSE '' END,"
        " CASE WHEN g.n %% 10 = 5 THEN 12 END"
        " FROM (SELECT n, DATE '2026-04-27' + ((n::bigint * 7919) %% 1461 - 730)::int AS due,"
        " 1 + n %% %s AS agreement_no, 1 + n %% 20 AS party_no, 1 + n %% 300 AS user_no"
        " FROM generate_series(1, %s) n) g"
        " JOIN commitments_agreement a ON a.key = 'a-' || g.agreement_no"
        " JOIN commitments_party p ON p.key = 'p-' || g.party_no"
        " JOIN auth_user u ON u.username = 'u' || g.user_no",
        [agreements, rows],
    )
    # The occurrences of the recurring ones: month k counted from the first due date (PostgreSQL
    # clamps to the month's end as the engine does), the first three of every fourth fulfilled;
    # the commitment row then mirrors its next open occurrence, as the services keep it.
    execute(
        "INSERT INTO commitments_occurrence (commitment_id, sequence, due_date, due_at,"
        " target_amount, status, status_changed_at, fulfilled_on, deadline_state, flagged_at,"
        " deadline_suspended, created, updated)"
        " SELECT c.id, k, o.due, ((o.due + 1)::timestamp AT TIME ZONE a.time_zone)"
        " - interval '1 microsecond', NULL,"
        " CASE WHEN c.id %% 4 = 0 AND k <= 3 THEN 'fulfilled' ELSE 'not_started' END,"
        " NULL, NULL, 'none', NULL, c.deadline_suspended, now(), now()"
        " FROM commitments_commitment c JOIN commitments_agreement a ON a.id = c.agreement_id"
        " CROSS JOIN generate_series(1, 12) k"
        " CROSS JOIN LATERAL (SELECT (c.original_due_date + make_interval(months => k - 1))::date"
        " AS due) o WHERE c.recurrence = 'every'"
    )
    execute(
        "UPDATE commitments_commitment c SET due_date = n.due_date, due_at = n.due_at"
        " FROM (SELECT DISTINCT ON (commitment_id) commitment_id, due_date, due_at"
        f" FROM commitments_occurrence WHERE status NOT IN {TERMINAL_SQL}"
        " ORDER BY commitment_id, sequence) n WHERE n.commitment_id = c.id"
    )
    # The suspensions' revisions, and an extension for one in 100 (rows only: the scan reads
    # the deadline the services fold from them, kept on the commitment row).
    execute(
        "INSERT INTO commitments_source (key, title, publisher, url, language, published_on,"
        " kind, text, original, original_name, content_type, sha256, created, updated)"
        " VALUES ('bench', 'Bench', 'Bench', '', 'en', DATE '2024-01-01', 'press',"
        " '', '', '', '', '', now(), now())"
    )
    execute(
        "INSERT INTO commitments_citation (source_id, commitment_id, quote, translation,"
        " translation_language, locator, created, updated)"
        " SELECT s.id, c.id, 'Quote', '', '', '', now(), now()"
        " FROM commitments_commitment c, commitments_source s"
        " WHERE s.key = 'bench' AND c.due_date IS NOT NULL"
        " AND (c.deadline_suspended OR c.id %% 100 = 7)"
    )
    execute(
        "INSERT INTO commitments_deadlinerevision (commitment_id, kind, revised_on,"
        " old_due_date, old_precision, new_due_date, new_precision, reason, evidence_id,"
        " created)"
        " SELECT c.id, CASE WHEN c.deadline_suspended THEN 'suspended' ELSE 'extended' END,"
        " DATE '2025-01-01', c.due_date, 'day',"
        " CASE WHEN c.deadline_suspended THEN NULL ELSE c.due_date END, 'day', 'Bench',"
        " ci.id, now() FROM commitments_citation ci JOIN commitments_commitment c"
        " ON c.id = ci.commitment_id"
    )
    execute(
        "INSERT INTO commitments_commitment_beneficiaries (commitment_id, party_id)"
        " SELECT c.id, p.id FROM commitments_commitment c"
        " JOIN commitments_party p ON p.key = 'p-' || (1 + (c.id + 7) %% 20)"
        " WHERE c.id %% 10 = 1"
    )
    # Subscriptions: 1 user watches everything, 10 a party, 100 an agreement, 200 a commitment.
    execute(
        "INSERT INTO alerts_subscription (user_id, scope, agreement_id, party_id, commitment_id,"
        " mode, created)"
        " SELECT u.id, 'all', NULL::bigint, NULL::bigint, NULL::bigint, 'digest', now()"
        " FROM auth_user u"
        " WHERE u.username = 'u1'"
        " UNION ALL SELECT u.id, 'party', NULL, p.id, NULL, 'immediate', now()"
        " FROM generate_series(1, 10) g JOIN auth_user u ON u.username = 'u' || (10 + g)"
        " JOIN commitments_party p ON p.key = 'p-' || (2 * g)"
        " UNION ALL SELECT u.id, 'agreement', a.id, NULL, NULL, 'immediate', now()"
        " FROM generate_series(1, 100) g JOIN auth_user u ON u.username = 'u' || (30 + g)"
        " JOIN commitments_agreement a ON a.key = 'a-' || (1 + (g * 37) %% %s)"
        " UNION ALL SELECT u.id, 'commitment', NULL, NULL, c.id, 'immediate', now()"
        " FROM generate_series(1, 200) g JOIN auth_user u ON u.username = 'u' || (100 + g)"
        " JOIN commitments_commitment c ON c.key = 'c-' || (g * 4999 %% %s + 1)",
        [agreements, rows],
    )
    execute(
        "INSERT INTO alerts_subscriptionlead (subscription_id, days)"
        " SELECT s.id, d FROM alerts_subscription s, unnest(ARRAY[30, 7, 1, 0]) d"
        " UNION ALL SELECT s.id, 90 FROM alerts_subscription s WHERE s.scope = 'agreement'"
    )
    # What autovacuum would do within a minute of such a load (the server here runs without
    # it): without statistics the planner takes the new tables for empty, and the scan's
    # outbox statement ran for 52 s on 2,000 commitments instead of 0.2 s.
    execute("ANALYZE")
    print(f"built {rows} commitments in {time.perf_counter() - started:.1f} s")


def reset() -> None:
    """Forget every flag and alert, then vacuum so each run starts from the same tables."""
    execute("TRUNCATE alerts_alert, alerts_scanrun")
    execute("UPDATE commitments_commitment SET deadline_state = 'none', flagged_at = NULL")
    execute("UPDATE commitments_occurrence SET deadline_state = 'none', flagged_at = NULL")
    vacuum()


def vacuum() -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE commitments_commitment")
        cursor.execute("VACUUM ANALYZE commitments_occurrence")
        cursor.execute("VACUUM ANALYZE alerts_alert")


def hand_written(now: dt.datetime) -> tuple[dict[str, int], int, int]:
    """Do the scan's work in idiomatic PostgreSQL, in one transaction; return what it did."""
    soon = int(getattr(settings, "TRACKER_DUE_SOON_DAYS", max(settings.TRACKER_DEFAULT_LEAD_DAYS)))
    escalation = settings.TRACKER_ESCALATION_EMAIL
    after = int(settings.TRACKER_ESCALATION_AFTER_DAYS)
    defaults = sorted({*settings.TRACKER_DEFAULT_LEAD_DAYS, 0})
    flagged: dict[str, int] = {}
    open_rows = f"due_at IS NOT NULL AND NOT (status IN {TERMINAL_SQL})"
    watched = f"{open_rows} AND NOT deadline_suspended"
    # The due dates alerted on: non-recurring commitments, and the occurrences of the open
    # recurring ones (whose own row only mirrors the next occurrence).
    due_rows = (
        "SELECT id, agreement_id, obligor_id, owner_id, due_date, due_at"
        f" FROM commitments_commitment WHERE {watched} AND recurrence = 'none'"
        " UNION ALL SELECT c.id, c.agreement_id, c.obligor_id, c.owner_id, o.due_date, o.due_at"
        " FROM commitments_occurrence o JOIN commitments_commitment c ON c.id = o.commitment_id"
        f" WHERE o.due_at IS NOT NULL AND NOT (o.status IN {TERMINAL_SQL})"
        f" AND NOT o.deadline_suspended AND c.recurrence <> 'none'"
        f" AND NOT (c.status IN {TERMINAL_SQL})"
    )
    with transaction.atomic():
        for table, key in (("commitments_commitment", ""), ("commitments_occurrence", "o_")):
            flagged[f"{key}none"] = execute(
                f"UPDATE {table} SET deadline_state = 'none', flagged_at = %(now)s"
                f" WHERE (status IN {TERMINAL_SQL} OR due_at IS NULL)"
                " AND deadline_state <> 'none'",
                {"now": now},
            )
            flagged[f"{key}suspended"] = execute(
                f"UPDATE {table} SET deadline_state = 'suspended', flagged_at = %(now)s"
                f" WHERE {open_rows} AND deadline_suspended AND deadline_state <> 'suspended'",
                {"now": now},
            )
        # A first scan: every crossed threshold counts (no watermark yet).
        alerts = execute(
            f"WITH c AS ({due_rows}),"
            " cc AS (SELECT DISTINCT id, agreement_id, obligor_id, owner_id FROM c),"
            " w AS ("
            " SELECT s.user_id, c.id AS commitment_id, l.days, s.mode = 'digest' AS digest"
            " FROM cc c JOIN alerts_subscription s ON s.scope = 'all'"
            " JOIN alerts_subscriptionlead l ON l.subscription_id = s.id"
            " UNION ALL SELECT s.user_id, c.id, l.days, s.mode = 'digest' FROM cc c"
            " JOIN alerts_subscription s"
            " ON s.scope = 'agreement' AND s.agreement_id = c.agreement_id"
            " JOIN alerts_subscriptionlead l ON l.subscription_id = s.id"
            " UNION ALL SELECT s.user_id, c.id, l.days, s.mode = 'digest' FROM cc c"
            " JOIN alerts_subscription s ON s.scope = 'commitment' AND s.commitment_id = c.id"
            " JOIN alerts_subscriptionlead l ON l.subscription_id = s.id"
            " UNION ALL SELECT s.user_id, c.id, l.days, s.mode = 'digest' FROM cc c"
            " JOIN alerts_subscription s ON s.scope = 'party' AND s.party_id = c.obligor_id"
            " JOIN alerts_subscriptionlead l ON l.subscription_id = s.id"
            " UNION ALL SELECT s.user_id, c.id, l.days, s.mode = 'digest'"
            " FROM cc c JOIN commitments_commitment_beneficiaries b ON b.commitment_id = c.id"
            " JOIN alerts_subscription s ON s.scope = 'party' AND s.party_id = b.party_id"
            " JOIN alerts_subscriptionlead l ON l.subscription_id = s.id"
            " UNION ALL SELECT c.owner_id, c.id, d, false FROM cc c,"
            " unnest(%(defaults)s::int[]) d"
            " WHERE c.owner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM alerts_subscription s"
            " WHERE s.user_id = c.owner_id AND (s.scope = 'all'"
            " OR (s.scope = 'agreement' AND s.agreement_id = c.agreement_id)"
            " OR (s.scope = 'commitment' AND s.commitment_id = c.id)"
            " OR (s.scope = 'party' AND (s.party_id = c.obligor_id OR EXISTS (SELECT 1"
            " FROM commitments_commitment_beneficiaries b"
            " WHERE b.commitment_id = c.id AND b.party_id = s.party_id)))))),"
            " x AS (SELECT w.user_id, w.commitment_id, c.due_date, bool_and(w.digest) AS digest,"
            " min(w.days) FILTER (WHERE (w.days = 0 AND c.due_at < %(now)s) OR (w.days > 0"
            " AND c.due_at >= %(now)s AND c.due_at - make_interval(days => w.days) <= %(now)s))"
            " AS threshold FROM w JOIN c ON c.id = w.commitment_id"
            " GROUP BY w.user_id, w.commitment_id, c.due_date)"
            " INSERT INTO alerts_alert (user_id, email, commitment_id, due_date, threshold,"
            " digest, state, attempts, last_error, next_attempt_at, sent_at, created)"
            " SELECT x.user_id, u.email, x.commitment_id, x.due_date, x.threshold, x.digest,"
            " CASE WHEN u.email = '' THEN 'skipped' ELSE 'pending' END, 0,"
            " CASE WHEN u.email = '' THEN 'no address' ELSE '' END,"
            " CASE WHEN u.email = '' THEN NULL ELSE %(now)s END, NULL, %(now)s"
            " FROM x JOIN auth_user u ON u.id = x.user_id"
            " WHERE x.threshold IS NOT NULL AND u.is_active"
            " ON CONFLICT DO NOTHING",
            {"now": now, "defaults": defaults},
        )
        escalations = 0
        if escalation:
            escalations = execute(
                "INSERT INTO alerts_alert (user_id, email, commitment_id, due_date, threshold,"
                " digest, state, attempts, last_error, next_attempt_at, sent_at, created)"
                " SELECT NULL, %(email)s, id, due_date, -%(after)s, false, 'pending', 0, '',"
                f" %(now)s, NULL, %(now)s FROM ({due_rows}) c"
                " WHERE due_at < %(now)s - make_interval(days => %(after)s)"
                " ON CONFLICT DO NOTHING",
                {"email": escalation, "after": after, "now": now},
            )
        for table, key in (("commitments_commitment", ""), ("commitments_occurrence", "o_")):
            for state, condition in [
                ("overdue", "due_at < %(now)s"),
                (
                    "due_soon",
                    "due_at >= %(now)s AND due_at <= %(now)s + make_interval(days => %(soon)s)",
                ),
                ("on_track", "due_at > %(now)s + make_interval(days => %(soon)s)"),
            ]:
                flagged[f"{key}{state}"] = execute(
                    f"UPDATE {table} SET deadline_state = %(state)s, flagged_at = %(now)s"
                    f" WHERE {watched} AND deadline_state <> %(state)s AND {condition}",
                    {"now": now, "state": state, "soon": soon},
                )
    return flagged, alerts, escalations


def outcome() -> tuple:
    """Return a fingerprint of the flags and outbox, to check both runs did the same work."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT deadline_state, count(*) FROM commitments_commitment GROUP BY 1 ORDER BY 1"
        )
        states = cursor.fetchall()
        cursor.execute(
            "SELECT 'occurrence ' || deadline_state, count(*) FROM commitments_occurrence"
            " GROUP BY 1 ORDER BY 1"
        )
        states += cursor.fetchall()
        cursor.execute(
            "SELECT count(*), sum(threshold), sum(coalesce(user_id, 0)), sum(commitment_id),"
            " count(*) FILTER (WHERE digest), count(*) FILTER (WHERE state = 'skipped'),"
            " sum(due_date - DATE '2024-01-01')"
            " FROM alerts_alert"
        )
        return tuple(states), cursor.fetchone()


def timed(action, repeat: int = 1) -> list[float]:
    """Return the seconds each of ``repeat`` runs of ``action`` took (the benches beside
    this one time their pages with it too)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def p95(samples: list[float]) -> float:
    """Return the 95th percentile of ``samples`` (the only sample when there is one)."""
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="commitments to generate")
    parser.add_argument("--runs", type=int, default=1, help="timed runs of each variant")
    parser.add_argument("--no-build", action="store_true", help="reuse the data already built")
    parser.add_argument(
        "--without-indexes", action="store_true", help="do not create the recommended indexes"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/scan.py runs on PostgreSQL: set DATABASE_URL.")
    settings.TRACKER_ESCALATION_EMAIL = settings.TRACKER_ESCALATION_EMAIL or "desk@example.org"
    call_command("migrate", verbosity=0)
    if not args.no_build:
        build(args.rows)
    if args.without_indexes:
        execute("DROP INDEX IF EXISTS commitment_open_state_due")
        execute("DROP INDEX IF EXISTS commitment_closed_state")
        print("the scan's partial indexes dropped (--without-indexes)")
    vacuum()

    ours_times, hand_times, rescan_times, periodic_times, stale_times = [], [], [], [], []
    for _ in range(args.runs):
        reset()
        ours_times += timed(lambda: scan(now=NOW))
        ours = outcome()
        stale_times += timed(lambda: scan(now=NOW))
        # The first scan rewrote every row: until autovacuum runs (it will, after a change this
        # big), the indexes still point at the dead versions. Vacuum now rather than wait.
        vacuum()
        rescan_times += timed(lambda: scan(now=NOW), repeat=3)
        if outcome() != ours:
            sys.exit("the rescan changed something")
        for step in (1, 2, 3):
            later = NOW + dt.timedelta(minutes=15 * step)
            periodic_times += timed(lambda later=later: scan(now=later))
        reset()
        hand_times += timed(lambda: hand_written(NOW))
        hand = outcome()
        if hand != ours:
            sys.exit(f"different results:\n ours {ours}\n hand {hand}")
    states, alerts = ours
    print(f"rows: {args.rows}; states after the scan: {dict(states)}; alerts written: {alerts[0]}")
    best_ours, best_hand = min(ours_times), min(hand_times)
    print(f"first scan, ours (service): best {best_ours:.3f} s of {len(ours_times)}")
    print(f"first scan, hand-written:   best {best_hand:.3f} s of {len(hand_times)}")
    ratio = best_ours / best_hand
    print(f"ratio ours / hand-written:  {ratio:.2f}x (target <= 1.0x: {_met(ratio <= 1.0)})")
    print(
        f"no-change rescan:           best {min(rescan_times):.3f} s,"
        f" median {statistics.median(rescan_times):.3f} s"
        f" (target <= 20 ms: {_met(min(rescan_times) <= 0.020)})"
    )
    print(f"rescan before the vacuum:   {min(stale_times):.3f} s (dead index entries, old stats)")
    print(
        f"scans every 15 minutes:     best {min(periodic_times):.3f} s,"
        f" median {statistics.median(periodic_times):.3f} s"
    )


if __name__ == "__main__":
    main()
