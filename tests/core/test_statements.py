"""Statements compiled once and run again at other instants: as compiled afresh, or refused."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext, override_settings

from alerts.models import ScanRun
from commitments.models import Commitment
from core.statements import (
    Batch,
    NotATemplate,
    QueryRead,
    batches_run,
    insert_sql,
    statement_compiled,
    statements_run,
    update_sql,
)

pytestmark = pytest.mark.django_db

T1 = dt.datetime(2026, 4, 27, 0, 0, tzinfo=dt.UTC)
LATER = [
    T1 + dt.timedelta(minutes=15),
    dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),
    dt.datetime(2031, 2, 28, 23, 59, 59, 999_999, tzinfo=dt.UTC),
]


def _windows(*, now: dt.datetime, since: dt.datetime) -> tuple[str, list]:
    rows = Commitment.objects.filter(
        Q(due_at__gt=since + dt.timedelta(days=7), due_at__lte=now + dt.timedelta(days=7))
        | Q(due_at__gte=since, due_at__lt=now),
        key__startswith="a-",
    )
    sql, params = rows.values_list("pk").query.sql_with_params()
    return sql, list(params)


def test_a_statement_compiled_once_is_the_one_compiled_at_each_later_instant():
    """The instants move in the parameters as the builder moves them; the rest stays."""
    statement_compiled("windows", _windows, now=T1, since=T1 - dt.timedelta(hours=1))

    for now in LATER:
        since = now - dt.timedelta(minutes=15)
        assert statement_compiled("windows", _windows, now=now, since=since) == _windows(
            now=now, since=since
        )


def test_an_update_compiled_once_writes_what_the_update_writes_afresh():
    """``update_sql`` is the statement ``QuerySet.update`` runs, here at two instants."""

    def mark(*, now: dt.datetime) -> tuple:
        return update_sql(Commitment.objects.overdue(now), flagged_at=now)

    statement_compiled("mark overdue", mark, now=T1)
    now = LATER[1]
    with CaptureQueriesContext(connection) as updated:
        Commitment.objects.overdue(now).update(flagged_at=now)
    sql, params = statement_compiled("mark overdue", mark, now=now)
    with CaptureQueriesContext(connection) as compiled, connection.cursor() as cursor:
        cursor.execute(sql, params)

    assert [q["sql"] for q in compiled] == [q["sql"] for q in updated]


@pytest.mark.parametrize(
    "derived",
    [
        pytest.param(lambda now: Q(due_date__gte=now.date()), id="a date"),
        pytest.param(lambda now: Q(due_at__gte=now.replace(minute=0, second=0)), id="an hour"),
        pytest.param(lambda now: Q(due_at__gte=now + (now - T1)), id="twice the instant"),
    ],
)
def test_a_statement_depending_on_an_instant_otherwise_than_by_a_fixed_time_is_refused(derived):
    """Reused, its parameter would be wrong: it is refused when first compiled."""

    def build(*, now: dt.datetime) -> tuple:
        return Commitment.objects.filter(derived(now)).query.sql_with_params()

    with pytest.raises(NotATemplate):
        statement_compiled(("derived", id(derived)), build, now=T1)


def test_a_changed_setting_empties_the_memory(settings):
    """A builder reading a setting compiles afresh once it changes (tests change them)."""

    def soon(*, now: dt.datetime) -> tuple:
        days = settings.TRACKER_DUE_SOON_DAYS
        sql, params = Commitment.objects.due_within(now, days).query.sql_with_params()
        return sql, list(params)

    statement_compiled("soon", soon, now=T1)
    with override_settings(TRACKER_DUE_SOON_DAYS=settings.TRACKER_DUE_SOON_DAYS + 3):
        assert statement_compiled("soon", soon, now=LATER[0]) == soon(now=LATER[0])


def _one_by_one(statements: list[tuple[str, list]]) -> list[tuple[int, list | None]]:
    """Return, per statement run alone, the rows it wrote or (a read) the rows it read."""
    done: list[tuple[int, list | None]] = []
    for sql, params in statements:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.description is None:
                done.append((cursor.rowcount, None))
            else:
                rows = cursor.fetchall()
                done.append((len(rows), rows))
    return done


def test_statements_run_together_do_what_they_do_one_by_one(make_commitment):
    """Pipelined on PostgreSQL, each statement sees the writes of those before it, and says
    what it changed and read as it does run alone."""
    make_commitment(key="a-1", title="One")
    make_commitment(key="a-2", title="Two")
    statements = [
        ("UPDATE commitments_commitment SET title = %s WHERE key LIKE %s", ["Renamed", "a-%"]),
        (
            "SELECT key, title FROM commitments_commitment WHERE title = %s ORDER BY key",
            ["Renamed"],
        ),
        ("UPDATE commitments_commitment SET title = %s WHERE key = %s", ["Three", "none"]),
    ]

    with transaction.atomic():
        together = statements_run(statements)
        transaction.set_rollback(True)
    alone = _one_by_one(statements)

    assert [(ran.rowcount, ran.rows) for ran in together] == alone
    assert alone == [(2, None), (2, [("a-1", "Renamed"), ("a-2", "Renamed")]), (0, None)]


def test_statements_run_together_stop_at_an_error_raised_as_django_raises_it(make_commitment):
    """The statement that fails raises the database error Django raises; the rest do not run."""
    make_commitment(key="a-1", title="One")
    make_commitment(key="a-2", title="Two")

    with pytest.raises(IntegrityError), transaction.atomic():
        statements_run(
            [
                ("UPDATE commitments_commitment SET title = %s WHERE key = %s", ["Changed", "a-1"]),
                ("UPDATE commitments_commitment SET key = %s WHERE key = %s", ["a-1", "a-2"]),
                ("UPDATE commitments_commitment SET title = %s WHERE key = %s", ["Changed", "a-2"]),
            ]
        )

    assert sorted(Commitment.objects.values_list("key", "title")) == [
        ("a-1", "One"),
        ("a-2", "Two"),
    ]


def test_batches_run_together_give_each_batch_its_own_results(make_commitment):
    """Each batch's result reads its own statements' outcomes, in order."""
    make_commitment(key="a-1", title="One")
    count: tuple[str, list] = ("SELECT COUNT(*) FROM commitments_commitment", [])
    rename = ("UPDATE commitments_commitment SET title = %s", ["Renamed"])

    counted, nothing, renamed = batches_run(
        Batch(statements=[count], result=lambda ran: ran[0].rows),
        Batch(statements=[], result=lambda ran: len(ran)),
        Batch(statements=[rename, count], result=lambda ran: (ran[0].rowcount, ran[1].rows)),
    )

    assert (counted, nothing, renamed) == ([(1,)], 0, (1, [(1,)]))


def test_insert_sql_writes_the_row_saving_writes():
    """Defaults and ``auto_now_add`` filled in as ``save`` fills them, no signal needed."""
    with time_machine.travel(T1, tick=False):
        saved = ScanRun.objects.create(now=LATER[0], changed=3)
        sql, params = insert_sql(ScanRun(now=LATER[0], changed=3))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    fields = ("now", "changed", "alerts", "escalations", "ran_at")
    inserted = ScanRun.objects.exclude(pk=saved.pk).values(*fields).get()
    assert inserted == ScanRun.objects.filter(pk=saved.pk).values(*fields).get()
    assert inserted["ran_at"] == T1


def test_a_query_read_among_statements_gives_the_rows_iterating_gives(make_commitment):
    """Instants come back as instants on every database (SQLite returns text)."""
    ScanRun.objects.create(now=LATER[1])
    ScanRun.objects.create(now=LATER[2])
    make_commitment(key="a-1", title="One")
    queryset = ScanRun.objects.values_list("now", "changed")
    read = QueryRead(queryset)

    [ran] = statements_run([read.statement])

    assert read.rows(ran) == list(queryset) == [(LATER[2], 0), (LATER[1], 0)]
