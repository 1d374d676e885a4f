"""The prepared cursor: Django's cursor in every way a caller sees, planned once on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, utils
from django.test.utils import CaptureQueriesContext

from core.prepared import PREPARED_MAX, prepared_cursor

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)

#: Values Django's own cursor writes into a statement: quotes, a percent sign, a backslash,
#: accents, an instant, a date, None and a number, with a literal "%%" in the text.
STATEMENT = "SELECT %s, %s, %s, %s, %s, %s, 'a %% b'"
VALUES = ("l'État 100 %", "back\\slash", dt.date(2026, 3, 31), None, 7, "« guillemets »")


def _rows(cursor_of, sql: str, params=None) -> list[tuple]:
    with cursor_of(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _prepared_texts() -> dict[str, tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {text: (generic, custom) for text, generic, custom in cursor.fetchall()}


def test_it_answers_as_django_s_own_cursor_with_or_without_values():
    """Same rows, on either database: values written in, "%%" as "%" only with values."""
    plain = _rows(lambda c: c.cursor(), STATEMENT, VALUES)

    assert _rows(prepared_cursor, STATEMENT, VALUES) == plain
    assert plain[0][:2] == ("l'État 100 %", "back\\slash") and plain[0][-1] == "a % b"
    assert _rows(prepared_cursor, "SELECT 'a %% b'", ()) == [("a % b",)]
    assert _rows(prepared_cursor, "SELECT 'a %% b'") == [("a %% b",)]


def test_its_statements_go_through_django_s_wrappers_and_errors():
    """The query log and execute wrappers see them; a driver error comes as Django's."""
    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(wrapper):
        _rows(prepared_cursor, "SELECT %s", (1,))
    assert seen == ["SELECT %s"]
    assert len(captured) == 1 and "SELECT 1" in captured[0]["sql"]

    # PostgreSQL's undefined column is a ProgrammingError, SQLite's an OperationalError.
    with pytest.raises((utils.ProgrammingError, utils.OperationalError)):
        _rows(prepared_cursor, "SELECT no_such_column FROM (SELECT %s) AS t", (1,))


@on_postgresql
def test_the_same_text_is_prepared_at_the_threshold_and_planned_once():
    """From the threshold's run on, the statement is prepared and reuses its one plan."""
    connection.ensure_connection()
    threshold = connection.connection.prepare_threshold
    assert threshold == 5
    text = "SELECT count(*) FROM pg_class WHERE relname <> %s"

    for _ in range(threshold):
        _rows(prepared_cursor, text, ("x-prepared",))
    assert not any("x-prepared" in t for t in _prepared_texts())

    for _ in range(3):
        _rows(prepared_cursor, text, ("x-prepared",))
    [(generic, custom)] = [v for t, v in _prepared_texts().items() if "x-prepared" in t]
    assert (generic, custom) == (3, 0)  # no parameters: one plan, never planned again

    # Other values are another text, not prepared before their own threshold.
    _rows(prepared_cursor, text, ("y-other",))
    assert not any("y-other" in t for t in _prepared_texts())


def test_bound_values_answer_as_written_ones():
    """Bound on the server, the same rows as Django's cursor (on either database)."""
    statement = "SELECT %s, %s, %s, %s"
    values = ("l'État 100 %", dt.date(2026, 3, 31), 7, "« guillemets »")
    bound = _rows(lambda c: prepared_cursor(c, bound=True), statement, values)
    assert bound == _rows(lambda c: c.cursor(), statement, values)


@on_postgresql
def test_bound_values_make_one_prepared_statement_for_every_value():
    """One text for all the values: prepared once, whatever value comes next."""
    connection.ensure_connection()
    text = "SELECT count(*) FROM pg_class WHERE relname <> %s AND 'b-bound' <> ''"
    for n in range(connection.connection.prepare_threshold + 3):
        assert _rows(lambda c: prepared_cursor(c, bound=True), text, (f"v-{n}",)) != []
    [prepared] = [t for t in _prepared_texts() if "b-bound" in t]
    assert "$1" in prepared and "v-" not in prepared


@on_postgresql
def test_a_prepared_statement_reads_a_table_changed_since():
    """After a column is added and rows change, the prepared statement answers afresh."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE prepared_probe (id int, label text)")
        cursor.execute("INSERT INTO prepared_probe VALUES (1, 'one')")
    text = "SELECT * FROM prepared_probe WHERE id >= %s ORDER BY id"
    for _ in range(6):
        assert _rows(prepared_cursor, text, (1,)) == [(1, "one")]

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE prepared_probe ADD COLUMN note text DEFAULT 'n'")
        cursor.execute("INSERT INTO prepared_probe VALUES (2, 'two', 'm')")
    assert _rows(prepared_cursor, text, (1,)) == [(1, "one", "n"), (2, "two", "m")]


@on_postgresql
def test_without_a_threshold_nothing_is_prepared(monkeypatch):
    """prepare_threshold None (connection poolers in transaction mode) prepares nothing."""
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    for _ in range(8):
        _rows(prepared_cursor, "SELECT %s", ("z-never",))
    assert not any("z-never" in t for t in _prepared_texts())


@on_postgresql
def test_a_connection_keeps_only_a_few_statements_prepared():
    """Each prepared plan holds server memory: a connection keeps PREPARED_MAX of them."""
    connection.ensure_connection()
    assert connection.connection.prepared_max == PREPARED_MAX
    threshold = connection.connection.prepare_threshold
    for n in range(PREPARED_MAX + 4):
        for _ in range(threshold + 1):
            _rows(prepared_cursor, "SELECT %s", (f"k-{n}",))
    # psycopg deallocates the least recently used one at its next preparing run.
    assert PREPARED_MAX <= sum("k-" in t for t in _prepared_texts()) <= PREPARED_MAX + 1
