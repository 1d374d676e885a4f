"""Ratings on the review pages: the commitment page's assessment section and rating form, the
"still holds" button, and the list's rating, review-due and pace filters.

The default agreement is dated 2025-10-28 in Asia/Tokyo; today is 2 March 2026.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.models import Assessment, Citation, Commitment
from commitments.services import commitments as svc
from commitments.services.assessments import assessment_record
from core.roles import EDITORS, VIEWERS
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 2, 3, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def writer(db):
    return factories.user_make(username="ed", role=EDITORS)


@pytest.fixture
def reviewer(db):
    return factories.user_make(username="rita", role=VIEWERS)


@pytest.fixture
def shared(make_commitment, usa):
    return make_commitment(title="Meet within 180 days", co_obligors=[usa])


def page(commitment: Commitment) -> str:
    return reverse("dashboard:commitment", args=[commitment.pk])


def rate(commitment: Commitment) -> str:
    return reverse("dashboard:commitment_rate", args=[commitment.pk])


def posted(party, source=None, **fields) -> dict[str, str]:
    data = {
        "rating-party": str(party.pk),
        "rating-rating": "kept",
        "rating-assessed_on": "2026-02-20",
        "rating-justification": "Les deux pays se sont réunis le 18 février.",
    }
    if source is not None:
        data.update(
            {"rating-evidence_source": str(source.pk), "rating-evidence_quote": "Réunion tenue."}
        )
    data.update({f"rating-{name}": value for name, value in fields.items()})
    return data


def test_each_obligor_shows_its_rating_or_not_yet_rated(client, reviewer, shared, japan, source):
    assessment_record(
        commitment=shared, party=japan, rating="in_the_works", justification="Talks began.",
        assessed_on=dt.date(2025, 11, 1),
    )
    assessment_record(
        commitment=shared, party=japan, rating="kept", justification="They met in Tokyo.",
        assessed_on=dt.date(2026, 2, 20), evidence_source=source,
        evidence_quote="Les deux pays se sont réunis.",
    )
    client.force_login(reviewer)
    response = client.get(page(shared))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="rating rating-kept">Kept<' in html
    assert "score +1" in html
    assert 'class="rating rating-not_rated">Not yet rated<' in html
    assert "They met in Tokyo." in html and "Les deux pays se sont réunis." in html
    assert "Assessed Feb. 20, 2026; last reviewed Feb. 20, 2026" in html
    assert "<details" in html and "Talks began." in html
    # Readers see no form and no review button.
    assert 'name="rating-rating"' not in html and "Still holds" not in html


def test_the_section_reads_in_french(client, reviewer, shared, japan):
    assessment_record(
        commitment=shared, party=japan, rating="stalled", justification="Rien.",
        assessed_on=dt.date(2026, 2, 1),
    )
    client.force_login(reviewer)
    html = client.get(page(shared), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Évaluation" in html
    assert "Au point mort" in html and "Pas encore évalué" in html
    assert "Évalué le 1 février 2026\u202f; revu pour la dernière fois le 1 février 2026" in html


def test_an_editor_rates_an_obligor_from_the_page(client, writer, shared, usa, source):
    client.force_login(writer)
    html = client.get(page(shared)).content.decode()
    assert 'name="rating-rating"' in html
    assert 'name="rating-rating"' in client.get(rate(shared)).content.decode()
    response = client.post(rate(shared), posted(usa, source))
    assert response.status_code == 302
    assert response["Location"] == page(shared) + "#assessment-h"
    rating = Assessment.objects.get()
    assert (rating.party, rating.rating, rating.assessed_on, rating.author) == (
        usa,
        "kept",
        dt.date(2026, 2, 20),
        writer,
    )
    assert rating.evidence is not None and rating.evidence.quote == "Réunion tenue."
    assert "The rating was recorded." in client.get(page(shared)).content.decode()


@pytest.mark.parametrize(
    ("fields", "with_source", "field", "words"),
    [
        ({"justification": ""}, True, "justification", "required"),
        ({}, False, "evidence", "evidence"),
        ({"assessed_on": "2026-03-03"}, True, "assessed_on", "future"),
        ({"rating": "not_rated"}, True, "rating", "scale"),
        ({"evidence_quote": "Sans source."}, False, "evidence_source", "source"),
    ],
)
def test_a_bad_rating_shows_the_error_at_its_field_and_writes_nothing(
    client, writer, shared, japan, source, fields, with_source, field, words
):
    client.force_login(writer)
    citations = Citation.objects.count()
    response = client.post(rate(shared), posted(japan, source if with_source else None, **fields))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert words in " ".join(errors[field])
    html = response.content.decode()
    assert f'id="id_rating-{field}"' in html and 'class="error" role="alert"' in html
    assert not Assessment.objects.exists()
    assert Citation.objects.count() == citations


def test_a_party_that_is_not_an_obligor_is_not_offered_nor_taken(
    client, writer, make_commitment, usa
):
    commitment = make_commitment()
    client.force_login(writer)
    assert f'<option value="{usa.pk}"' not in client.get(page(commitment)).content.decode()
    response = client.post(rate(commitment), posted(usa, justification="r", rating="stalled"))
    assert response.status_code == 400
    assert "not an obligor" in " ".join(response.context["form"].errors["party"])
    assert not Assessment.objects.exists()


def test_readers_cannot_rate_nor_review(client, reviewer, shared, japan, source):
    rating = assessment_record(
        commitment=shared, party=japan, rating="stalled", justification="r",
        assessed_on=dt.date(2025, 11, 1),
    )
    client.force_login(reviewer)
    assert client.post(rate(shared), posted(japan, source)).status_code == 403
    review = reverse("dashboard:assessment_review", args=[shared.pk, rating.pk])
    assert client.post(review).status_code == 403
    rating.refresh_from_db()
    assert rating.reviewed_on == dt.date(2025, 11, 1)
    assert Assessment.objects.count() == 1


def test_still_holds_marks_the_rating_reviewed_today(client, writer, shared, japan):
    rating = assessment_record(
        commitment=shared, party=japan, rating="stalled", justification="r",
        assessed_on=dt.date(2025, 11, 1),
    )
    Assessment.objects.filter(pk=rating.pk).update(review_due=True)
    client.force_login(writer)
    html = client.get(page(shared)).content.decode()
    assert "Review due" in html and "Still holds — reviewed today" in html
    review = reverse("dashboard:assessment_review", args=[shared.pk, rating.pk])
    response = client.post(review)
    assert response.status_code == 302
    rating.refresh_from_db()
    # 2 March 2026 03:00 UTC is noon in Tokyo.
    assert (rating.reviewed_on, rating.review_due) == (dt.date(2026, 3, 2), False)
    other = factories.commitment_make(agreement=shared.agreement, obligor=japan)
    elsewhere = reverse("dashboard:assessment_review", args=[other.pk, rating.pk])
    assert client.post(elsewhere).status_code == 404


def test_the_page_costs_the_same_queries_for_1_or_12_ratings(client, reviewer, shared, japan, usa):
    client.force_login(reviewer)
    counts = []
    for n in range(12):
        assessment_record(
            commitment=shared, party=japan if n % 2 else usa, rating="stalled",
            justification=f"Rating {n}", assessed_on=dt.date(2025, 11, 1) + dt.timedelta(days=n),
        )
        if n in (1, 11):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(page(shared)).status_code == 200
            counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_list_filters_by_rating_review_due_and_pace(
    client, reviewer, make_commitment, shared, japan, editor
):
    measured = make_commitment(
        title="Buy 100", target_amount=Decimal(100), target_unit="USD",
        deadline_kind="fixed", deadline_date=dt.date(2026, 10, 28), offset_amount=None,
        offset_unit="", anchor_kind="",
    )
    svc.commitment_change_status(
        commitment=measured, status="in_progress", occurred_on=dt.date(2026, 1, 1),
        measured_value=Decimal(5),
    )
    assessment_record(
        commitment=shared, party=japan, rating="stalled", justification="r",
        assessed_on=dt.date(2025, 11, 1),
    )
    Assessment.objects.update(review_due=True)
    client.force_login(reviewer)
    listing = reverse("dashboard:commitments")
    html = client.get(listing).content.decode()
    for name in ('name="rating"', 'name="review_due"', 'name="pace"'):
        assert name in html

    def titles(**params):
        response = client.get(listing, params)
        assert response.status_code == 200
        return [c.title for c in response.context["page"].object_list]

    assert titles(rating="stalled") == ["Meet within 180 days"]
    assert "Buy 100" in titles(rating="not_rated")
    assert titles(review_due="true") == ["Meet within 180 days"]
    # 5 % of the target when the line asks for 35 % (4 months of 12): behind.
    assert titles(pace="behind") == ["Buy 100"]
    assert titles(pace="ahead") == []
    assert client.get(listing, {"pace": "fast"}).status_code == 400
