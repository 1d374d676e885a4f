"""``POST /api/v1/parse/``: the parser's proposals for editors; bad input is a 400 naming the
field."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from commitments.models import Commitment
from commitments.parsing import MAX_TEXT_LENGTH

pytestmark = pytest.mark.django_db

URL = "/api/v1/parse/"


def test_an_editor_gets_the_proposals_of_a_french_passage(editor_api):
    text = "En échange, Trump a réduit les tarifs à 15 %, avec effet rétroactif à août"
    response = editor_api.post(URL, {"text": text, "lang": "fr", "anchor": "2025-10-28"},
                               format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["deadline"] is None
    assert body["effective_from"] == "2025-08-01"
    assert body["effective_from_precision"] == "month"
    start, end = body["effective_from_span"]
    assert text[start:end] == body["effective_from_phrase"] == "avec effet rétroactif à août"
    assert body["target"] == {"amount": "15", "unit": "percent", "phrase": "15 %",
                              "span": [text.index("15 %"), text.index("15 %") + 4]}


def test_the_eu_us_review_is_due_90_days_after_the_statement(editor_api):
    response = editor_api.post(
        URL, {"text": "a review within 90 days", "lang": "en", "anchor": "2025-08-21"},
        format="json",
    )
    rule = response.json()["deadline"]
    assert rule["kind"] == "relative"
    assert rule["due_date"] == "2025-11-19"
    assert (rule["offset_amount"], rule["offset_unit"], rule["anchor_kind"]) == (
        90, "days", "agreement")
    assert rule["phrase"] == rule["source_phrase"] == "within 90 days"


def test_without_an_anchor_a_relative_rule_has_no_due_date(editor_api):
    response = editor_api.post(URL, {"text": "dans les 180 jours", "lang": "fr"}, format="json")
    assert response.status_code == 200
    assert response.json()["deadline"]["due_date"] is None
    assert response.json()["deadline"]["offset_amount"] == 180


@pytest.mark.parametrize(("body", "field"), [
    ({"text": "within 90 days", "lang": "de", "anchor": "2025-08-21"}, "lang"),
    ({"text": "within 90 days", "lang": "en", "anchor": "21/08/2025"}, "anchor"),
    ({"text": "within 90 days", "lang": "en", "anchor": "1850-01-01"}, "anchor"),
    ({"text": "x" * (MAX_TEXT_LENGTH + 1), "lang": "en"}, "text"),
    ({"text": "", "lang": "en"}, "text"),
    ({"lang": "en"}, "text"),
    ({"text": "within 90 days"}, "lang"),
    ({"text": ["within 90 days"], "lang": "en"}, "text"),
    ({"text": "within 90 days", "lang": "en", "agreement": 3}, "agreement"),
])
def test_bad_input_is_a_400_naming_the_field(editor_api, body, field):
    response = editor_api.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_a_text_at_the_limit_is_read(editor_api):
    text = ("x" * (MAX_TEXT_LENGTH - len(" d’ici 2028"))) + " d’ici 2028"
    response = editor_api.post(URL, {"text": text, "lang": "fr"}, format="json")
    assert response.status_code == 200
    assert response.json()["deadline"]["period_year"] == 2028


def test_it_writes_nothing_and_viewers_and_anonymous_callers_are_refused(editor_api, viewer_api,
                                                                        make_commitment):
    make_commitment()
    before = list(Commitment.objects.values())
    body = {"text": "within 90 days", "lang": "en", "anchor": "2025-08-21"}
    assert editor_api.post(URL, body, format="json").status_code == 200
    assert viewer_api.post(URL, body, format="json").status_code == 403
    assert APIClient().post(URL, body, format="json").status_code == 401
    assert list(Commitment.objects.values()) == before


def test_the_schema_documents_the_request_and_the_answer(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/parse/"]["post"]
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    components = schema["components"]["schemas"]
    assert set(components["ParseRequest"]["properties"]) == {"text", "lang", "anchor"}
    assert components["ParseRequest"]["properties"]["text"]["maxLength"] == MAX_TEXT_LENGTH
    answer = components["ParseAnswer"]["properties"]
    assert {"deadline", "effective_from", "target"} <= set(answer)
    assert {"kind", "due_date", "precision", "phrase", "span", "offset_amount",
            "period_unit"} <= set(components["DeadlineProposal"]["properties"])
