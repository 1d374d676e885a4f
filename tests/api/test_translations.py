"""The API reads and writes the French texts and the machine translations, checked as the
admin checks them: a 400 naming the field, and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest

from commitments.choices import Category
from commitments.models import Agreement, Assessment, Commitment
from commitments.services.assessments import assessment_record

pytestmark = pytest.mark.django_db

COMMITMENTS = "/api/v1/commitments/"
AGREEMENTS = "/api/v1/agreements/"


def _new_commitment(agreement, japan, **fields):
    return {
        "key": "minerals-ministerial",
        "agreement": agreement.pk,
        "title": "Critical-minerals ministerial",
        "category": Category.MEETING,
        "obligor": japan.pk,
        "deadline_rule": {"kind": "none"},
        **fields,
    }


def test_an_editor_writes_a_commitments_french_texts_and_reads_them_back(
    editor_api, viewer_api, agreement, japan
):
    body = _new_commitment(
        agreement,
        japan,
        title_fr="Réunion ministérielle sur les minéraux critiques",
        description_fr="Dans les 180 jours.",
        machine_translations={"fr": {"description": "Dans 180 jours."}},
    )
    response = editor_api.post(COMMITMENTS, body, format="json")

    assert response.status_code == 201, response.content
    stored = Commitment.objects.get(key="minerals-ministerial")
    assert stored.title_fr == "Réunion ministérielle sur les minéraux critiques"
    assert stored.description_fr == "Dans les 180 jours."
    assert stored.machine_translations == {"fr": {"description": "Dans 180 jours."}}
    for url in (f"{COMMITMENTS}{stored.pk}/", COMMITMENTS):
        data = viewer_api.get(url).json()
        row = data if "key" in data else data["results"][0]
        assert row["title_fr"] == "Réunion ministérielle sur les minéraux critiques"
        assert row["description_fr"] == "Dans les 180 jours."
        assert row["machine_translations"] == {"fr": {"description": "Dans 180 jours."}}


@pytest.mark.parametrize(
    ("translations", "message"),
    [
        ({"de": {"title": "Ministertreffen"}}, "'de' is not a language"),
        ({"fr": {"summary": "Résumé"}}, "Not a translated field here: summary"),
        ({"fr": {"title": 3}}, "must map field names to texts"),
        (["fr"], "Give an object"),
    ],
)
def test_a_wrong_machine_translation_is_a_400_naming_the_field_and_writes_nothing(
    editor_api, make_commitment, translations, message
):
    commitment = make_commitment(title_fr="Titre")
    before = Commitment.objects.values().get(pk=commitment.pk)

    response = editor_api.patch(
        f"{COMMITMENTS}{commitment.pk}/",
        {"title_fr": "Autre titre", "machine_translations": translations},
        format="json",
    )

    assert response.status_code == 400, response.content
    errors = response.json()
    assert message in " ".join(errors["machine_translations"]), errors
    assert Commitment.objects.values().get(pk=commitment.pk) == before


def test_a_french_title_too_long_is_refused_at_its_field(editor_api, make_commitment):
    commitment = make_commitment()
    response = editor_api.patch(
        f"{COMMITMENTS}{commitment.pk}/", {"title_fr": "x" * 301}, format="json"
    )
    assert response.status_code == 400
    assert "title_fr" in response.json()
    assert Commitment.objects.get(pk=commitment.pk).title_fr == ""


def test_an_agreements_french_title_and_summary_are_written_and_checked(
    editor_api, agreement
):
    response = editor_api.patch(
        f"{AGREEMENTS}{agreement.pk}/",
        {"title_fr": "Sommet Japon–États-Unis", "summary_fr": "Résumé."},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["title_fr"] == "Sommet Japon–États-Unis"
    stored = Agreement.objects.get(pk=agreement.pk)
    assert (stored.title_fr, stored.summary_fr) == ("Sommet Japon–États-Unis", "Résumé.")

    response = editor_api.patch(
        f"{AGREEMENTS}{agreement.pk}/",
        {"machine_translations": {"fr": {"description": "Non."}}},
        format="json",
    )
    assert response.status_code == 400
    assert "description" in " ".join(response.json()["machine_translations"])
    assert Agreement.objects.get(pk=agreement.pk).machine_translations == {}


def test_parties_show_their_french_name_and_machine_translations(viewer_api, japan):
    japan.name_fr = "Japon"
    japan.save(update_fields=["name_fr"])
    row = viewer_api.get(f"/api/v1/parties/{japan.pk}/").json()
    assert (row["name"], row["name_fr"], row["machine_translations"]) == ("Japan", "Japon", {})


def test_a_rating_is_written_with_its_french_justification(
    editor_api, viewer_api, make_commitment, japan
):
    commitment = make_commitment()
    response = editor_api.post(
        f"{COMMITMENTS}{commitment.pk}/assessments/",
        {
            "party": japan.pk,
            "rating": "in_the_works",
            "assessed_on": "2026-01-05",
            "justification": "Talks began.",
            "justification_fr": "Les discussions ont commencé.",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["justification_fr"] == "Les discussions ont commencé."
    stored = Assessment.objects.get()
    assert (stored.justification, stored.justification_fr) == (
        "Talks began.",
        "Les discussions ont commencé.",
    )
    [shown] = viewer_api.get(f"{COMMITMENTS}{commitment.pk}/").json()["assessments"]
    assert shown["justification_fr"] == "Les discussions ont commencé."


def test_a_rating_with_a_wrong_french_justification_type_writes_nothing(
    editor_api, make_commitment, japan
):
    commitment = make_commitment()
    response = editor_api.post(
        f"{COMMITMENTS}{commitment.pk}/assessments/",
        {
            "party": japan.pk,
            "rating": "in_the_works",
            "justification": "Talks began.",
            "justification_fr": ["not", "text"],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "justification_fr" in response.json()
    assert not Assessment.objects.exists()


def test_the_service_keeps_a_french_justification_apart(make_commitment, japan, editor):
    commitment = make_commitment()
    rating = assessment_record(
        commitment=commitment,
        party=japan,
        rating="in_the_works",
        justification="Talks began.",
        justification_fr="  Les discussions ont commencé.  ",
        assessed_on=dt.date(2026, 1, 5),
        user=editor,
    )
    assert rating.justification_fr == "Les discussions ont commencé."
