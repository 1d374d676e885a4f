"""Hostile input through the admin's forms: a field error on the page, never a server error.

The admins and their inlines are found from the admin registry, so a new model, field or inline
is covered without editing these tests.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin, InlineModelAdmin
from django.db.models import Model, UniqueConstraint
from django.forms import CheckboxInput
from django.test import RequestFactory
from django.urls import reverse

from commitments.admin.inlines import AgreementCommitmentInline, CommitmentRelationInline
from commitments.models import CommitmentRelation
from core.admin import INLINE_MAX_ROWS, AdminInputMixin, UniqueRowsInlineFormSet
from tests import factories

pytestmark = pytest.mark.django_db

#: Values that are not keys: a word, a digit ``int()`` refuses, a float, a key no row has, and
#: a number beyond the key's range.
NOT_KEYS = ["abc", "²", "1e30", "-1", "99999999999999999999"]

_PROJECT_APPS = {
    "core",
    "commitments",
    "alerts",
    "api",
    "webhooks",
    "feeds",
    "dashboard",
    "accounts",
}


def _project_admins() -> list[BaseModelAdmin]:
    """Return every model admin of the project's own models and each of its inlines."""
    found: list[BaseModelAdmin] = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in _PROJECT_APPS:
            found.append(model_admin)
            found.extend(cls(model, admin.site) for cls in model_admin.inlines)
    return found


def _superuser_request():
    request = RequestFactory().get("/")
    request.user = factories.user_make(username="root", is_staff=True, is_superuser=True)
    return request


def _autocomplete_cases() -> list[tuple[type[Model], type[InlineModelAdmin] | None, str]]:
    """Return (registered model, inline class or None, field) for every autocomplete field."""
    request = RequestFactory().get("/")
    cases: list[tuple[type[Model], type[InlineModelAdmin] | None, str]] = []
    for model, model_admin in admin.site._registry.items():
        for field in model_admin.get_autocomplete_fields(request):
            cases.append((model, None, field))
        for inline in model_admin.inlines:
            for field in inline(model, admin.site).get_autocomplete_fields(request):
                cases.append((model, inline, field))
    return cases


def _case_id(case: tuple[type[Model], type[InlineModelAdmin] | None, str]) -> str:
    model, inline, field = case
    return f"{model._meta.label}:{inline.__name__ + ':' if inline else ''}{field}"


def _row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in admin.site._registry}


def _page_data(response) -> dict[str, Any]:
    """Return the management forms of the page's inlines (every inline submitted empty)."""
    data: dict[str, Any] = {}
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value() or 0)
    return data


def _unchanged_data(response) -> dict[str, Any]:
    """Return what the page would submit unchanged: its main form and every inline row."""
    forms_ = [response.context["adminform"].form]
    data = _page_data(response)
    for inline in response.context["inline_admin_formsets"]:
        forms_.extend(inline.formset.forms)
    for form in forms_:
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(field.widget, CheckboxInput):
                if value:
                    data[form.add_prefix(name)] = "on"
            elif isinstance(value, list | tuple):
                data[form.add_prefix(name)] = [str(getattr(v, "pk", v)) for v in value]
            elif value is not None:
                data[form.add_prefix(name)] = str(getattr(value, "pk", value))
    return data


def _inline_formset(response, inline: type[InlineModelAdmin]):
    return next(
        wrapper.formset
        for wrapper in response.context["inline_admin_formsets"]
        if type(wrapper.opts) is inline
    )


def test_every_project_admin_and_inline_takes_the_admin_input_checks():
    """The hostile-input checks are installed by one base: no admin of ours may do without."""
    missing = [repr(a) for a in _project_admins() if not isinstance(a, AdminInputMixin)]
    assert not missing


def test_autocomplete_fields_are_found():
    """The walk below is not empty (the registry is the source of the cases)."""
    assert len(_autocomplete_cases()) >= 10


@pytest.mark.parametrize("case", _autocomplete_cases(), ids=_case_id)
def test_autocomplete_field_given_a_value_that_is_not_a_key_is_a_field_error(admin_client, case):
    """The page was rendered again with the raw value as a key: ``ValueError``, a 500."""
    model, inline, field = case
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    page = admin_client.get(url)
    assert page.status_code == 200
    before = _row_counts()
    for value in NOT_KEYS:
        data = _page_data(page)
        if inline is None:
            name = field
        else:
            prefix = _inline_formset(page, inline).prefix
            data[f"{prefix}-TOTAL_FORMS"] = "1"
            name = f"{prefix}-0-{field}"
        data[name] = value
        response = admin_client.post(url, data)
        assert response.status_code == 200, (value, response.status_code)
        if inline is None:
            errors = response.context["adminform"].form.errors
        else:
            errors = _inline_formset(response, inline).forms[0].errors
        assert field in errors, (value, errors)
        assert _row_counts() == before


@pytest.mark.parametrize("value", NOT_KEYS)
def test_status_change_evidence_source_that_is_not_a_key_is_a_field_error(
    editor_client, make_commitment, value
):
    """The status view's own autocomplete widget is the same one."""
    commitment = make_commitment()
    url = reverse("admin:commitments_commitment_change_status", args=[commitment.pk])
    response = editor_client.post(
        url,
        {
            "status": "fulfilled",
            "occurred_on": "2026-01-10",
            "evidence_source": value,
            "evidence_quote": "tenue",
        },
    )
    assert response.status_code == 200
    assert "evidence_source" in response.context["form"].errors
    assert not commitment.progress_updates.exists()


def test_inline_rows_that_repeat_a_unique_constraint_are_a_form_error(
    editor_client, make_commitment
):
    """Two related-commitment rows with the same target and kind: refused, nothing written."""
    commitment, other = make_commitment(), make_commitment()
    url = reverse("admin:commitments_commitment_change", args=[commitment.pk])
    page = editor_client.get(url)
    prefix = next(
        w.formset.prefix
        for w in page.context["inline_admin_formsets"]
        if w.formset.model._meta.model_name == "commitmentrelation"
    )
    data = {**_unchanged_data(page), f"{prefix}-TOTAL_FORMS": "2"}
    for row in range(2):
        data[f"{prefix}-{row}-kind"] = "related"
        data[f"{prefix}-{row}-to_commitment"] = str(other.pk)
    response = editor_client.post(url, data)
    assert response.status_code == 200
    formset = next(
        w.formset for w in response.context["inline_admin_formsets"] if w.formset.prefix == prefix
    )
    assert formset.non_form_errors() or any(form.errors for form in formset.forms)
    assert not commitment.relations_out.exists()


def test_every_inline_checks_its_unique_constraints_across_its_rows():
    """Django's inline formsets check, across the submitted rows, the unique constraints with
    plain fields that their forms hold; one they could not check would reach the database
    as an ``IntegrityError``. No inline of ours may have one."""
    request = _superuser_request()
    for model_admin in _project_admins():
        if not isinstance(model_admin, InlineModelAdmin):
            continue
        if not model_admin.has_add_permission(
            request, None
        ) and not model_admin.has_change_permission(request, None):
            continue  # a read-only inline (occurrences) submits no rows
        formset = model_admin.get_formset(request)
        submitted = {*formset.form.base_fields, formset.fk.name}  # type: ignore[attr-defined]
        opts = model_admin.model._meta
        # The saved rows are checked for UniqueConstraints only (UniqueRowsInlineFormSet).
        assert not opts.unique_together, model_admin
        checks: list[tuple[str, ...]] = [
            (f.name,) for f in opts.fields if f.unique and f.editable and not f.primary_key
        ]
        for constraint in opts.constraints:
            if isinstance(constraint, UniqueConstraint):
                assert constraint.condition is None, (model_admin, constraint)
                assert not constraint.expressions, (model_admin, constraint)
                checks.append(tuple(constraint.fields))
        for check in checks:
            assert set(check) <= submitted, (model_admin, check)


def _relations_page(client, commitment):
    """Return the change page's data and the related-commitments inline's prefix."""
    page = client.get(reverse("admin:commitments_commitment_change", args=[commitment.pk]))
    prefix = _inline_formset(page, CommitmentRelationInline).prefix
    return _unchanged_data(page), prefix


def _relations(commitment) -> list[tuple[int, int, str]]:
    return sorted(commitment.relations_out.values_list("pk", "to_commitment", "kind"))


@pytest.mark.parametrize("edit", ["swap the targets", "reuse the target of a deleted row"])
def test_an_inline_row_changed_to_the_values_of_a_saved_row_is_a_row_error(
    editor_client, make_commitment, edit
):
    """Two saved rows swapped were saved one by one: the first collided with the second, an
    ``IntegrityError`` (a 500). A row taking the values of a row deleted with it is refused too
    (the rows are saved before the deleted one is gone)."""
    commitment, x, y = make_commitment(), make_commitment(), make_commitment()
    for target in (x, y):
        CommitmentRelation.objects.create(
            from_commitment=commitment, to_commitment=target, kind="related"
        )
    before = _relations(commitment)
    data, prefix = _relations_page(editor_client, commitment)
    first, second = data[f"{prefix}-0-to_commitment"], data[f"{prefix}-1-to_commitment"]
    data[f"{prefix}-0-to_commitment"] = second
    if edit == "swap the targets":
        data[f"{prefix}-1-to_commitment"] = first
    else:
        data[f"{prefix}-1-DELETE"] = "on"
    url = reverse("admin:commitments_commitment_change", args=[commitment.pk])
    response = editor_client.post(url, data)
    assert response.status_code == 200
    formset = _inline_formset(response, CommitmentRelationInline)
    assert formset.non_form_errors() or formset.forms[0].non_field_errors(), formset.errors
    assert _relations(commitment) == before


def test_inline_rows_that_repeat_a_unique_field_are_a_form_error(admin_client, japan):
    """Two commitments typed with the same key in an agreement's inline: refused, nothing
    written."""
    url = reverse("admin:commitments_agreement_add")
    data = _page_data(admin_client.get(url))
    data.update(
        {
            "key": "nato-2025-04-09",
            "title": "Japan-NATO meeting",
            "kind": "ministerial_meeting",
            "parties": [str(japan.pk)],
            "date": "2025-04-09",
            "time_zone": "Europe/Brussels",
            "commitments-TOTAL_FORMS": "2",
        }
    )
    for row in range(2):
        data.update(
            {
                f"commitments-{row}-key": "nato-cyber",
                f"commitments-{row}-title": f"Cyber defence review {row}",
                f"commitments-{row}-obligor": str(japan.pk),
                f"commitments-{row}-category": "cooperation",
                f"commitments-{row}-deadline_kind": "period_end",
                f"commitments-{row}-period_unit": "year",
            }
        )
    before = _row_counts()
    response = admin_client.post(url, data)
    assert response.status_code == 200
    formset = _inline_formset(response, AgreementCommitmentInline)
    assert "key" in " ".join(formset.non_form_errors()), formset.non_form_errors()
    assert _row_counts() == before


def test_every_inline_is_bounded_and_validates_its_bound():
    """Each inline formset stops at ``INLINE_MAX_ROWS`` rows and says so when asked for more
    (an inline that may add rows; a read-only one takes none)."""
    request = _superuser_request()
    for model_admin in _project_admins():
        if isinstance(model_admin, InlineModelAdmin):
            formset = model_admin.get_formset(request)
            assert formset.max_num <= INLINE_MAX_ROWS, model_admin
            assert formset.absolute_max <= INLINE_MAX_ROWS, model_admin
            # A read-only inline (no add right) posts back only its saved rows, which
            # absolute_max bounds; checking them against its max_num of 0 refused every save
            # of its parent (tests/commitments/test_admin_assessments.py).
            assert formset.validate_max or not model_admin.has_add_permission(request, None), (
                model_admin
            )
            assert issubclass(formset, UniqueRowsInlineFormSet), model_admin


def test_a_tampered_total_forms_is_refused_quickly_and_writes_nothing(admin_client, japan):
    """``TOTAL_FORMS=100000`` built and rendered 2,000 rows: a 16 MB page after 20 s."""
    url = reverse("admin:commitments_agreement_add")
    data = _page_data(admin_client.get(url))
    data.update(
        {
            "key": "tampered",
            "title": "Tampered",
            "kind": "ministerial_meeting",
            "parties": [str(japan.pk)],
            "date": "2025-04-09",
            "time_zone": "Europe/Brussels",
            "commitments-TOTAL_FORMS": "100000",
        }
    )
    before = _row_counts()
    started = time.monotonic()
    response = admin_client.post(url, data)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    formset = next(
        w.formset
        for w in response.context["inline_admin_formsets"]
        if w.formset.prefix == "commitments"
    )
    assert formset.non_form_errors()
    assert len(formset.forms) <= INLINE_MAX_ROWS
    assert elapsed < 10, elapsed
    assert len(response.content) < 2_000_000
    assert _row_counts() == before
