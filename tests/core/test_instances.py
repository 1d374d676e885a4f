"""Instances read by ids through a statement compiled once per number of ids: as iterating the
queryset reads them, and related rows attached where ``prefetch_related`` puts them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from commitments.models import Commitment
from core import instances as instances_module
from core.instances import InstancesRead, prefetched
from tests import factories

pytestmark = pytest.mark.django_db


def _values(instance: Model | None) -> dict[str, object] | None:
    """Return every concrete field's value of ``instance`` (``None`` for no instance)."""
    if instance is None:
        return None
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def _with_relations(queryset):
    return queryset.order_by("pk").select_related("agreement", "obligor", "anchor_commitment")


@pytest.fixture
def commitments(make_commitment, usa):
    first = make_commitment(
        title="Hold the ministerial", machine_translations={"fr": {"title": "T"}}
    )
    return [
        first,
        make_commitment(obligor=usa, deadline_phrase="within 180 days"),
        make_commitment(title="Report", anchor_kind="commitment", anchor_commitment=first),
    ]


@pytest.fixture
def compiles(monkeypatch):
    """Count the statements :class:`InstancesRead` compiles."""
    counted: list[int] = []
    compile_once = instances_module._compile

    def counting(queryset):
        counted.append(1)
        return compile_once(queryset)

    monkeypatch.setattr(instances_module, "_compile", counting)
    return counted


def test_the_instances_are_the_querysets_with_their_selected_relations(commitments):
    read = InstancesRead(lambda ids: _with_relations(Commitment.objects.filter(pk__in=ids)))
    ids = [c.pk for c in reversed(commitments)]

    for _ in range(2):  # compiled, then run again compiled
        read_now = read(ids)
        expected = list(_with_relations(Commitment.objects.filter(pk__in=ids)))
        assert [c.pk for c in read_now] == [c.pk for c in expected]
        for got, want in zip(read_now, expected, strict=True):
            assert type(got) is Commitment
            assert _values(got) == _values(want)
            assert got.machine_translations == want.machine_translations  # converted as JSON
            with CaptureQueriesContext(connection) as queries:
                for relation in ("agreement", "obligor", "anchor_commitment"):
                    assert _values(getattr(got, relation)) == _values(getattr(want, relation))
            assert len(queries) == 0
            assert not got._state.adding and got._state.db == "default"


def test_a_statement_is_compiled_once_per_number_of_ids(commitments, compiles):
    read = InstancesRead(lambda ids: Commitment.objects.filter(pk__in=ids).order_by("pk"))
    pks = [c.pk for c in commitments]

    assert [c.pk for c in read(pks[:2])] == pks[:2]
    assert [c.pk for c in read(pks[1:])] == pks[1:]
    assert len(compiles) == 1
    assert [c.pk for c in read(pks)] == pks
    assert len(compiles) == 2
    assert read([]) == []
    assert [c.pk for c in read([pks[0], -1])] == [pks[0]]
    assert len(compiles) == 2


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)
def test_the_statement_is_prepared_once_with_its_ids_bound(commitments):
    """Past the connection's threshold, one prepared statement reads any ids of that number."""
    read = InstancesRead(lambda ids: _with_relations(Commitment.objects.filter(pk__in=ids)))
    pks = [c.pk for c in commitments]
    connection.ensure_connection()
    runs = connection.connection.prepare_threshold + 2

    for n in range(runs):
        first, second = pks[n % 3], pks[(n + 1) % 3]
        assert [c.pk for c in read([first, second])] == sorted([first, second])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ['%"commitments_commitment"."id" IN ($1, $2)%'],
        )
        [(plans,)] = cursor.fetchall()
    # Prepared after the threshold's runs, then executed without planning for each of the others.
    assert plans == runs - connection.connection.prepare_threshold


def test_a_statement_with_other_parameters_is_compiled_at_each_call(commitments, compiles):
    """A parameter that is not one of the ids would be replaced by an id: not kept."""
    read = InstancesRead(
        lambda ids: Commitment.objects.filter(pk__in=ids, title__startswith="Hold").order_by("pk")
    )
    pks = [c.pk for c in commitments]

    assert [c.pk for c in read(pks)] == [commitments[0].pk]
    assert [c.pk for c in read(pks)] == [commitments[0].pk]
    assert len(compiles) == 2


def test_related_rows_are_what_the_related_manager_answers(commitments, agreement):
    loaded = list(_with_relations(Commitment.objects.filter(pk__in=[c.pk for c in commitments])))
    extra = factories.party_make(name="Aa first")
    prefetched(
        loaded, "co_obligors", [(loaded[1].pk, extra), (loaded[0].pk, agreement.parties.first())]
    )

    with CaptureQueriesContext(connection) as queries:
        assert list(loaded[1].co_obligors.all()) == [extra]
        assert list(loaded[2].co_obligors.all()) == []
        assert [p.pk for p in loaded[1].obligor_list] == [loaded[1].obligor_id, extra.pk]
    assert len(queries) == 0
