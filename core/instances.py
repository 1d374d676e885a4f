"""Model instances read by ids through a statement the ORM compiles once per number of ids.

A sender loads what its messages need a claim at a time: the same queryset (its joins, its
order) for other ids, claim after claim. Compiling it again each time (the joins' columns,
the order, the converters) and letting ``prefetch_related`` build a related manager's
queryset for every instance was two thirds of the load's CPU (the alerts' claims of 50:
0.40-0.45 ms an alert, 0.14-0.15 without). :class:`InstancesRead` compiles its
builder's queryset once per number of ids and per database, then runs that SQL with other ids
and builds the instances as iterating the queryset builds them (``select_related`` objects
included, values converted by the same converters). :func:`prefetched` attaches related rows
read that way where ``prefetch_related`` would have put them.

On PostgreSQL the statement also goes through :func:`core.prepared.prepared_cursor` with the
ids bound on the server: one text per number of ids, which the connection prepares once it
ran ``prepare_threshold`` times, so PostgreSQL stops parsing and planning it too (the alerts'
claim of 50, nine tables joined: 6 ms of planning for 6 of execution). Its plan does not
depend on the ids (a look-up of each by its key), so the generic plan PostgreSQL settles on
is the plan of any of them.

The builder is the queryset (the one home of its joins and order); it must filter by the ids
it is given and take no other parameter, which is checked when it is compiled: a statement
whose parameters are not exactly the ids is compiled again at each call. A compiled
statement keeps the compiler of the thread that compiled it; only its converters are used
again, which read the backend's operations and settings, not the connection's state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.signals import setting_changed
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]
from django.db.models.sql.compiler import SQLCompiler
from django.dispatch import receiver

from core.prepared import prepared_cursor

M = TypeVar("M", bound=Model)

#: Shapes kept per read (numbers of ids): claims come in a few sizes.
CAPACITY = 64


@dataclass(frozen=True)
class _Compiled:
    compiler: SQLCompiler
    sql: str
    init_list: list[str]
    start: int
    end: int
    populators: list[Any]


class InstancesRead(Generic[M]):
    """Read the instances ``build(ids)`` returns, its SQL compiled once per number of ids."""

    def __init__(self, build: Callable[[list[Any]], QuerySet[M]]) -> None:
        self._build = build
        self._compiled: dict[tuple[str, int], _Compiled] = {}
        self._lock = threading.Lock()
        _reads.append(self)

    def __call__(self, ids: Iterable[Any]) -> list[M]:
        """Return the instances of ``build(ids)``, in its order."""
        ids = list(ids)
        if not ids:
            return []
        queryset = self._build(ids)
        key = (queryset.db, len(ids))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled, params = _compile(queryset)
            if list(params) != ids:
                # Not a statement of the ids alone: the ORM compiles it each time.
                return list(queryset)
            with self._lock:
                if len(self._compiled) >= CAPACITY:
                    self._compiled.clear()
                self._compiled[key] = compiled
        with prepared_cursor(connections[queryset.db], bound=True) as cursor:
            cursor.execute(compiled.sql, ids)
            rows = cursor.fetchall()
        return _instances(compiled, rows, db=queryset.db)

    def forget(self) -> None:
        """Forget the compiled statements: the next call of each shape compiles afresh."""
        with self._lock:
            self._compiled.clear()


_reads: list[InstancesRead[Any]] = []


@receiver(setting_changed)
def _settings_changed(**kwargs: object) -> None:
    for read in _reads:
        read.forget()


def _compile(queryset: QuerySet[Any]) -> tuple[_Compiled, Sequence[Any]]:
    """Compile ``queryset`` as iterating it would; return what building its rows needs."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    klass_info = compiler.klass_info
    if klass_info is None or compiler.annotation_col_map or queryset._known_related_objects:  # type: ignore[attr-defined]
        raise TypeError("InstancesRead reads plain model instances (select_related allowed)")
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    compiled = _Compiled(
        compiler=compiler,
        sql=sql,
        init_list=[column[0].target.attname for column in compiler.select[start:end]],
        start=start,
        end=end,
        populators=get_related_populators(klass_info, compiler.select, queryset.db),
    )
    return compiled, params


def _instances(compiled: _Compiled, rows: list[Sequence[Any]], *, db: str) -> list[Any]:
    """Build the instances of ``rows`` as Django's ``ModelIterable`` builds them."""
    model = compiled.compiler.klass_info["model"]  # type: ignore[index]
    instances = []
    for row in compiled.compiler.results_iter(results=[rows]):
        instance = model.from_db(db, compiled.init_list, row[compiled.start : compiled.end])
        for populator in compiled.populators:
            populator.populate(row, instance)
        instances.append(instance)
    return instances


def prefetched(instances: Iterable[Model], name: str, related: Iterable[tuple[Any, Model]]) -> None:
    """Attach ``related`` to ``instances`` as ``prefetch_related(name)`` would have.

    ``related`` holds pairs: the pk of the instance a row belongs to, and the row. Each
    instance gets, under ``name`` in its prefetch cache, the list of its rows in ``related``'s
    order: its related manager's ``all()`` returns that list (iterable, with no further
    query), and :attr:`commitments.models.Commitment.obligor_list` reads it there. A list, not
    a queryset: a caller that would filter it fails at once rather than query without the
    relation's filter.
    """
    groups: dict[Any, list[Model]] = {}
    for owner, row in related:
        groups.setdefault(owner, []).append(row)
    for instance in instances:
        cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
        cache[name] = groups.get(instance.pk, [])
