"""The admin's delete confirmation: the counts and refusals Django gives, a bounded list of
names, and queries that do not grow with the number of rows deleted."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_deleted_objects
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.admin.base import DELETE_NAMED_PER_MODEL, deleted_objects_summary
from commitments.models import Agreement, Commitment
from commitments.services.assessments import assessment_record
from tests import factories

pytestmark = pytest.mark.django_db


def agreement_with(count: int, *, rated: bool = True) -> Agreement:
    japan, usa = factories.party_make(), factories.party_make()
    agreement = factories.agreement_make(parties=[japan, usa])
    source = factories.source_make()
    for n in range(count):
        make = factories.recurring_commitment_make if n % 2 else factories.commitment_make
        commitment = make(agreement=agreement, obligor=japan, co_obligors=[usa])
        factories.citation_make(source=source, commitment=commitment)
        if rated:
            assessment_record(
                commitment=commitment, party=japan, rating="stalled", justification="r"
            )
    factories.citation_make(source=source, agreement=agreement)
    return agreement


def test_the_summary_counts_and_refuses_as_django_does(rf, admin_user):
    agreement = agreement_with(4)
    request = rf.get("/")
    request.user = admin_user
    site = admin.site
    ours = deleted_objects_summary([agreement], request, site)
    djangos = get_deleted_objects([agreement], request, site)
    # The count of every kind of row, but the links of many-to-many fields (the agreement's
    # parties, the commitments' co-obligors), which go with their rows.
    links = {name for name in djangos[1] if name.endswith("relationships")}
    assert links and not links & set(ours[1])
    assert ours[1] == {name: n for name, n in djangos[1].items() if name not in links}
    assert ours[2] == djangos[2] == {"rating"}  # ratings are not deleted by hand
    assert ours[3] == djangos[3] == []


def test_protected_rows_are_listed_as_django_lists_them(rf, admin_user):
    agreement = agreement_with(2, rated=False)
    commitment = agreement.commitments.first()
    assert commitment is not None and commitment.due_date is not None
    factories.revision_make(commitment=commitment, new_due_date=commitment.due_date.replace(
        year=commitment.due_date.year + 1))  # fmt: skip
    request = rf.get("/")
    request.user = admin_user
    ours = deleted_objects_summary([agreement], request, admin.site)
    djangos = get_deleted_objects([agreement], request, admin.site)
    assert len(ours[3]) == len(djangos[3]) > 0


def _confirmation(client, agreement, language: str = "en") -> tuple[int, str]:
    url = reverse("admin:commitments_agreement_delete", args=[agreement.pk])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_confirmation_names_a_bounded_list_in_constant_queries(admin_client, monkeypatch):
    named = 2  # fewer names than rows in both sizes (the default is DELETE_NAMED_PER_MODEL)
    monkeypatch.setattr("commitments.admin.base.DELETE_NAMED_PER_MODEL", named)
    small, page = _confirmation(admin_client, agreement_with(4, rated=False))
    big, page = _confirmation(admin_client, agreement_with(3 * 4, rated=False))
    assert big == small
    assert big <= 60
    # The page refusing the deletion (ratings are never deleted by hand) too.
    assert (
        _confirmation(admin_client, agreement_with(4))[0]
        == _confirmation(admin_client, agreement_with(3 * 4))[0]
    )
    assert f"… and {12 - named} more commitments" in page
    assert page.count('Commitment: <a href="/admin/commitments/commitment/') == named
    assert DELETE_NAMED_PER_MODEL == 10


def test_the_confirmation_names_the_rows_in_french(admin_client, monkeypatch):
    monkeypatch.setattr("commitments.admin.base.DELETE_NAMED_PER_MODEL", 2)
    _, page = _confirmation(admin_client, agreement_with(5, rated=False), language="fr")
    assert "… et 3 autres engagements" in page
    assert page.count('Engagement: <a href="/admin/commitments/commitment/') == 2
    assert "Commitment:" not in page and "more commitments" not in page
    assert "relationship" not in page and " object (" not in page  # Django's through rows
    assert "Administration du Suivi des engagements" in page  # not "Administration de Django"


def test_the_deletion_itself_still_deletes_everything_with_history(admin_client):
    agreement = agreement_with(3, rated=False)
    ids = list(agreement.commitments.values_list("pk", flat=True))
    url = reverse("admin:commitments_agreement_delete", args=[agreement.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Agreement.objects.filter(pk=agreement.pk).exists()
    assert not Commitment.objects.filter(pk__in=ids).exists()
    deleted = Commitment.history.filter(id__in=ids, history_type="-")
    assert deleted.count() == len(ids)
