"""The admin as an editor uses it: lists, forms with inlines, status changes, bulk actions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commitments.choices import Status
from commitments.models import Citation, Commitment, ProgressUpdate
from commitments.services import commitments as svc

pytestmark = pytest.mark.django_db


def _encode(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _form_fields(form) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, forms.CheckboxInput):
            if value:
                data[form.add_prefix(name)] = "on"
        elif value is None and isinstance(field, forms.ModelMultipleChoiceField):
            data[form.add_prefix(name)] = []
        else:
            data[form.add_prefix(name)] = _encode(value)
    return data


def change_form_data(response) -> dict[str, Any]:
    """Return the POST data the admin page in ``response`` would submit unchanged."""
    data = _form_fields(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = _encode(management[name].value())
        for form in formset.forms:
            data.update(_form_fields(form))
    return data


def changelist(model: str) -> str:
    return reverse(f"admin:commitments_{model}_changelist")


def form_errors(response) -> dict[str, list[str]]:
    """Return the main form's errors, the inline forms' errors and the form-wide ones."""
    errors: dict[str, list[str]] = {}
    form = response.context["adminform"].form
    for name, messages in form.errors.items():
        errors.setdefault(name, []).extend(messages)
    for inline in response.context["inline_admin_formsets"]:
        for inline_form in inline.formset.forms:
            for name, messages in inline_form.errors.items():
                errors.setdefault(f"{inline.formset.prefix}:{name}", []).extend(messages)
    return errors


# Change lists -----------------------------------------------------------------------------


@pytest.fixture
def one_of_everything(agreement, make_commitment, source, editor):
    commitment = make_commitment(title="Ministerial meeting on critical minerals")
    citation = Citation.objects.create(
        source=source, commitment=commitment, quote="dans un délai de 180 jours"
    )
    svc.commitment_change_status(
        commitment=commitment,
        status=Status.IN_PROGRESS,
        user=editor,
        occurred_on=dt.date(2025, 11, 3),
        note="Preparatory talks announced",
    )
    return commitment, citation


@pytest.mark.parametrize(
    ("model", "query", "expected"),
    [
        ("party", "?kind__exact=state&q=Jap", "Japan"),
        ("source", "?kind__exact=official&q=sommet", "Rencontre au sommet"),
        ("agreement", "?kind__exact=summit_outcome&q=summit", "US summit"),
        (
            "commitment",
            "?status__exact=in_progress&category__exact=meeting&due=overdue&q=minerals",
            "critical minerals",
        ),
        ("citation", "?source__kind__exact=official&q=180", "dans un délai de 180 jours"),
        ("progressupdate", "?status_to__exact=in_progress&q=talks", "Ministerial meeting"),
    ],
)
def test_changelist_renders_with_filters_and_search(
    editor_client, one_of_everything, model, query, expected
):
    """Every list opens for an editor with a filter and a search applied."""
    response = editor_client.get(changelist(model) + query)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 1
    assert expected in response.content.decode()
    miss = editor_client.get(changelist(model) + query.replace("q=", "q=zzz-no-match"))
    assert list(miss.context["cl"].result_list) == []


def test_due_range_filter_selects_by_due_date(editor_client, agreement, make_commitment):
    """The due-date ranges count from now and leave out closed commitments when overdue."""
    today = timezone.localdate()

    def fixed(key: str, days: int | None) -> Commitment:
        if days is None:
            return make_commitment(
                key=key, deadline_kind="none", offset_amount=None, offset_unit="", anchor_kind=""
            )
        return make_commitment(
            key=key,
            deadline_kind="fixed",
            offset_amount=None,
            offset_unit="",
            anchor_kind="",
            deadline_date=today + dt.timedelta(days=days),
        )

    fixed("soon", 3)
    fixed("month", 20)
    fixed("quarter", 60)
    fixed("none", None)
    late = fixed("late", -30)
    cancelled = fixed("cancelled-late", -40)
    svc.commitment_change_status(commitment=cancelled, status=Status.CANCELLED)
    assert late.due_date > agreement.date

    def keys(choice: str) -> set[str]:
        response = editor_client.get(changelist("commitment") + f"?due={choice}")
        assert response.status_code == 200
        return {c.key for c in response.context["cl"].result_list}

    assert keys("overdue") == {"late"}
    assert keys("next_7") == {"soon"}
    assert keys("next_30") == {"soon", "month"}
    assert keys("next_90") == {"soon", "month", "quarter"}
    assert keys("none") == {"none"}


def test_commitment_changelist_query_count_does_not_grow_with_rows(
    editor_client, make_commitment, editor
):
    """The list runs the same number of queries for 5 and for 50 commitments."""
    for _ in range(5):
        make_commitment(owner=editor)
    url = changelist("commitment")
    editor_client.get(url)  # warm caches (content types, sessions) outside the count
    with CaptureQueriesContext(connection) as five:
        response = editor_client.get(url)
    assert len(response.context["cl"].result_list) == 5
    for _ in range(45):
        make_commitment(owner=editor)
    with CaptureQueriesContext(connection) as fifty:
        response = editor_client.get(url)
    assert len(response.context["cl"].result_list) == 50
    assert len(fifty) == len(five)


# Commitment form ------------------------------------------------------------------------


def _add_commitment_data(editor_client, agreement, japan, **overrides) -> dict[str, Any]:
    data = change_form_data(editor_client.get(reverse("admin:commitments_commitment_add")))
    data.update(
        {
            "agreement": str(agreement.pk),
            "key": "minerals-ministerial",
            "title": "Ministerial meeting on critical minerals",
            "obligor": str(japan.pk),
            "category": "meeting",
            "deadline_phrase": "dans un délai de 180 jours",
            "deadline_kind": "relative",
            "offset_amount": "180",
            "offset_unit": "days",
            "anchor_kind": "agreement",
        }
    )
    data.update(overrides)
    return data


def test_add_commitment_computes_due_date(editor_client, agreement, japan, usa, editor):
    """Saving the add form computes the due date and due instant and keeps who did it."""
    data = _add_commitment_data(editor_client, agreement, japan, beneficiaries=[str(usa.pk)])
    response = editor_client.post(reverse("admin:commitments_commitment_add"), data)
    assert response.status_code == 302, form_errors(response)
    commitment = Commitment.objects.get(key="minerals-ministerial")
    assert commitment.due_date == dt.date(2026, 4, 26)
    assert commitment.due_at == dt.datetime(2026, 4, 26, 14, 59, 59, 999999, tzinfo=dt.UTC)
    assert list(commitment.beneficiaries.all()) == [usa]
    assert commitment.history.latest().history_user == editor

    page = editor_client.get(reverse("admin:commitments_commitment_change", args=[commitment.pk]))
    text = page.content.decode()
    assert "180 days after the agreement&#x27;s date (Oct. 28, 2025) → April 26, 2026" in text
    assert "2026-04-26 23:59:59 JST (Asia/Tokyo) = 2026-04-26 14:59:59 UTC" in text
    assert 'name="status"' not in text
    assert 'name="due_date"' not in text


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"deadline_kind": "fixed", "deadline_date": "2025-01-01"},
            "deadline_date",
            "before the agreement's date 2025-10-28",
        ),
        ({"target_amount": "-5", "target_unit": "USD"}, "target_amount", "greater than or equal"),
        ({"target_amount": "5", "target_unit": "furlongs"}, "target_unit", "not one of"),
        ({"offset_amount": "", "offset_unit": "days"}, "offset_amount", "needs a number"),
        *(
            (
                {
                    "deadline_kind": "period_end",
                    "offset_amount": "",
                    "offset_unit": "",
                    "anchor_kind": "",
                    "period_unit": "year",
                    "period_year": year,
                },
                "period_year",
                "The year must be between 1900 and 2199.",
            )
            for year in ("99999", "20288", "2200")
        ),
    ],
)
def test_bad_commitment_form_shows_field_error_and_writes_nothing(
    editor_client, agreement, japan, overrides, field, message
):
    """A bad value is reported on its field and no commitment is created."""
    data = _add_commitment_data(editor_client, agreement, japan, **overrides)
    response = editor_client.post(reverse("admin:commitments_commitment_add"), data)
    assert response.status_code == 200
    errors = form_errors(response)
    assert field in errors, errors
    assert any(message in text for text in errors[field]), errors
    assert not Commitment.objects.exists()


def test_edit_commitment_saves_changed_rule_through_service(editor_client, make_commitment, editor):
    commitment = make_commitment()
    url = reverse("admin:commitments_commitment_change", args=[commitment.pk])
    data = change_form_data(editor_client.get(url))
    data.update({"offset_amount": "6", "offset_unit": "months"})
    response = editor_client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    commitment.refresh_from_db()
    assert commitment.due_date == dt.date(2026, 4, 28)
    assert commitment.history.latest().history_user == editor


# Agreement form with its commitment inline -------------------------------------------------


def test_edit_agreement_with_inline_commitment_goes_through_service(
    editor_client, agreement, make_commitment, editor
):
    """Moving the date recomputes due dates; an inline commitment is saved with the change."""
    commitment = make_commitment()
    other = make_commitment(offset_amount=6, offset_unit="months")
    url = reverse("admin:commitments_agreement_change", args=[agreement.pk])
    data = change_form_data(editor_client.get(url))
    data["date"] = "2025-11-01"
    row = next(k for k, v in data.items() if k.endswith("-key") and v == commitment.key)
    prefix = row.removesuffix("-key")
    data[f"{prefix}-offset_amount"] = "90"
    data["commitments-TOTAL_FORMS"] = "3"
    data.update(
        {
            "commitments-2-key": "new-inline",
            "commitments-2-title": "Added in the inline",
            "commitments-2-obligor": data[f"{prefix}-obligor"],
            "commitments-2-category": "financing",
            "commitments-2-deadline_kind": "relative",
            "commitments-2-offset_amount": "6",
            "commitments-2-offset_unit": "months",
            "commitments-2-anchor_kind": "agreement",
            "commitments-2-agreement": str(agreement.pk),
        }
    )
    response = editor_client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    agreement.refresh_from_db()
    commitment.refresh_from_db()
    other.refresh_from_db()
    assert agreement.date == dt.date(2025, 11, 1)
    assert commitment.offset_amount == 90
    assert commitment.due_date == dt.date(2026, 1, 30)
    assert other.due_date == dt.date(2026, 5, 1)
    added = Commitment.objects.get(key="new-inline")
    assert added.due_date == dt.date(2026, 5, 1)
    assert added.history.latest().history_user == editor
    assert agreement.history.latest().history_user == editor


def test_add_agreement_with_inline_commitment(editor_client, japan, usa, editor):
    """A new agreement and the commitments typed in its inline are saved with due dates."""
    data = change_form_data(editor_client.get(reverse("admin:commitments_agreement_add")))
    data.update(
        {
            "key": "nato-2025-04-09",
            "title": "Japan-NATO meeting",
            "kind": "ministerial_meeting",
            "parties": [str(japan.pk)],
            "date": "2025-04-09",
            "time_zone": "Europe/Brussels",
            "commitments-TOTAL_FORMS": "1",
            "commitments-0-key": "nato-cyber",
            "commitments-0-title": "Cyber defence cooperation review",
            "commitments-0-obligor": str(japan.pk),
            "commitments-0-category": "cooperation",
            "commitments-0-deadline_kind": "period_end",
            "commitments-0-period_unit": "year",
        }
    )
    response = editor_client.post(reverse("admin:commitments_agreement_add"), data)
    assert response.status_code == 302, form_errors(response)
    commitment = Commitment.objects.get(key="nato-cyber")
    assert commitment.agreement.key == "nato-2025-04-09"
    assert list(commitment.agreement.parties.all()) == [japan]
    assert commitment.due_date == dt.date(2025, 12, 31)
    assert commitment.due_at == dt.datetime(2025, 12, 31, 22, 59, 59, 999999, tzinfo=dt.UTC)
    assert commitment.history.latest().history_user == editor


def _citation_row(source) -> dict[str, str]:
    return {
        "citations-TOTAL_FORMS": "1",
        "citations-0-source": str(source.pk),
        "citations-0-quote": "Les deux pays s'engagent ...",
        "citations-0-locator": "§ 3",
    }


def test_add_agreement_with_a_citation_saves_it_with_the_new_agreement(
    editor_client, japan, source
):
    """The citation was refused ("backs exactly one agreement or one commitment") on the add
    page, where the new agreement has no id yet when the inline row is checked."""
    data = change_form_data(editor_client.get(reverse("admin:commitments_agreement_add")))
    data.update(
        {
            "key": "nato-2025-04-09",
            "title": "Japan-NATO meeting",
            "kind": "ministerial_meeting",
            "parties": [str(japan.pk)],
            "date": "2025-04-09",
            "time_zone": "Europe/Brussels",
            **_citation_row(source),
        }
    )
    response = editor_client.post(reverse("admin:commitments_agreement_add"), data)
    assert response.status_code == 302, form_errors(response)
    citation = Citation.objects.get()
    assert citation.agreement is not None
    assert citation.agreement.key == "nato-2025-04-09"
    assert citation.commitment_id is None
    assert (citation.source, citation.locator) == (source, "§ 3")


def test_add_commitment_with_a_citation_saves_it_with_the_new_commitment(
    editor_client, agreement, japan, source
):
    data = _add_commitment_data(editor_client, agreement, japan, **_citation_row(source))
    response = editor_client.post(reverse("admin:commitments_commitment_add"), data)
    assert response.status_code == 302, form_errors(response)
    citation = Citation.objects.get()
    assert citation.commitment == Commitment.objects.get(key="minerals-ministerial")
    assert citation.agreement_id is None


def test_a_citation_row_with_a_bad_quote_on_an_add_page_saves_nothing(
    editor_client, agreement, japan, source
):
    data = _add_commitment_data(
        editor_client, agreement, japan, **{**_citation_row(source), "citations-0-quote": ""}
    )
    response = editor_client.post(reverse("admin:commitments_commitment_add"), data)
    assert response.status_code == 200
    assert "citations:quote" in form_errors(response)
    assert not Commitment.objects.filter(key="minerals-ministerial").exists()
    assert not Citation.objects.exists()


def test_inline_error_on_a_field_the_row_does_not_show_names_it(editor_client, agreement, japan):
    """An inline row asking for an anchor commitment gets a row error naming that field."""
    url = reverse("admin:commitments_agreement_change", args=[agreement.pk])
    data = change_form_data(editor_client.get(url))
    data.update(
        {
            "commitments-TOTAL_FORMS": "1",
            "commitments-0-key": "after-other",
            "commitments-0-title": "Follows another commitment",
            "commitments-0-obligor": str(japan.pk),
            "commitments-0-category": "meeting",
            "commitments-0-deadline_kind": "relative",
            "commitments-0-offset_amount": "30",
            "commitments-0-offset_unit": "days",
            "commitments-0-anchor_kind": "commitment",
            "commitments-0-agreement": str(agreement.pk),
        }
    )
    response = editor_client.post(url, data)
    assert response.status_code == 200
    errors = form_errors(response)
    assert any(m.startswith("Anchor commitment: ") for m in errors["commitments:__all__"]), errors
    assert not Commitment.objects.exists()


def test_agreement_date_that_breaks_a_fixed_deadline_is_refused(
    editor_client, agreement, make_commitment
):
    """The inline row names the deadline that the new date would break; nothing is saved."""
    commitment = make_commitment(
        deadline_kind="fixed",
        deadline_date=dt.date(2025, 12, 1),
        offset_amount=None,
        offset_unit="",
        anchor_kind="",
    )
    url = reverse("admin:commitments_agreement_change", args=[agreement.pk])
    data = change_form_data(editor_client.get(url))
    data["date"] = "2026-01-01"
    response = editor_client.post(url, data)
    assert response.status_code == 200
    errors = form_errors(response)
    assert any(
        "before the agreement's date 2026-01-01" in m for m in errors["commitments:deadline_date"]
    ), errors
    agreement.refresh_from_db()
    commitment.refresh_from_db()
    assert agreement.date == dt.date(2025, 10, 28)
    assert commitment.due_date == dt.date(2025, 12, 1)


def test_service_refusal_at_save_becomes_a_form_error(
    editor_client, agreement, make_commitment, monkeypatch
):
    """If the service refuses after the form validated (a concurrent edit), no 500, no write."""
    commitment = make_commitment()
    real_save = svc.agreement_save

    def save_after_concurrent_edit(**kwargs):
        Commitment.objects.filter(pk=commitment.pk).update(
            deadline_kind="fixed", deadline_date=dt.date(2025, 11, 15)
        )
        return real_save(**kwargs)

    monkeypatch.setattr(svc, "agreement_save", save_after_concurrent_edit)
    url = reverse("admin:commitments_agreement_change", args=[agreement.pk])
    data = change_form_data(editor_client.get(url))
    data["date"] = "2025-12-01"
    response = editor_client.post(url, data)
    assert response.status_code == 200
    errors = form_errors(response)
    assert any(f"Commitment '{commitment.key}' would break" in m for m in errors["date"]), errors
    agreement.refresh_from_db()
    assert agreement.date == dt.date(2025, 10, 28)


# Status changes -------------------------------------------------------------------------


def status_url(commitment: Commitment) -> str:
    return reverse("admin:commitments_commitment_change_status", args=[commitment.pk])


def test_change_page_links_to_status_view(editor_client, make_commitment):
    commitment = make_commitment()
    page = editor_client.get(reverse("admin:commitments_commitment_change", args=[commitment.pk]))
    assert page.content.decode().count(status_url(commitment)) == 2
    assert editor_client.get(status_url(commitment)).status_code == 200


def test_fulfilled_without_evidence_is_an_error_on_evidence(editor_client, make_commitment):
    commitment = make_commitment()
    response = editor_client.post(
        status_url(commitment),
        {"status": Status.FULFILLED, "occurred_on": "2026-01-10", "note": "Held in Tokyo"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "needs an evidence citation" in " ".join(form.errors["evidence"])
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_STARTED
    assert not ProgressUpdate.objects.exists()
    assert not Citation.objects.exists()


def test_quote_without_source_is_an_error_on_the_source(editor_client, make_commitment):
    commitment = make_commitment()
    response = editor_client.post(
        status_url(commitment),
        {"status": Status.FULFILLED, "occurred_on": "2026-01-10", "evidence_quote": "tenue"},
    )
    assert "evidence_source" in response.context["form"].errors
    assert not ProgressUpdate.objects.exists()


def test_fulfilled_with_source_and_quote_records_everything(
    editor_client, make_commitment, source, editor
):
    commitment = make_commitment()
    dependent = make_commitment(
        anchor_kind="commitment", anchor_commitment=commitment, offset_amount=30
    )
    assert dependent.due_date is None
    response = editor_client.post(
        status_url(commitment),
        {
            "status": Status.FULFILLED,
            "occurred_on": "2026-01-10",
            "note": "Held in Tokyo",
            "measured_value": "1",
            "evidence_source": str(source.pk),
            "evidence_quote": "La réunion ministérielle s'est tenue",
            "evidence_translation": "The ministerial meeting was held",
            "evidence_locator": "§2",
        },
    )
    assert response.status_code == 302
    commitment.refresh_from_db()
    dependent.refresh_from_db()
    assert commitment.status == Status.FULFILLED
    assert commitment.fulfilled_on == dt.date(2026, 1, 10)
    assert dependent.due_date == dt.date(2026, 2, 9)
    update = ProgressUpdate.objects.get()
    assert update.author == editor
    assert update.measured_value == Decimal(1)
    assert update.evidence is not None
    assert update.evidence.quote == "La réunion ministérielle s'est tenue"
    assert update.evidence.locator == "§2"
    assert update.evidence.commitment == commitment
    assert commitment.history.latest().history_user == editor
    assert commitment.history.latest().status == Status.FULFILLED


def test_existing_citation_is_accepted_as_evidence(editor_client, make_commitment, source):
    commitment = make_commitment()
    citation = Citation.objects.create(source=source, commitment=commitment, quote="tenue")
    response = editor_client.post(
        status_url(commitment),
        {"status": Status.MISSED, "occurred_on": "2026-05-01", "evidence": str(citation.pk)},
    )
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.status == Status.MISSED
    assert ProgressUpdate.objects.get().evidence == citation


# Bulk actions --------------------------------------------------------------------------


def _run_action(client, action: str, commitments: list[Commitment]):
    return client.post(
        changelist("commitment"),
        {"action": action, "_selected_action": [str(c.pk) for c in commitments]},
        follow=True,
    )


def test_bulk_mark_in_progress_reports_successes_and_failures(
    editor_client, make_commitment, editor, monkeypatch
):
    """Each row goes through the service; a row it refuses is reported and the rest proceed."""
    first, second, refused = make_commitment(), make_commitment(), make_commitment()
    real_change_status = svc.commitment_change_status

    def refuse_one(**kwargs):
        if kwargs["commitment"].pk == refused.pk:
            raise ValidationError({"status": "Locked by a concurrent review."})
        return real_change_status(**kwargs)

    monkeypatch.setattr(svc, "commitment_change_status", refuse_one)
    response = _run_action(editor_client, "mark_in_progress", [first, second, refused])
    texts = [str(m) for m in response.context["messages"]]
    assert "2 commitment(s) marked In progress." in texts
    assert f"{refused.key} was not changed: Locked by a concurrent review." in texts
    for commitment in (first, second):
        commitment.refresh_from_db()
        assert commitment.status == Status.IN_PROGRESS
        assert commitment.history.latest().history_user == editor
    refused.refresh_from_db()
    assert refused.status == Status.NOT_STARTED
    assert ProgressUpdate.objects.filter(status_to=Status.IN_PROGRESS).count() == 2


def test_bulk_cancel_then_not_started(editor_client, make_commitment):
    commitment = make_commitment()
    _run_action(editor_client, "mark_cancelled", [commitment])
    commitment.refresh_from_db()
    assert commitment.status == Status.CANCELLED
    _run_action(editor_client, "mark_not_started", [commitment])
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_STARTED


def test_bulk_recompute_due_dates_restores_the_rule(editor_client, make_commitment):
    commitment = make_commitment()
    Commitment.objects.filter(pk=commitment.pk).update(
        due_date=dt.date(2030, 1, 1), due_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    )
    response = _run_action(editor_client, "recompute_due_dates", [commitment])
    assert "Due dates recomputed; 1 changed." in [str(m) for m in response.context["messages"]]
    commitment.refresh_from_db()
    assert commitment.due_date == dt.date(2026, 4, 26)


# Permissions ---------------------------------------------------------------------------


def test_viewer_cannot_change(client, viewer, make_commitment, agreement):
    commitment = make_commitment()
    versions = (commitment.history.count(), agreement.history.count())
    client.force_login(viewer)
    change_url = reverse("admin:commitments_commitment_change", args=[commitment.pk])
    assert client.get(change_url).status_code == 200
    assert client.post(change_url, {"title": "Renamed"}).status_code == 403
    assert client.get(status_url(commitment)).status_code == 403
    assert client.post(status_url(commitment), {"status": "cancelled"}).status_code == 403
    agreement_url = reverse("admin:commitments_agreement_change", args=[agreement.pk])
    assert client.post(agreement_url, {"title": "Renamed"}).status_code == 403
    assert client.get(reverse("admin:commitments_commitment_import")).status_code == 403
    response = _run_action(client, "mark_cancelled", [commitment])
    assert response.status_code == 200
    commitment.refresh_from_db()
    assert commitment.title != "Renamed"
    assert commitment.status == Status.NOT_STARTED
    agreement.refresh_from_db()
    assert agreement.title == "Japan–US summit"
    assert (commitment.history.count(), agreement.history.count()) == versions


def test_progress_updates_are_read_only(editor_client, one_of_everything):
    update = ProgressUpdate.objects.get()
    url = reverse("admin:commitments_progressupdate_change", args=[update.pk])
    assert editor_client.get(url).status_code == 200
    assert editor_client.post(url, {"note": "edited"}).status_code == 403
    assert editor_client.get(reverse("admin:commitments_progressupdate_add")).status_code == 403
