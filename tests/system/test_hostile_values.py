"""Hostile values refused with the field and the reason, the same in every interface.

Issue 11's classes 2 and 9 (dates at the edge of the calendar, and codes that are not codes)
and 7 (NUL characters): the range of dates lives in ``core.dates``, the shape of language
tags and country codes in ``core.codes``, and the refusal of NUL in ``core.text``. Each test
checks the refusal names the field and that nothing was written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from commitments.models import Agreement, Citation, Commitment, Party, ProgressUpdate, Source
from core.dates import DATE_MAX, DATE_MIN
from tests.factories import agreement_make, citation_make
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

COMMITMENTS = "/api/v1/commitments/"
AGREEMENTS = "/api/v1/agreements/"
OUT_OF_RANGE = ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"]
MODELS = (Party, Source, Agreement, Commitment, Citation, ProgressUpdate)


def counts() -> dict[str, int]:
    """Return the rows and history rows of every domain table."""
    state = {}
    for model in MODELS:
        state[model.__name__] = model.objects.count()
        state[f"{model.__name__} history"] = model.history.count()  # type: ignore[attr-defined]
    return state


def error_at(body: dict[str, Any], path: list[str]) -> list[str]:
    for name in path:
        body = body[name]
    return body  # type: ignore[return-value]


def _edge_agreement(party: Party, day: dt.date) -> Agreement:
    return agreement_make(key=f"edge-{day.year}", title="At the edge", date=day, parties=[party])


def _commitment_body(agreement, japan, **overrides):
    return {
        "key": "hostile",
        "agreement": agreement.pk,
        "title": "Hostile",
        "category": "meeting",
        "obligor": japan.pk,
        "deadline_rule": {"kind": "fixed", "date": "2026-03-31"},
        **overrides,
    }


# Class 2 and 9: dates outside 1900-01-01..2199-12-31.


@pytest.mark.parametrize("date", OUT_OF_RANGE)
def test_fixed_deadline_out_of_range_is_a_400_on_the_date(editor_api, agreement, japan, date):
    """9999-12-31 overflowed the due instant (a 500); every date outside the range is refused."""
    before = counts()
    body = _commitment_body(agreement, japan, deadline_rule={"kind": "fixed", "date": date})
    response = editor_api.post(COMMITMENTS, body, format="json")
    assert response.status_code == 400, response.content
    assert "2199-12-31" in error_at(response.json(), ["deadline_rule", "date"])[0]
    assert counts() == before


@pytest.mark.parametrize("date", OUT_OF_RANGE)
def test_agreement_date_out_of_range_is_a_400_on_the_date(editor_api, japan, date):
    """An agreement dated 9999-12-31 was accepted and its page failed later."""
    before = counts()
    body = {"key": "far", "title": "Far", "kind": "framework", "date": date,
            "parties": [japan.pk]}
    response = editor_api.post(AGREEMENTS, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["date"] == ["Dates run from 1900-01-01 to 2199-12-31."]
    assert counts() == before


def test_agreement_date_change_out_of_range_is_a_400_and_changes_nothing(editor_api, agreement):
    response = editor_api.patch(f"{AGREEMENTS}{agreement.pk}/", {"date": "9999-12-31"},
                                format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["date"]
    agreement.refresh_from_db()
    assert agreement.date == dt.date(2025, 10, 28)


@pytest.mark.parametrize("date", ["1899-12-31", "2200-01-01", "9999-12-31"])
def test_status_change_dated_out_of_range_is_a_400_on_the_date(editor_api, make_commitment, date):
    commitment = make_commitment()
    before = counts()
    response = editor_api.post(f"{COMMITMENTS}{commitment.pk}/status/",
                               {"status": "in_progress", "occurred_on": date}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["occurred_on"]
    assert counts() == before


def test_effective_from_out_of_range_is_a_400_on_the_field(editor_api, agreement, japan):
    before = counts()
    body = _commitment_body(agreement, japan, effective_from="0001-01-01")
    response = editor_api.post(COMMITMENTS, body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["effective_from"]
    assert counts() == before


def test_the_range_ends_are_accepted(editor_api, agreement, japan):
    body = _commitment_body(agreement, japan, effective_from=DATE_MIN.isoformat(),
                            deadline_rule={"kind": "fixed", "date": DATE_MAX.isoformat()})
    response = editor_api.post(COMMITMENTS, body, format="json")
    assert response.status_code == 201, response.content
    stored = Commitment.objects.get(key="hostile")
    assert (stored.effective_from, stored.due_date) == (DATE_MIN, DATE_MAX)
    assert stored.due_at == dt.datetime(2199, 12, 31, 14, 59, 59, 999999, tzinfo=dt.UTC)


@pytest.mark.parametrize("day", [DATE_MIN, DATE_MAX])
def test_a_commitment_at_the_range_ends_displays_on_every_page(
    editor_client, editor_api, japan, day
):
    """What is accepted can be shown: the dashboard's pages, the admin's and the API's."""
    agreement = _edge_agreement(japan, day)
    response = editor_api.post(
        COMMITMENTS,
        _commitment_body(agreement, japan, effective_from=day.isoformat(),
                         deadline_rule={"kind": "fixed", "date": day.isoformat()}),
        format="json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    for url in (
        reverse("dashboard:agreement", args=[agreement.pk]),
        reverse("dashboard:commitment", args=[pk]),
        reverse("dashboard:commitments"),
        reverse("admin:commitments_agreement_change", args=[agreement.pk]),
        reverse("admin:commitments_commitment_change", args=[pk]),
        f"{COMMITMENTS}{pk}/",
        f"{AGREEMENTS}{agreement.pk}/",
    ):
        assert editor_client.get(url).status_code == 200, url


def test_fulfilling_an_anchor_whose_dependent_would_fall_out_of_range_names_the_dependent(
    editor_api, make_commitment, source
):
    """The error is on the date the request sent and names the commitment that would break."""
    anchor = make_commitment(key="anchor")
    # 175 years after a fulfilment in 2026 is after the last day a date may hold (a
    # fulfilment cannot be dated in the future, so the offset makes the overflow).
    make_commitment(key="dependent", offset_amount=175, offset_unit="years",
                    anchor_kind="commitment", anchor_commitment=anchor)
    before = counts()
    response = editor_api.post(
        f"{COMMITMENTS}{anchor.pk}/status/",
        {"status": "fulfilled", "occurred_on": "2026-01-09",
         "evidence": {"source": source.pk, "quote": "Fait."}},
        format="json",
    )
    assert response.status_code == 400, response.content
    [message] = response.json()["occurred_on"]
    assert "'dependent'" in message and "2199-12-31" in message
    assert counts() == before
    anchor.refresh_from_db()
    assert (anchor.status, anchor.fulfilled_on) == ("not_started", None)


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (Agreement, "date", dt.date(9999, 12, 31)),
        (Source, "published_on", dt.date(1, 1, 1)),
        (Commitment, "effective_from", dt.date(2200, 1, 1)),
        (Commitment, "deadline_date", dt.date(9999, 12, 31)),
        (Commitment, "period_year", 9999),
        (ProgressUpdate, "occurred_on", dt.date(1899, 12, 31)),
    ],
)
def test_the_database_refuses_dates_out_of_range(make_commitment, source, model, field, value):
    """A write that skips validation still cannot store a date outside the range."""
    commitment = make_commitment()
    ProgressUpdate.objects.create(commitment=commitment, occurred_on=dt.date(2026, 1, 1))
    with pytest.raises(IntegrityError, match="in_range"), transaction.atomic():
        model.objects.update(**{field: value})


def test_model_validation_names_each_date_field(agreement, source, make_commitment):
    """The admin's and the dashboard's forms validate through these (``full_clean``)."""
    update = ProgressUpdate(commitment=make_commitment(), occurred_on=dt.date(2200, 1, 1))
    agreement.date = dt.date(9999, 12, 31)
    source.published_on = dt.date(1, 1, 1)
    for instance, field in ((agreement, "date"), (source, "published_on"),
                            (update, "occurred_on")):
        with pytest.raises(ValidationError) as exc:
            instance.full_clean()
        assert exc.value.message_dict[field] == ["Dates run from 1900-01-01 to 2199-12-31."]


def test_a_rule_part_stored_under_another_kind_is_kept_in_range(make_commitment):
    """A date or year the rule does not read is still checked: the constraints hold it."""
    commitment = make_commitment()
    commitment.deadline_date = dt.date(9999, 12, 31)
    commitment.period_year = 2200
    with pytest.raises(ValidationError) as exc:
        commitment.full_clean()
    assert {"deadline_date", "period_year"} <= exc.value.message_dict.keys()


# Class 9: language tags and country codes.


@pytest.mark.parametrize("value", ["NaN", "😀", "FR", "f", "fr_FR", "fr-", "x-klingon"])
def test_a_language_that_is_not_a_tag_is_refused(source, make_commitment, value):
    source.language = value
    with pytest.raises(ValidationError) as exc:
        source.full_clean()
    assert list(exc.value.message_dict) == ["language"]
    citation = Citation(source=source, commitment=make_commitment(), quote="q",
                        translation="t", translation_language=value)
    with pytest.raises(ValidationError) as exc:
        citation.full_clean()
    assert list(exc.value.message_dict) == ["translation_language"]


@pytest.mark.parametrize("value", ["fr", "en", "ja", "pt-BR", "zh-Hant", "gsw-CH"])
def test_language_tags_are_accepted(source, make_commitment, value):
    source.language = value
    source.full_clean()
    citation_make(source=source, commitment=make_commitment(), translation_language=value)


@pytest.mark.parametrize("value", ["NaN", "jp", "J", "JPN", "1A", "😀"])
def test_a_country_code_that_is_not_iso_alpha_2_is_refused(japan, value):
    japan.country_code = value
    with pytest.raises(ValidationError) as exc:
        japan.full_clean()
    assert list(exc.value.message_dict) == ["country_code"]


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (Party, "country_code", "jp"),
        (Source, "language", "NaN"),
        (Source, "language", ""),
        (Citation, "translation_language", "😀"),
    ],
)
def test_the_database_refuses_codes_that_are_not_codes(
    make_commitment, source, model, field, value
):
    citation_make(source=source, commitment=make_commitment())
    with pytest.raises(IntegrityError, match="_valid"), transaction.atomic():
        model.objects.update(**{field: value})


# Class 7: NUL characters in any text sent to the API.


NUL = "a\u0000b"


def _status(source, **overrides):
    evidence = {"source": source.pk, "quote": "Fait.", **overrides.pop("evidence", {})}
    return {"status": "fulfilled", "evidence": evidence, **overrides}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"owner": NUL}, ["owner"]),
        ({"title": NUL}, ["title"]),
        ({"key": NUL}, ["key"]),
        ({"category": NUL}, ["category"]),
        ({"beneficiaries": [NUL]}, ["beneficiaries"]),
        ({"deadline_rule": {"kind": "fixed", "date": "2026-03-31", "source_phrase": NUL}},
         ["deadline_rule", "source_phrase"]),
        ({"deadline_rule": {"kind": NUL}}, ["deadline_rule", "kind"]),
    ],
)
def test_nul_in_a_commitment_is_a_400_naming_the_field(editor_api, agreement, japan, body, path):
    """A username with a NUL reached PostgreSQL ("cannot contain NUL"): a 500."""
    before = counts()
    response = editor_api.post(COMMITMENTS, _commitment_body(agreement, japan, **body),
                               format="json")
    assert response.status_code == 400, response.content
    assert error_at(response.json(), path) == ["Null characters are not allowed."]
    assert counts() == before


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"note": NUL}, ["note"]),
        ({"occurred_on": NUL}, ["occurred_on"]),
        ({"evidence": {"source": NUL}}, ["evidence", "source"]),
        ({"evidence": {"quote": NUL}}, ["evidence", "quote"]),
        ({"evidence": {"translation": NUL}}, ["evidence", "translation"]),
        ({"evidence": {"locator": NUL}}, ["evidence", "locator"]),
    ],
)
def test_nul_in_a_status_change_is_a_400_naming_the_field(
    editor_api, make_commitment, source, overrides, path
):
    commitment = make_commitment()
    before = counts()
    response = editor_api.post(f"{COMMITMENTS}{commitment.pk}/status/",
                               _status(source, **overrides), format="json")
    assert response.status_code == 400, response.content
    assert error_at(response.json(), path) == ["Null characters are not allowed."]
    assert counts() == before


def test_nul_in_a_patch_changes_nothing(editor_api, make_commitment):
    commitment = make_commitment()
    response = editor_api.patch(f"{COMMITMENTS}{commitment.pk}/",
                                {"owner": NUL, "title": "New"}, format="json")
    assert response.status_code == 400, response.content
    assert response.json() == {"owner": ["Null characters are not allowed."]}
    commitment.refresh_from_db()
    assert commitment.title != "New"


def test_nul_is_refused_on_every_endpoint_of_every_app(viewer_api):
    """The check is the API's parser: another app's endpoint refuses it the same way."""
    response = viewer_api.post(
        "/api/v1/webhooks/",
        {"url": "https://example.org/hook", "events": ["commitment.overdue"], "description": NUL},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json() == {"description": ["Null characters are not allowed."]}
    assert not WebhookEndpoint.objects.exists()
