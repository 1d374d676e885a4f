"""Statements the ORM compiles once per process and runs again at other instants.

A periodic service (the deadline scan) runs the same statements every few minutes, alike but
for ``now``: compiling them again from the querysets each time was two thirds of a scan with
nothing to do. :func:`statement_compiled` compiles a statement through its builder (the
domain's querysets, so the SQL stays the one home of its rule), once per process and key, and
on later calls only moves the instants in its parameters.

Where the instants are: the builder runs once at the caller's instants, then once more per
instant with that instant moved by :data:`SHIFT`. The SQL must come out the same; a parameter
that moved by exactly the shift is that instant plus a fixed duration (``now + 7 days``);
one that did not move is a constant; anything else (a date, a truncation, a value the shift
moved by another amount) refuses the statement with :class:`NotATemplate`. The shift is over a
year and not a whole number of days, hours or seconds, so no calendar value derived from an
instant can stay put or move by exactly as much.

The key names everything else the builder reads: the statement, and the data and settings it
depends on (lead times in use, a setting's value, a day). The memory is emptied when a
setting changes (tests), and holds a few hundred statements at most.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.core.signals import setting_changed
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet
from django.db.models.sql import InsertQuery, UpdateQuery
from django.dispatch import receiver

#: How far the builder's instants are moved to find them in its parameters.
SHIFT = dt.timedelta(days=400, hours=3, minutes=7, seconds=11, microseconds=13)
#: Statements remembered per process (the least recently used go first).
CAPACITY = 256

Builder = Callable[..., tuple[str, Sequence[Any]]]
T = TypeVar("T")


class NotATemplate(ValueError):
    """The builder's statement depends on an instant otherwise than by a fixed offset."""


@dataclass(frozen=True)
class _Moved:
    """A parameter that is the instant ``name`` plus ``offset``."""

    name: str
    offset: dt.timedelta


@dataclass(frozen=True)
class _Template:
    sql: str
    params: tuple[Any, ...]

    def bind(self, instants: dict[str, dt.datetime]) -> list[Any]:
        return [
            _adapt(instants[p.name] + p.offset) if isinstance(p, _Moved) else p for p in self.params
        ]


_templates: OrderedDict[Hashable, _Template] = OrderedDict()
#: Threads of one process (a threaded web server or worker) share the memory.
_lock = threading.Lock()


def statements_forget() -> None:
    """Forget every compiled statement: the next call of each compiles it afresh."""
    with _lock:
        _templates.clear()


@receiver(setting_changed)
def _settings_changed(**kwargs: object) -> None:
    statements_forget()


def statement_compiled(
    key: Hashable, build: Builder, **instants: dt.datetime
) -> tuple[str, list[Any]]:
    """Return ``build(**instants)`` as SQL and parameters, compiled once per process and key.

    ``build`` takes the instants as keyword arguments and returns SQL and parameters; ``key``
    must tell apart everything else it reads (see the module's docstring).
    """
    full_key = (connection.alias, connection.vendor, key)
    with _lock:
        template = _templates.get(full_key)
        if template is not None:
            _templates.move_to_end(full_key)
    if template is None:
        # Compiled outside the lock: two threads may both compile it, alike.
        template = _template(build, instants)
        with _lock:
            _templates[full_key] = template
            if len(_templates) > CAPACITY:
                _templates.popitem(last=False)
    return template.sql, template.bind(instants)


def update_sql(queryset: QuerySet[Any], **values: Any) -> tuple[str, Sequence[Any]]:
    """Return the ``UPDATE`` that ``queryset.update(**values)`` runs, without running it."""
    query = cast(UpdateQuery, queryset.order_by().query.chain(UpdateQuery))
    query.add_update_values(values)
    query.clear_select_clause()
    return query.get_compiler(queryset.db).as_sql()


@dataclass(frozen=True)
class Ran:
    """What one statement of :func:`statements_run` did: rows changed, and rows read."""

    #: Rows written, or returned (a ``SELECT``'s count is not the driver's, -1 on SQLite).
    rowcount: int
    #: The rows a statement that returns rows returned (``None`` for one that returns none).
    rows: list[tuple[Any, ...]] | None


def statements_run(statements: Sequence[tuple[str, Sequence[Any]]]) -> list[Ran]:
    """Run ``(sql, params)`` statements in order, as separate statements; return what each did.

    On PostgreSQL they are sent in one pipeline: one wait for the server for all of them,
    instead of one each. A periodic service that finds nothing to do runs a dozen statements
    of a fraction of a millisecond each; on a loaded server each wait cost about 3 ms, most
    of its time. Each statement is planned and run as if alone (same SQL, same plan, its own
    snapshot), so a statement may read what the ones before it wrote; an error stops the rest
    and is raised as ``cursor.execute`` raises it. Elsewhere they run one by one.
    """
    cursors: list[CursorWrapper] = []
    if connection.vendor == "postgresql" and len(statements) > 1:
        connection.ensure_connection()
        with connection.wrap_database_errors, connection.connection.pipeline():
            for sql, params in statements:
                cursor = connection.cursor()
                cursors.append(cursor)
                cursor.execute(sql, params)
    else:
        for sql, params in statements:
            cursor = connection.cursor()
            cursors.append(cursor)
            cursor.execute(sql, params)
    try:
        return [_ran(cursor) for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


def _ran(cursor: CursorWrapper) -> Ran:
    if cursor.description is None:
        return Ran(rowcount=cursor.rowcount, rows=None)
    rows = cursor.fetchall()
    return Ran(rowcount=len(rows), rows=rows)


@dataclass(frozen=True)
class Batch(Generic[T]):
    """Statements that can be sent with others (:func:`batches_run`), and what their results
    mean: ``result`` takes what each of them did, in order."""

    statements: Sequence[tuple[str, Sequence[Any]]]
    result: Callable[[Sequence[Ran]], T]


def batches_run(*batches: Batch[Any]) -> list[Any]:
    """Run the statements of every batch, in order, in one :func:`statements_run`; return
    each batch's result."""
    ran = statements_run([statement for batch in batches for statement in batch.statements])
    results, start = [], 0
    for batch in batches:
        end = start + len(batch.statements)
        results.append(batch.result(ran[start:end]))
        start = end
    return results


def insert_sql(instance: Model) -> tuple[str, Sequence[Any]]:
    """Return the ``INSERT`` that saving the new ``instance`` runs (its defaults and
    ``auto_now_add`` filled in, no ``RETURNING``), without running it or sending signals."""
    meta = instance._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    query = InsertQuery(type(instance))
    query.insert_values(fields, [instance])
    [(sql, params)] = query.get_compiler(connection.alias).as_sql()
    return sql, params


class QueryRead:
    """A queryset's ``SELECT`` to run among :func:`statements_run`'s statements, and its rows
    converted as iterating the queryset converts them (instants from text on SQLite)."""

    def __init__(self, queryset: QuerySet[Any, Any]) -> None:
        self._compiler = queryset.query.get_compiler(queryset.db)
        self.statement: tuple[str, Sequence[Any]] = self._compiler.as_sql()

    def rows(self, ran: Ran) -> list[tuple[Any, ...]]:
        """Return the rows ``ran`` (this statement's result) holds."""
        return list(self._compiler.results_iter(results=[ran.rows or []], tuple_expected=True))


def _template(build: Builder, instants: dict[str, dt.datetime]) -> _Template:
    sql, base = build(**instants)
    params: list[Any] = list(base)
    for name, instant in instants.items():
        moved_sql, moved = build(**{**instants, name: instant + SHIFT})
        if moved_sql != sql or len(moved) != len(base):
            raise NotATemplate(f"moving {name!r} changed the statement's SQL")
        for position, (value, moved_value) in enumerate(zip(base, moved, strict=True)):
            if value == moved_value:
                continue
            was, now = _as_instant(value), _as_instant(moved_value)
            origin = _as_instant(_adapt(instant))
            if was is None or now is None or origin is None:
                raise NotATemplate(f"parameter {position} depends on {name!r}: {value!r}")
            if now - was != SHIFT or isinstance(params[position], _Moved):
                raise NotATemplate(f"parameter {position} is not {name!r} plus a fixed time")
            params[position] = _Moved(name, was - origin)
    return _Template(sql=sql, params=tuple(params))


def _adapt(instant: dt.datetime) -> Any:
    """Return ``instant`` as the ORM passes it to the database (text on SQLite)."""
    return connection.ops.adapt_datetimefield_value(instant)


def _as_instant(value: Any) -> dt.datetime | None:
    """Return the instant an adapted parameter stands for, or ``None`` if it is not one."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and len(value) > len("YYYY-MM-DD"):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None
