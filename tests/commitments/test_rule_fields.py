"""The deadline rule's fields are defined once, in ``deadlines.RULE_FIELDS``, and every layer
(model, services, admin, CSV import, API serializer, list reader, error mapper, seeds) takes
its rule fields from that definition."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from typing import Any

from django.contrib import admin

from commitments import deadlines
from commitments.admin.inlines import AgreementCommitmentInline
from commitments.api.readers import COMMITMENT_COLUMNS
from commitments.api.serializers import DeadlineRuleSerializer
from commitments.forms import CommitmentAdminForm
from commitments.models import Commitment
from commitments.resources import CommitmentResource
from commitments.services.commitments import COMMITMENT_INPUT_FIELDS
from core.rest.exceptions import NESTED_FIELDS

NAMES = list(deadlines.RULE_FIELD_NAMES)
MODEL_FIELDS: dict[str, Any] = {field.name: field for field in Commitment._meta.concrete_fields}


def _flat(rows):
    return list(
        itertools.chain.from_iterable(row if isinstance(row, tuple) else (row,) for row in rows)
    )


def test_every_part_is_a_commitment_field_whose_empty_value_is_the_fields_own():
    for field in deadlines.RULE_FIELDS:
        model_field = MODEL_FIELDS[field.name]
        expected = None if model_field.null else model_field.get_default()
        assert field.empty == expected, field.name


def test_every_engine_parameter_is_stored_by_exactly_one_part():
    attributes = [field.attribute for field in deadlines.RULE_FIELDS if field.attribute]
    assert sorted(attributes) == sorted(f.name for f in dataclasses.fields(deadlines.DeadlineRule))


def test_the_models_rule_is_built_from_the_definition(make_commitment):
    rule = {
        **deadlines.RULE_EMPTY_VALUES,
        "deadline_kind": "period_end",
        "period_unit": "quarter",
        "period_number": 2,
        "period_year": 2026,
    }
    commitment = make_commitment(**rule)
    assert commitment.rule == deadlines.DeadlineRule(
        kind=deadlines.RuleKind.PERIOD_END,
        period_unit=deadlines.PeriodUnit.QUARTER,
        period_number=2,
        period_year=2026,
    )
    assert commitment.due_date == dt.date(2026, 6, 30)


def test_empty_stored_values_are_an_empty_rule():
    rule = deadlines.rule_from_stored(deadlines.RULE_EMPTY_VALUES)
    assert rule == deadlines.DeadlineRule(kind=deadlines.RuleKind.NONE)


def test_the_services_accept_every_part():
    assert set(NAMES) <= COMMITMENT_INPUT_FIELDS


def test_the_admin_form_inline_and_fieldset_show_every_part():
    form_fields: Any = CommitmentAdminForm._meta.fields  # type: ignore[misc]
    assert [name for name in form_fields if name in NAMES] == NAMES
    fieldsets: Any = admin.site._registry[Commitment].fieldsets
    shown = _flat(itertools.chain.from_iterable(options["fields"] for _t, options in fieldsets))
    assert [name for name in shown if name in NAMES] == NAMES
    inline = _flat(itertools.chain.from_iterable(
        options["fields"] for _t, options in AgreementCommitmentInline.fieldsets
    ))
    relations = {name for name in NAMES if MODEL_FIELDS[name].is_relation}
    expected = [f.name for f in deadlines.RULE_FIELDS]
    assert [name for name in inline if name in NAMES] == [
        name for name in expected if name not in relations
    ]


def test_the_csv_import_reads_every_part_strictly():
    resource = CommitmentResource()
    columns = [field.column_name for field in resource.get_import_fields()]
    assert [name for name in columns if name in NAMES] == NAMES
    for name in NAMES:
        widget = resource.fields[name].widget
        model_field = MODEL_FIELDS[name]
        if model_field.is_relation:
            assert widget.model is model_field.related_model and widget.field == "key"
        elif model_field.get_internal_type().endswith("IntegerField"):
            assert type(widget).__name__ == "StrictIntegerWidget"


def test_the_api_shows_every_part_under_its_key():
    fields: Any = DeadlineRuleSerializer().fields
    assert set(fields) == {field.key for field in deadlines.RULE_FIELDS} | {"description"}
    for field in deadlines.RULE_FIELDS:
        assert fields[field.key].source == field.name
        assert fields[field.key].required is (field is deadlines.KIND_FIELD)
        assert NESTED_FIELDS[field.name] == ("deadline_rule", field.key)
    for field in deadlines.PARAMETER_FIELDS:
        if field.maximum is not None:
            assert fields[field.key].max_value == field.maximum
            assert fields[field.key].min_value == field.minimum


def test_the_list_reader_reads_every_part():
    for name in NAMES:
        assert MODEL_FIELDS[name].attname in COMMITMENT_COLUMNS
