"""The admin's "Public correction note": a filled note turns the fields changed on an
agreement's or a commitment's change form into public corrections; a refusal is a form error
and writes nothing; an empty note is an ordinary edit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from commitments.models import Agreement, Commitment, Correction
from commitments.services.publishing import agreement_publish_unreviewed
from tests.commitments.test_admin import change_form_data, form_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(agreement: Agreement) -> Agreement:
    agreement_publish_unreviewed(agreement=agreement)
    agreement.refresh_from_db()
    return agreement


def test_a_commitment_corrected_with_a_note(editor_client, published, make_commitment, editor):
    commitment = make_commitment(title="Hold a meting")
    url = reverse("admin:commitments_commitment_change", args=[commitment.pk])
    page = editor_client.get(url)
    assert "Public correction note" in page.content.decode()
    data = change_form_data(page)
    data.update({"title": "Hold a meeting", "offset_amount": "90",
                 "correction_note": "A typo; the text says 90 days."})
    response = editor_client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    stored = Commitment.objects.get(pk=commitment.pk)
    assert (stored.title, stored.due_date) == ("Hold a meeting", dt.date(2026, 1, 26))
    written = set(Correction.objects.values_list("field", "old_value", "new_value", "author"))
    assert written == {
        ("title", "Hold a meting", "Hold a meeting", editor.pk),
        ("offset_amount", "180", "90", editor.pk),
    }


def test_an_agreement_corrected_with_a_note(editor_client, published):
    url = reverse("admin:commitments_agreement_change", args=[published.pk])
    data = change_form_data(editor_client.get(url))
    data.update({"place": "Tokyo, Akasaka Palace", "correction_note": "The venue was wrong."})
    response = editor_client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    [row] = Correction.objects.all()
    assert (row.field, row.old_value, row.new_value, row.commitment) == (
        "place", "Tokyo", "Tokyo, Akasaka Palace", None
    )
    assert Agreement.objects.get(pk=published.pk).place == "Tokyo, Akasaka Palace"


def test_no_note_is_an_ordinary_edit(editor_client, published):
    url = reverse("admin:commitments_agreement_change", args=[published.pk])
    data = change_form_data(editor_client.get(url))
    data.update({"place": "Osaka"})
    assert editor_client.post(url, data).status_code == 302
    assert Agreement.objects.get(pk=published.pk).place == "Osaka"
    assert not Correction.objects.exists()


def test_a_note_on_a_draft_is_refused_on_the_note(editor_client, agreement):
    url = reverse("admin:commitments_agreement_change", args=[agreement.pk])
    data = change_form_data(editor_client.get(url))
    data.update({"place": "Osaka", "correction_note": "Venue."})
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert "not published" in " ".join(form_errors(response)["correction_note"])
    assert Agreement.objects.get(pk=agreement.pk).place == "Tokyo"
    assert not Correction.objects.exists()


def test_a_note_with_nothing_changed_is_refused(editor_client, published):
    url = reverse("admin:commitments_agreement_change", args=[published.pk])
    data = change_form_data(editor_client.get(url))
    data.update({"correction_note": "Nothing."})
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert form_errors(response)["correction_note"]
    assert not Correction.objects.exists()


def test_the_add_form_has_no_note(editor_client):
    page = editor_client.get(reverse("admin:commitments_agreement_add"))
    assert page.status_code == 200
    assert "correction_note" not in page.content.decode()
