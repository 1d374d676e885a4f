"""The commitment page's occurrences, and an occurrence's own page with the status form."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from commitments.choices import Status
from commitments.models import ProgressUpdate
from core.roles import EDITORS, VIEWERS
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def purchases(agreement, japan):
    return factories.recurring_commitment_make(
        agreement=agreement, obligor=japan, title="Farm purchases"
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Recurs: every year, 3 occurrences.", "Oct. 28, 2027", "$8,000,000,000"]),
        ("fr", ["Récurrence : chaque année, 3 occurrences.", "28 octobre 2027", "Non commencé"]),
    ],
)
def test_the_commitment_page_lists_its_occurrences(client, purchases, language, words):
    client.force_login(factories.user_make(role=VIEWERS))
    page = client.get(
        reverse("dashboard:commitment", args=[purchases.pk]), HTTP_ACCEPT_LANGUAGE=language
    )
    body = page.content.decode()
    for word in words:
        assert word in body, word
    assert reverse("dashboard:occurrence", args=[purchases.pk, 2]) in body


def test_an_editor_records_an_occurrences_status_with_evidence(client, purchases, source):
    editor = factories.user_make(role=EDITORS)
    client.force_login(editor)
    url = reverse("dashboard:occurrence", args=[purchases.pk, 1])
    refused = client.post(url, {"status": "fulfilled", "occurred_on": "2026-02-20"})
    assert refused.status_code == 400
    assert "evidence" in refused.context["form"].errors
    assert not ProgressUpdate.objects.exists()
    response = client.post(
        url,
        {
            "status": "fulfilled",
            "occurred_on": "2026-02-20",
            "evidence_source": source.pk,
            "evidence_quote": "Achats de la première année réalisés.",
        },
    )
    assert response.status_code == 302
    first = purchases.occurrences.get(sequence=1)
    assert first.status == Status.FULFILLED
    assert ProgressUpdate.objects.get().occurrence == first
    assert ProgressUpdate.objects.get().author == editor
    purchases.refresh_from_db()
    assert purchases.due_date == dt.date(2027, 10, 28)


def test_a_viewer_sees_an_occurrence_but_may_not_record(client, purchases):
    client.force_login(factories.user_make(role=VIEWERS))
    url = reverse("dashboard:occurrence", args=[purchases.pk, 1])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"] is None
    assert client.post(url, {"status": "in_progress"}).status_code == 403
    assert client.get(reverse("dashboard:occurrence", args=[purchases.pk, 9])).status_code == 404


def test_the_history_names_the_occurrence_an_update_is_about(client, purchases, source):
    """Fulfilling occurrence 1 must not read as fulfilling the whole commitment."""
    editor = factories.user_make(role=EDITORS)
    client.force_login(editor)
    client.post(
        reverse("dashboard:occurrence", args=[purchases.pk, 1]),
        {
            "status": "fulfilled",
            "occurred_on": "2026-02-20",
            "evidence_source": source.pk,
            "evidence_quote": "Achats de la première année réalisés.",
        },
    )
    update = ProgressUpdate.objects.select_related("occurrence").get()
    assert update.occurrence is not None and update.occurrence.sequence == 1
    link = reverse("dashboard:occurrence", args=[purchases.pk, 1])
    for language, words in [("en", "occurrence 1"), ("fr", "occurrence 1")]:
        body = client.get(
            reverse("dashboard:commitment", args=[purchases.pk]), HTTP_ACCEPT_LANGUAGE=language
        ).content.decode()
        history = body.split('id="history-h"')[1].split("</section>")[0]
        assert f'<a href="{link}">{words}</a>' in history


def test_a_recurring_commitment_says_why_it_offers_no_revision(client, purchases):
    client.force_login(factories.user_make(role=EDITORS))
    body = client.get(
        reverse("dashboard:commitment", args=[purchases.pk]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert reverse("dashboard:commitment_revise", args=[purchases.pk]) not in body
    assert "L’engagement est récurrent : les échéances de ses occurrences" in body


def test_an_occurrences_history_is_a_sentence_when_empty_and_cites_its_source(
    client, purchases, source
):
    client.force_login(factories.user_make(role=EDITORS))
    url = reverse("dashboard:occurrence", args=[purchases.pk, 1])
    empty = client.get(url).content.decode().split('id="history-h"')[1].split("</section>")[0]
    assert "<li>" not in empty and "No progress recorded yet." in empty
    client.post(
        url,
        {
            "status": "fulfilled",
            "occurred_on": "2026-02-20",
            "evidence_source": source.pk,
            "evidence_quote": "Achats de la première année réalisés.",
        },
    )
    history = client.get(url).content.decode().split('id="history-h"')[1].split("</section>")[0]
    assert "Achats de la première année réalisés." in history
    assert source.title in history
