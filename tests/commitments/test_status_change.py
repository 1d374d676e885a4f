"""One status change form: the admin, the dashboard and the API answer bad input alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from commitments.choices import Status
from commitments.models import Citation, ProgressUpdate
from tests.support.api_support import token_client

pytestmark = pytest.mark.django_db

#: Later than today in every time zone an agreement may have.
IN_THREE_DAYS = (dt.datetime.now(tz=dt.UTC).date() + dt.timedelta(days=3)).isoformat()


def _admin_errors(client: Any, commitment: Any, fields: dict[str, str]) -> dict[str, list[str]]:
    url = reverse("admin:commitments_commitment_change_status", args=[commitment.pk])
    response = client.post(url, fields)
    assert response.status_code == 200
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def _dashboard_errors(client: Any, commitment: Any, fields: dict[str, str]) -> dict[str, list[str]]:
    response = client.post(reverse("dashboard:commitment", args=[commitment.pk]), fields)
    assert response.status_code == 400
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def _api_errors(client: Any, commitment: Any, fields: dict[str, str]) -> dict[str, list[str]]:
    """Post ``fields`` as the API takes them (``evidence_x`` as ``evidence.x``), flatten back."""
    body: dict[str, Any] = {}
    for name, value in fields.items():
        if name.startswith("evidence_"):
            body.setdefault("evidence", {})[name.removeprefix("evidence_")] = value
        else:
            body[name] = value
    response = client.post(f"/api/v1/commitments/{commitment.pk}/status/", body, format="json")
    assert response.status_code == 400, response.content
    errors = {}
    for name, detail in response.json().items():
        if isinstance(detail, dict):
            errors.update({f"{name}_{inner}": messages for inner, messages in detail.items()})
        else:
            errors[name] = detail
    return errors


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"status": "finished"}, "status", "not a valid choice"),
        ({"status": "in_progress", "occurred_on": "yesterday"}, "occurred_on", "wrong format"),
        ({"status": "in_progress", "occurred_on": "2020-01-01"}, "occurred_on", "before"),
        ({"status": "fulfilled", "occurred_on": "2026-01-10"}, "evidence", "needs an evidence"),
        ({"status": "missed", "evidence_quote": "tenue"}, "evidence_source", "required"),
        # Issue 14, item 6: a date in the future and a negative measurement were accepted.
        ({"status": "in_progress", "occurred_on": IN_THREE_DAYS}, "occurred_on", "future"),
        ({"status": "in_progress", "measured_value": "-5"}, "measured_value", "negative"),
    ],
)
def test_the_same_bad_status_change_gives_the_same_field_errors_everywhere(
    client, editor, make_commitment, fields, field, reason
):
    """Admin, dashboard and API name the same field with the same words, and write nothing."""
    commitment = make_commitment()
    client.force_login(editor)
    admin = _admin_errors(client, commitment, fields)
    dashboard = _dashboard_errors(client, commitment, fields)
    api = _api_errors(token_client(editor), commitment, fields)
    assert admin == dashboard == api
    assert list(admin) == [field]
    assert reason in " ".join(admin[field])
    assert not ProgressUpdate.objects.exists()
    assert not Citation.objects.exists()
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_STARTED


def test_an_existing_citation_and_a_new_quote_together_are_refused_not_half_kept(
    client, editor, make_commitment, source
):
    """Choosing a citation and typing a new source and quote is an error on ``evidence``.

    Before, the admin and the dashboard saved the update with the chosen citation and silently
    dropped the typed quote.
    """
    commitment = make_commitment()
    cited = Citation.objects.create(source=source, commitment=commitment, quote="déjà cité")
    fields = {
        "status": "fulfilled",
        "occurred_on": "2026-01-10",
        "evidence": str(cited.pk),
        "evidence_source": str(source.pk),
        "evidence_quote": "une autre phrase",
    }
    client.force_login(editor)
    admin = _admin_errors(client, commitment, fields)
    dashboard = _dashboard_errors(client, commitment, fields)
    assert admin == dashboard
    assert list(admin) == ["evidence"]
    assert "not both" in " ".join(admin["evidence"])
    assert list(Citation.objects.values_list("quote", flat=True)) == ["déjà cité"]
    assert not ProgressUpdate.objects.exists()
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_STARTED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "in_progress", "occurred_on": 20260101}, "occurred_on"),
        ({"status": "in_progress", "occurred_on": True}, "occurred_on"),
        ({"status": "in_progress", "occurred_on": ["2026-01-01"]}, "occurred_on"),
        ({"status": "in_progress", "occurred_on": {"a": 1}}, "occurred_on"),
        ({"status": "in_progress", "note": ["x"]}, "note"),
        ({"status": ["in_progress"]}, "status"),
        ({"status": "missed", "evidence": {"source": 1, "quote": {"a": 1}}}, "evidence"),
    ],
)
def test_the_api_refuses_a_value_of_the_wrong_json_type_naming_its_field(
    editor, make_commitment, body, field
):
    """A list, an object, a boolean or a number where text is read is a 400, not a 500.

    The form's fields call ``str.strip()`` on what they read: ``20260101`` or ``true`` as a
    date was an ``AttributeError``, and a list as a note was saved as ``"['x']"``.
    """
    commitment = make_commitment()
    response = token_client(editor).post(
        f"/api/v1/commitments/{commitment.pk}/status/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not ProgressUpdate.objects.exists()
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_STARTED


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_api_reads_dates_as_yyyy_mm_dd_in_every_language(editor, make_commitment, language):
    """01/02/2026 is refused in every language: it was 2 Jan in English and 1 Feb in French."""
    commitment = make_commitment()
    client = token_client(editor)
    url = f"/api/v1/commitments/{commitment.pk}/status/"
    body = {"status": "in_progress", "occurred_on": "01/02/2026"}
    response = client.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["occurred_on"]
    assert not ProgressUpdate.objects.exists()
    body["occurred_on"] = "2026-02-01"
    response = client.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 201, response.content
    assert ProgressUpdate.objects.get().occurred_on.isoformat() == "2026-02-01"
