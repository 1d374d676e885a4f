"""Ratings in the admin: co-obligors on the commitment form, "Rate an obligor", the read-only
ratings inline and list, and the review action."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from commitments.models import Assessment, Citation, Commitment
from commitments.services.assessments import assessment_record
from tests import factories
from tests.commitments.test_admin import change_form_data, form_errors

pytestmark = pytest.mark.django_db


def rate_url(commitment: Commitment) -> str:
    return reverse("admin:commitments_commitment_rate", args=[commitment.pk])


def change_url(commitment: Commitment) -> str:
    return reverse("admin:commitments_commitment_change", args=[commitment.pk])


@pytest.fixture
def shared(make_commitment, usa):
    return make_commitment(title="Meet within 180 days", co_obligors=[usa])


def test_the_change_page_links_to_the_rate_page_and_shows_ratings(editor_client, shared, japan):
    assessment_record(
        commitment=shared, party=japan, rating="stalled", justification="Aucune date fixée."
    )
    page = editor_client.get(change_url(shared)).content.decode()
    assert rate_url(shared) in page
    assert "Aucune date fixée." in page


def test_a_rating_with_a_new_quote_is_recorded_through_the_service(
    editor_client, editor, shared, usa, source
):
    page = editor_client.get(rate_url(shared))
    assert page.status_code == 200
    # Only the commitment's obligors are offered, the obligor first.
    assert [label for _value, label in page.context["form"].fields["party"].choices][1:] == [
        "Japan",
        "United States",
    ]
    response = editor_client.post(
        rate_url(shared),
        {
            "party": usa.pk,
            "rating": "kept",
            "assessed_on": "2026-05-01",
            "justification": "Réunion tenue le 20 avril.",
            "evidence_source": source.pk,
            "evidence_quote": "Les deux pays se sont réunis.",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == change_url(shared)
    rating = Assessment.objects.get()
    assert (rating.party, rating.rating, rating.assessed_on, rating.author) == (
        usa,
        "kept",
        dt.date(2026, 5, 1),
        editor,
    )
    assert rating.evidence is not None
    assert rating.evidence.quote == "Les deux pays se sont réunis."


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"rating": "stalled"}, "justification", "required"),
        ({"rating": "kept", "justification": "Fait."}, "evidence", "evidence"),
        ({"rating": "stalled", "justification": "r", "assessed_on": "2099-01-01"},
         "assessed_on", "future"),
        ({"rating": "stalled", "justification": "r", "assessed_on": "garbage"},
         "assessed_on", "format"),
        ({"rating": "top", "justification": "r"}, "rating", "scale"),
        ({"rating": "stalled", "justification": "r", "evidence_quote": "Sans source."},
         "evidence_source", "source"),
    ],
)
def test_a_bad_rating_is_a_form_error_on_its_field_and_writes_nothing(
    editor_client, shared, japan, fields, field, words
):
    citations = Citation.objects.count()
    response = editor_client.post(rate_url(shared), {"party": japan.pk, **fields})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert words in " ".join(errors[field])
    assert not Assessment.objects.exists()
    assert Citation.objects.count() == citations


def test_a_party_that_is_not_an_obligor_is_refused(editor_client, make_commitment, usa):
    commitment = make_commitment()
    response = editor_client.post(
        rate_url(commitment), {"party": usa.pk, "rating": "stalled", "justification": "r"}
    )
    assert response.context["form"].errors["party"] == [
        "That party is not an obligor of this commitment."
    ]
    assert not Assessment.objects.exists()


def test_viewers_cannot_rate_and_a_missing_commitment_is_not_found(
    client, viewer, editor, shared, japan
):
    client.force_login(viewer)
    response = client.post(
        rate_url(shared), {"party": japan.pk, "rating": "stalled", "justification": "r"}
    )
    assert response.status_code == 403
    assert not Assessment.objects.exists()
    client.force_login(editor)  # the same client as editor_client: log the editor back in
    missing = client.get(reverse("admin:commitments_commitment_rate", args=[999999]))
    assert missing.status_code == 302


def test_co_obligors_are_saved_through_the_service_and_a_rated_one_is_kept(
    editor_client, editor, make_commitment, japan, usa
):
    commitment = make_commitment()
    korea = factories.party_make(key="korea", name="Korea")
    url = change_url(commitment)
    data = change_form_data(editor_client.get(url))
    data["co_obligors"] = [str(usa.pk), str(korea.pk)]
    response = editor_client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    assert set(commitment.co_obligors.all()) == {usa, korea}

    assessment_record(commitment=commitment, party=usa, rating="stalled", justification="r")
    data = change_form_data(editor_client.get(url))
    data["co_obligors"] = [str(korea.pk)]
    refused = editor_client.post(url, data)
    assert refused.status_code == 200
    assert "co_obligors" in form_errors(refused)
    assert set(commitment.co_obligors.all()) == {usa, korea}

    data["co_obligors"] = [str(japan.pk), str(usa.pk)]
    itself = editor_client.post(url, data)
    assert itself.status_code == 200
    assert set(commitment.co_obligors.all()) == {usa, korea}


def test_the_ratings_list_filters_and_the_review_action(editor_client, editor, shared, japan, usa):
    old = assessment_record(
        commitment=shared, party=japan, rating="stalled", justification="Rien.",
        assessed_on=dt.date(2025, 11, 1),
    )
    Assessment.objects.filter(pk=old.pk).update(review_due=True)
    listing = reverse("admin:commitments_assessment_changelist")
    for query in ("", "?rating__exact=stalled", "?review_due__exact=1", "?current__exact=1"):
        response = editor_client.get(listing + query)
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [old]
    assert list(editor_client.get(listing + "?rating__exact=kept").context["cl"].result_list) == []
    detail = editor_client.get(reverse("admin:commitments_assessment_change", args=[old.pk]))
    assert detail.status_code == 200 and "Rien." in detail.content.decode()

    response = editor_client.post(
        listing, {"action": "review", "_selected_action": [str(old.pk)]}, follow=True
    )
    assert "1 rating(s) marked reviewed today." in response.content.decode()
    old.refresh_from_db()
    assert old.reviewed_on > dt.date(2025, 11, 1) and not old.review_due


def test_a_commitment_with_a_revision_and_a_rating_can_still_be_saved(
    editor_client, shared, japan, source
):
    """The read-only inlines post their rows back unchanged; that is not "too many forms"."""
    factories.revision_make(commitment=shared, source=source, new_due_date=dt.date(2026, 7, 1))
    assessment_record(commitment=shared, party=japan, rating="stalled", justification="r")
    url = change_url(shared)
    data = change_form_data(editor_client.get(url))
    data["title"] = "Meet within 180 days, in Tokyo"
    response = editor_client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    assert Commitment.objects.get(pk=shared.pk).title == "Meet within 180 days, in Tokyo"
    assert Assessment.objects.count() == 1


def test_the_read_only_ratings_inline_takes_no_new_row(editor_client, shared, japan):
    """More forms than saved rows (a tampered TOTAL_FORMS) add no rating."""
    assessment_record(commitment=shared, party=japan, rating="stalled", justification="r")
    url = change_url(shared)
    data = change_form_data(editor_client.get(url))
    data.update({"assessments-TOTAL_FORMS": "3", "assessments-2-rating": "kept",
                 "assessments-2-justification": "Forged.", "assessments-2-party": str(japan.pk)})
    response = editor_client.post(url, data)
    assert response.status_code in (200, 302)
    assert list(Assessment.objects.values_list("rating", flat=True)) == ["stalled"]


def test_the_rate_page_needs_the_right_to_add_a_rating(client, shared, usa):
    """Changing a commitment is not enough: a rating is a row of its own."""
    clerk = factories.user_make(
        username="clerk", role="Clerks", is_staff=True,
        permissions=["view_commitment", "change_commitment"],
    )
    client.force_login(clerk)
    assert client.get(rate_url(shared)).status_code == 403
    response = client.post(rate_url(shared), {"party": usa.pk, "rating": "stalled",
                                              "justification": "Rien."})
    assert response.status_code == 403
    assert not Assessment.objects.exists()
