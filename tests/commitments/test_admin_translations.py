"""The admin's French fields: beside the English ones, machine translations checked at their
field, and the search reading both languages."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from commitments.models import Party

pytestmark = pytest.mark.django_db


def _party_form(party: Party, **changes: str) -> dict[str, str]:
    return {
        "key": party.key,
        "name": party.name,
        "name_fr": party.name_fr,
        "kind": party.kind,
        "country_code": party.country_code,
        "machine_translations": json.dumps(party.machine_translations),
        **changes,
    }


def test_the_agreement_page_puts_each_french_field_beside_its_english_one(
    admin_client, agreement
):
    page = admin_client.get(reverse("admin:commitments_agreement_change", args=[agreement.pk]))
    text = page.content.decode()
    for label in ("Title in French", "Summary in French", "Machine translations"):
        assert label in text
    assert text.index('name="title"') < text.index('name="title_fr"') < text.index('name="kind"')
    assert text.index('name="summary"') < text.index('name="summary_fr"')


def test_the_commitment_page_has_its_french_title_and_description(admin_client, make_commitment):
    commitment = make_commitment()
    page = admin_client.get(reverse("admin:commitments_commitment_change", args=[commitment.pk]))
    text = page.content.decode()
    assert "Title in French" in text and "Description in French" in text
    assert text.index('name="description"') < text.index('name="description_fr"')
    # The help says what the field holds and that a human translation wins.
    assert "A human translation, where there is one, is shown instead." in text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"fr": {"title": "Japon"}}', "Not a translated field here: title"),
        ('{"de": {"name": "Japan"}}', "is not a language texts are translated into"),
        ('{"fr": ', "Enter a valid JSON."),
    ],
)
def test_a_wrong_machine_translation_is_shown_at_its_field_and_nothing_is_saved(
    admin_client, japan, value, message
):
    response = admin_client.post(
        reverse("admin:commitments_party_change", args=[japan.pk]),
        _party_form(japan, name_fr="Japon", machine_translations=value),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["machine_translations"]
    assert message in " ".join(errors["machine_translations"])
    japan.refresh_from_db()
    assert (japan.name_fr, japan.machine_translations) == ("", {})


def test_a_party_is_saved_with_its_french_name_and_a_machine_translation(admin_client, usa):
    response = admin_client.post(
        reverse("admin:commitments_party_change", args=[usa.pk]),
        _party_form(usa, name_fr="États-Unis", machine_translations='{"fr": {"name": "EU"}}'),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    usa.refresh_from_db()
    assert (usa.name_fr, usa.machine_translations) == ("États-Unis", {"fr": {"name": "EU"}})


def test_the_search_finds_rows_by_their_french_texts(admin_client, make_commitment, japan):
    japan.name_fr = "Japon"
    japan.save(update_fields=["name_fr"])
    make_commitment(title="Hold the ministerial", title_fr="Tenir la réunion ministérielle")
    make_commitment(title="Cut tariffs")
    found = admin_client.get(reverse("admin:commitments_commitment_changelist"), {"q": "réunion"})
    assert [c.title for c in found.context["cl"].result_list] == ["Hold the ministerial"]
    parties = admin_client.get(reverse("admin:commitments_party_changelist"), {"q": "Japon"})
    assert [p.key for p in parties.context["cl"].result_list] == ["japan"]
