"""The scan's statements: as many for many commitments and time zones as for few."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert, ScanRun, SubscriptionScope
from alerts.services.scan import scan
from alerts.services.subscriptions import subscription_create
from commitments.choices import AgreementKind
from commitments.services import commitments as svc
from core.statements import statements_forget

pytestmark = pytest.mark.django_db

CREATED_AT = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
ZONES = [
    "Asia/Tokyo",
    "Europe/Paris",
    "America/New_York",
    "UTC",
    "Australia/Sydney",
    "Asia/Kolkata",
]
#: Transaction control is not a statement of the scan's work.
CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


@pytest.fixture
def build(make_commitment, japan, django_user_model):
    """Write ``count`` commitments due from 10 to 200 days ahead in the first ``zones`` zones."""
    counter = iter(range(1, 1_000_000))

    def make(*, count: int, zones: int) -> None:
        with time_machine.travel(CREATED_AT, tick=False):
            agreements = []
            for zone in ZONES[:zones]:
                n = next(counter)
                agreements.append(
                    svc.agreement_create(
                        key=f"a-{n}",
                        title=f"Agreement {n}",
                        kind=AgreementKind.SUMMIT_OUTCOME,
                        date=dt.date(2025, 10, 28),
                        time_zone=zone,
                        parties=[japan],
                    )
                )
            watcher = django_user_model.objects.create_user(
                username=f"watcher{next(counter)}", email="watcher@example.org"
            )
            subscription_create(user=watcher, scope=SubscriptionScope.ALL)
            for index in range(count):
                make_commitment(
                    agreement=agreements[index % len(agreements)],
                    deadline_kind="fixed",
                    deadline_date=dt.date(2025, 11, 10) + dt.timedelta(days=19 * index % 190),
                    offset_amount=None,
                    offset_unit="",
                    anchor_kind="",
                )

    return make


def _sql_of(call: Callable[[], object]) -> list[str]:
    """Return the statements ``call`` runs, in order."""
    with CaptureQueriesContext(connection) as queries:
        call()
    return [query["sql"] for query in queries]


def _statements(now: dt.datetime) -> int:
    return sum(1 for sql in _sql_of(lambda: scan(now=now)) if not sql.startswith(CONTROL))


def _scans(build, *, count: int, zones: int) -> tuple[int, int, int]:
    """Return the statements of a first scan, a no-change rescan and a scan a day later."""
    Alert.objects.all().delete()
    ScanRun.objects.all().delete()
    build(count=count, zones=zones)
    first_at = CREATED_AT + dt.timedelta(days=20)
    return (
        _statements(first_at),
        _statements(first_at),
        _statements(first_at + dt.timedelta(days=1)),
    )


def test_the_scan_runs_as_many_statements_for_three_times_the_rows_and_zones(build):
    """10 commitments in 2 zones, then 30 more in 6: the same statements, and few of them."""
    few = _scans(build, count=10, zones=2)
    many = _scans(build, count=30, zones=6)

    assert many == few
    first, rescan, next_day = few
    assert rescan <= 22, "a no-change rescan is a handful of round trips"
    assert max(first, next_day) <= 30


def test_a_scan_runs_the_statements_it_would_compile_afresh(build):
    """Statements compiled at earlier scans, their instants moved, are those compiled now."""
    build(count=30, zones=6)
    first_at = CREATED_AT + dt.timedelta(days=20)
    later = first_at + dt.timedelta(days=31)
    # The first scan's statements, then a windowed scan's, compiled at other instants.
    scan(now=first_at)
    scan(now=first_at + dt.timedelta(days=1))

    def statements() -> tuple[list[str], int]:
        with (
            transaction.atomic(),
            time_machine.travel(later, tick=False),
            CaptureQueriesContext(connection) as queries,
        ):
            result = scan(now=later)
            transaction.set_rollback(True)
        return [q["sql"] for q in queries if not q["sql"].startswith(CONTROL)], result.alerts

    compiled_before, alerts = statements()
    statements_forget()
    compiled_now, _alerts = statements()

    assert alerts > 0, "the scan compared writes alerts"
    assert compiled_before == compiled_now


def _reltuples(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return float(cursor.fetchone()[0])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ANALYZE is PostgreSQL's")
def test_statistics_are_refreshed_once_a_flagging_changed_autovacuums_share(make_commitment):
    """50 + 10 % of the table's rows changed: ANALYZE now, in the transaction; fewer: nothing."""
    from commitments.models import Commitment
    from core.statistics import statistics_refresh

    for _ in range(3):
        make_commitment()
    with connection.cursor() as cursor:
        cursor.execute('ANALYZE "commitments_commitment"')
    assert _reltuples("commitments_commitment") == 3
    for _ in range(3):
        make_commitment()
    with CaptureQueriesContext(connection) as queries:
        assert statistics_refresh(model=Commitment, changed=50) is False
    assert len(queries) == 0
    assert _reltuples("commitments_commitment") == 3
    assert statistics_refresh(model=Commitment, changed=51) is True
    assert _reltuples("commitments_commitment") == 6, "the uncommitted rows were not counted"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="VACUUM is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_flagging_moving_autovacuums_share_vacuums_the_table_after_its_commit(build, monkeypatch):
    """With autovacuum off, the index entries a big flagging left dead are gone before the
    next scan reads them.

    Read by bitmap scans, which never mark them dead, they cost every later rescan a visit
    to each moved row until a vacuum (0.9 s instead of a few ms at 1M rows). A flagging that
    moves few rows vacuums nothing; with autovacuum on, it is left to autovacuum.
    """
    from commitments.models import Commitment
    from commitments.services.deadline_states import deadline_states_flag

    monkeypatch.setattr("core.statistics._autovacuum_runs", lambda: False)
    build(count=100, zones=1)
    Commitment.objects.update(deadline_state="none", flagged_at=None)
    with connection.cursor() as cursor:
        cursor.execute('ANALYZE "commitments_commitment"')
    first_at = CREATED_AT + dt.timedelta(days=20)

    def flagging(now: dt.datetime) -> list[str]:
        return _sql_of(lambda: deadline_states_flag(now=now))

    first = flagging(first_at)
    assert first[-2:] == ["COMMIT", 'VACUUM "commitments_commitment"'], first[-3:]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'commitments_commitment'"
        )
        assert cursor.fetchone()[0] == 0
    assert not [sql for sql in flagging(first_at) if sql.startswith("VACUUM")]
    # A day later a few rows move, fewer than 50 + 20 % of the table: no vacuum.
    assert not [sql for sql in flagging(first_at + dt.timedelta(days=1)) if "VACUUM" in sql]
    # Where autovacuum runs, a big move is left to it.
    monkeypatch.setattr("core.statistics._autovacuum_runs", lambda: True)
    Commitment.objects.update(deadline_state="none", flagged_at=None)
    moved = flagging(first_at)
    assert not [sql for sql in moved if "VACUUM" in sql]
    assert "COMMIT" in moved


@pytest.mark.skipif(connection.vendor != "postgresql", reason="autovacuum is PostgreSQL's")
@pytest.mark.django_db
def test_the_server_says_whether_autovacuum_runs():
    from core.statistics import _autovacuum_runs

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        setting = cursor.fetchone()[0]
    assert _autovacuum_runs() is (setting == "on")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="VACUUM is PostgreSQL's")
def test_the_vacuum_is_left_to_autovacuum_under_a_callers_transaction(
    make_commitment, django_capture_on_commit_callbacks, monkeypatch
):
    """VACUUM cannot run in a transaction: run by a caller's commit inside one, it does nothing."""
    from commitments.models import Commitment
    from core.statistics import vacuum_after_commit

    monkeypatch.setattr("core.statistics._autovacuum_runs", lambda: False)
    make_commitment()
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        assert vacuum_after_commit(model=Commitment, changed=10_000) is True
    assert len(callbacks) == 1
    assert not [query for query in queries if "VACUUM" in query["sql"]]
    assert vacuum_after_commit(model=Commitment, changed=50) is False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ANALYZE is PostgreSQL's")
def test_a_first_scan_moving_most_rows_analyzes_them_before_its_outbox(build):
    """A first scan moving every row out of "none" plans its outbox on fresh statistics.

    Planned on the statistics of before (every row "none"), the outbox read that a later
    rescan needs only a few index entries for walked the whole occurrence index (0.3 s
    instead of 0.1 ms at 100k rows). A no-change rescan moves nothing and analyzes nothing.
    """
    from commitments.models import Commitment

    build(count=60, zones=1)
    # As bulk-loaded rows are (the bench's generator, a restored database): never flagged.
    Commitment.objects.update(deadline_state="none", flagged_at=None)
    first_at = CREATED_AT + dt.timedelta(days=20)

    def statements() -> list[str]:
        return [sql for sql in _sql_of(lambda: scan(now=first_at)) if not sql.startswith(CONTROL)]

    first = statements()
    analyzed = [sql for sql in first if sql.startswith("ANALYZE")]
    assert analyzed == ['ANALYZE "commitments_commitment"']
    outbox = next(i for i, sql in enumerate(first) if sql.startswith('INSERT INTO "alerts_alert"'))
    assert first.index('ANALYZE "commitments_commitment"') < outbox
    assert not [sql for sql in statements() if sql.startswith("ANALYZE")]


def _index_scans(plan: dict) -> list[dict]:
    """Return every node of an EXPLAIN (FORMAT JSON) plan that reads an index."""
    nodes = [plan] if "Index Name" in plan else []
    for child in plan.get("Plans", []):
        nodes += _index_scans(child)
    return nodes


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's")
def test_a_windowed_scan_reads_occurrences_by_instant_even_on_stale_statistics(
    agreement, japan, owner
):
    """Statistics from before the flags moved (no occurrence watched) do not mislead the plan.

    A scan after the watermark reads only the occurrences due in narrow windows. Every read of
    the occurrences' index must be bounded by the due instant: with the watched states as one
    list beside the windows, the planner took the list as the whole index condition on such
    statistics and walked every entry (0.1-0.5 s at 100k rows, to find none).
    """
    from tests import factories

    with time_machine.travel(CREATED_AT, tick=False):
        for day in (10, 20, 28):
            factories.month_end_series_make(
                agreement=agreement, obligor=japan, owner=owner, first=dt.date(2026, 4, day)
            )
    first_at = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    scan(now=first_at)
    with connection.cursor() as cursor:
        # Enough occurrences for the plan to matter: far-off ones of the last series, one a
        # day from 2030, as a bulk load leaves them (never flagged) and counted so; then all
        # flagged on track without a new count (autovacuum off, or not yet run).
        cursor.execute(
            "INSERT INTO commitments_occurrence (commitment_id, sequence, due_date, due_at,"
            " status, deadline_state, deadline_suspended, created, updated)"
            " SELECT c.id, 100 + n, DATE '2030-01-01' + n, TIMESTAMPTZ '2030-01-01' + n * INTERVAL"
            " '1 day', 'not_started', 'none', false, now(), now()"
            " FROM (SELECT max(commitment_id) AS id FROM commitments_occurrence) c,"
            " generate_series(1, 20000) n"
        )
        cursor.execute("ANALYZE commitments_occurrence")
        cursor.execute("UPDATE commitments_occurrence SET deadline_state = 'on_track'")
    with CaptureQueriesContext(connection) as queries:
        scan(now=first_at + dt.timedelta(minutes=15))
    # The outbox's due dates are read by the check whether there are any, then (if there are)
    # by the insert: every statement reading them is planned by instant.
    reads = [
        sql
        for sql in (q["sql"] for q in queries)
        if '"commitments_occurrence"."deadline_state" = ' in sql
    ]
    assert reads
    for sql in reads:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            (plan,) = cursor.fetchone()[0]
        occurrence_reads = [
            node
            for node in _index_scans(plan["Plan"])
            if node["Index Name"] == "occurrence_open_state_due"
        ]
        assert occurrence_reads, plan
        for node in occurrence_reads:
            assert re.search(r"due_at [<>]", node.get("Index Cond", "")), node


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pipelines are PostgreSQL's")
def test_a_no_change_rescan_waits_for_the_server_five_times(build, monkeypatch):
    """Its statements go in a few pipelines (the lock and reads, each table's flags, the
    reviews and record), not one wait each: on a loaded server each wait cost ~3 ms."""
    build(count=30, zones=6)
    first_at = CREATED_AT + dt.timedelta(days=20)
    scan(now=first_at)
    connection.ensure_connection()
    raw = connection.connection
    pipelines = []
    alone = []
    opened = raw.pipeline

    def pipeline():
        pipelines.append(1)
        return opened()

    def watch(execute, sql, params, many, context):
        if raw.pgconn.pipeline_status == 0 and not sql.startswith(CONTROL):
            alone.append(sql)
        return execute(sql, params, many, context)

    monkeypatch.setattr(raw, "pipeline", pipeline)
    with connection.execute_wrapper(watch):
        result = scan(now=first_at)

    assert result.idle
    # Under the test's transaction: no BEGIN and COMMIT (one more wait), no lazy commit.
    assert (len(pipelines), len(alone)) == (4, 1), alone
    assert alone[0].startswith("SELECT EXISTS")


LAZILY = "SELECT set_config('synchronous_commit', 'off', true)"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_only_a_scan_that_changed_nothing_in_its_own_transaction_commits_lazily(build):
    """Its record may be lost in a crash (the next scan looks again); nothing else may, and a
    caller's transaction commits as the caller asks."""
    build(count=30, zones=6)
    first_at = CREATED_AT + dt.timedelta(days=20)

    def statements(now: dt.datetime) -> list[str]:
        return _sql_of(lambda: scan(now=now))

    first = statements(first_at)
    rescan = statements(first_at)
    with transaction.atomic():
        rescan_in_a_transaction = statements(first_at)
    alerts = Alert.objects.count()
    month_later = statements(first_at + dt.timedelta(days=31))

    assert ScanRun.objects.count() == 4
    assert 0 < alerts < Alert.objects.count(), "the first scan and the month later wrote alerts"
    assert LAZILY not in first
    assert rescan.index(LAZILY) < rescan.index("COMMIT")
    assert LAZILY not in rescan_in_a_transaction
    assert LAZILY not in month_later
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",), "the setting was the transaction's only"
