"""Deadline revisions in the admin: the "Revise the deadline" page and the read-only history.

The default commitment (agreement 2025-10-28 in Asia/Tokyo, +180 days) is due 2026-04-26.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from commitments.choices import Status
from commitments.models import Citation, Commitment, DeadlineRevision
from commitments.services import commitments as svc
from tests import factories

pytestmark = pytest.mark.django_db


def revise_url(commitment: Commitment) -> str:
    return reverse("admin:commitments_commitment_revise", args=[commitment.pk])


def change_url(commitment: Commitment) -> str:
    return reverse("admin:commitments_commitment_change", args=[commitment.pk])


def test_an_extension_with_a_new_quote_is_recorded_through_the_service(
    editor_client, editor, make_commitment, source
):
    commitment = make_commitment()
    assert editor_client.get(revise_url(commitment)).status_code == 200
    response = editor_client.post(
        revise_url(commitment),
        {
            "kind": "extended",
            "new_due_date": "2026-07-15",
            "new_precision": "month",
            "revised_on": "2026-03-02",
            "reason": "Prorogé d'un commun accord.",
            "evidence_source": source.pk,
            "evidence_quote": "Le délai est prorogé.",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == change_url(commitment)
    revision = DeadlineRevision.objects.get()
    assert (revision.kind, revision.new_due_date, revision.author) == (
        "extended",
        dt.date(2026, 7, 31),
        editor,
    )
    assert revision.evidence.quote == "Le délai est prorogé."
    stored = Commitment.objects.get(pk=commitment.pk)
    assert (stored.original_due_date, stored.due_date) == (
        dt.date(2026, 4, 26),
        dt.date(2026, 7, 31),
    )


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": "extended", "new_due_date": "2026-07-15"}, "reason", "required"),
        ({"kind": "extended", "reason": "r"}, "new_due_date", "required"),
        ({"kind": "resumed", "reason": "r"}, "kind", "not suspended"),
        ({"kind": "extended", "new_due_date": "2026-07-15", "reason": "r"}, "evidence", "evidence"),
    ],
)
def test_a_bad_revision_is_a_form_error_on_its_field_and_writes_nothing(
    editor_client, make_commitment, fields, field, words
):
    commitment = make_commitment()
    response = editor_client.post(revise_url(commitment), fields)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert words in " ".join(errors[field])
    assert not DeadlineRevision.objects.exists()
    assert not Citation.objects.exists()


def test_the_change_page_shows_the_dates_timing_and_read_only_history(
    editor_client, make_commitment, source
):
    commitment = make_commitment()
    factories.revision_make(
        commitment=commitment,
        source=source,
        new_due_date=dt.date(2026, 9, 1),
        new_precision="month",
        reason="Prorogé jusqu'en septembre.",
    )
    page = editor_client.get(change_url(commitment))
    assert page.status_code == 200
    html = page.content.decode()
    assert "April 26, 2026" in html and "September 2026" in html
    assert "Prorogé jusqu&#x27;en septembre." in html
    assert html.count(revise_url(commitment)) == 2
    # Read-only: the inline offers no row to add and no field to edit.
    assert 'name="revisions-0-reason"' not in html
    assert 'name="revisions-__prefix__-kind"' not in html


def test_a_viewer_cannot_revise(client, viewer, make_commitment):
    commitment = make_commitment()
    client.force_login(viewer)
    assert client.get(revise_url(commitment)).status_code == 403
    response = client.post(revise_url(commitment), {"kind": "suspended", "reason": "r"})
    assert response.status_code == 403
    assert not DeadlineRevision.objects.exists()


def test_the_revise_link_is_offered_only_where_a_revision_is_taken(
    editor_client, make_commitment, source
):
    """A fulfilled commitment's deadline is not revised: its page does not offer it."""
    open_one, closed = make_commitment(), make_commitment()
    svc.commitment_change_status(commitment=closed, status=Status.FULFILLED,
                                 evidence_source=source, evidence_quote="Fait.")
    assert revise_url(open_one) in editor_client.get(change_url(open_one)).content.decode()
    assert revise_url(closed) not in editor_client.get(change_url(closed)).content.decode()
