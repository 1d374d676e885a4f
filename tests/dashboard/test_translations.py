"""The dashboard in French: the stored French texts, fallbacks and machine translations marked."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from core.roles import EDITORS, VIEWERS
from tests.factories import user_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(client):
    client.force_login(user_make(username="lea", role=VIEWERS))
    return client


@pytest.fixture
def french_parties(japan, usa):
    japan.name_fr = "Japon"
    japan.save(update_fields=["name_fr"])
    usa.name_fr = "États-Unis"
    usa.save(update_fields=["name_fr"])


def _french(marker: str) -> str:
    """Return a marker as the French catalogue gives it (« non traduit » once translated)."""
    with translation.override("fr"):
        return gettext(marker)


def get(client, url, language="fr", **params):
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_the_french_list_shows_french_titles_and_party_names(
    reader, make_commitment, french_parties, agreement
):
    make_commitment(title="Invest 550 billion", title_fr="Investir 550 milliards")
    page = get(reader, reverse("dashboard:commitments"))
    assert "Investir 550 milliards" in page
    assert "Invest 550 billion" not in page
    assert "Japon" in page and ">Japan<" not in page
    # The obligor filter offers the parties by their French names too.
    assert re.search(r'<option value="\d+">Japon</option>', page)
    english = get(reader, reverse("dashboard:commitments"), language="en")
    assert "Invest 550 billion" in english and "Investir" not in english
    assert re.search(r'<option value="\d+">Japan</option>', english)


def test_a_missing_translation_is_shown_in_english_marked_as_such(reader, make_commitment):
    commitment = make_commitment(title="Hold the ministerial")
    page = get(reader, reverse("dashboard:commitment", args=[commitment.pk]))
    marked = (
        '<span lang="en">Hold the ministerial</span> '
        f'<small class="translation-note">({_french("not translated")})</small>'
    )
    assert f"<h1>{marked}</h1>" in page
    # The page's own title is plain text, without markup.
    assert "<title>Hold the ministerial" in page


def test_a_machine_translation_is_marked_and_a_human_one_wins(reader, make_commitment):
    machine = make_commitment(
        title="Hold the ministerial",
        machine_translations={"fr": {"title": "Tenir la ministérielle"}},
    )
    both = make_commitment(
        title="Cut tariffs",
        title_fr="Réduire les droits de douane",
        machine_translations={"fr": {"title": "Couper les tarifs"}},
    )
    page = get(reader, reverse("dashboard:commitment", args=[machine.pk]))
    assert (
        "<h1>Tenir la ministérielle "
        f'<small class="translation-note">({_french("machine translation")})</small></h1>'
    ) in page
    page = get(reader, reverse("dashboard:commitment", args=[both.pk]))
    assert "<h1>Réduire les droits de douane</h1>" in page
    assert "Couper les tarifs" not in page


def test_the_agreement_page_and_overview_read_in_french(
    reader, make_commitment, french_parties, agreement
):
    agreement.title_fr = "Sommet Japon–États-Unis"
    agreement.summary_fr = "Un résumé en français."
    agreement.summary = "A summary in English."
    agreement.save(update_fields=["title_fr", "summary_fr", "summary"])
    make_commitment(title="Hold the ministerial", title_fr="Tenir la réunion ministérielle")
    page = get(reader, reverse("dashboard:agreement", args=[agreement.pk]))
    assert "<h1>Sommet Japon–États-Unis</h1>" in page
    assert "Un résumé en français." in page and "A summary in English." not in page
    assert ">Japon</a>" in page and ">États-Unis</a>" in page
    # The timeline's lanes are labelled in French as well.
    assert "<title>Tenir la réunion ministérielle</title>" in page
    overview = get(reader, reverse("dashboard:overview"))
    assert ">Japon</a>" in overview and "Sommet Japon–États-Unis" in overview


def test_the_list_columns_and_the_sort_choices_read_as_a_reader_sorts(reader, make_commitment):
    make_commitment()
    page = get(reader, reverse("dashboard:commitments"))
    headers = re.findall(r'<th scope="col">(.*?)</th>', page, re.S)
    texts = [re.sub(r"<[^>]+>|↓", "", header).strip() for header in headers]
    assert "Date d’échéance" in texts and "État de l’échéance" in texts
    assert texts.count("Échéance") == 0
    select = re.search(r'<select name="ordering"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    offered = re.findall(r'<option value="([^"]*)"', select.group(1))
    assert offered == [
        "",
        "due_date",
        "-due_date",
        "title",
        "status",
        "deadline_state",
        "-agreement_date",
        "agreement_date",
        "-updated",
    ]
    for internal in ("Due at", "Key", "Id", "(descending)"):
        assert internal not in select.group(1)
    assert "[invalid name]" not in page


def test_the_api_keeps_every_ordering_and_sorts_by_agreement_date(
    viewer_api, make_commitment, agreement
):
    first, second = make_commitment(), make_commitment()
    for ordering in ("due_at", "-key", "id", "-agreement_date"):
        response = viewer_api.get("/api/v1/commitments/", {"ordering": ordering})
        assert response.status_code == 200, (ordering, response.content)
    response = viewer_api.get("/api/v1/commitments/", {"ordering": "-id"})
    assert [row["id"] for row in response.json()["results"]] == [second.pk, first.pk]


def test_the_search_finds_a_commitment_by_its_french_title(reader, make_commitment):
    make_commitment(title="Hold the ministerial", title_fr="Tenir la réunion ministérielle")
    make_commitment(title="Cut tariffs")
    page = get(reader, reverse("dashboard:commitments"), q="réunion")
    assert "Tenir la réunion ministérielle" in page and "Cut tariffs" not in page


def test_the_rating_form_offers_the_obligors_by_their_french_names(
    client, make_commitment, french_parties, japan
):
    client.force_login(user_make(username="ed", role=EDITORS))
    commitment = make_commitment()
    page = get(client, reverse("dashboard:commitment", args=[commitment.pk]))
    assert f'<option value="{japan.pk}">Japon</option>' in page
    assert "Justification" in page
