"""Statements compiled once and run again at other instants: as compiled afresh, or refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext, override_settings

from commitments.models import Commitment
from core.statements import NotATemplate, statement_compiled, update_sql

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
