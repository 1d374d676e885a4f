"""The API and publishing: the agreement's state in its representation, the publication
action, and what an anonymous caller reads with ``API_PUBLIC_READ`` on: only public rows."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from commitments.choices import PublicationState
from commitments.models import Agreement, PublicationEvent
from commitments.services.commitments import commitment_change_status
from commitments.services.publishing import publication_change
from commitments.services.reports import report_freeze
from tests import factories
from tests.support.api_support import results
from tests.support.assessment_history import rating_history

pytestmark = pytest.mark.django_db


def _url(agreement: Agreement, tail: str = "") -> str:
    return f"/api/v1/agreements/{agreement.pk}/{tail}"


# The publication action -----------------------------------------------------------------


def test_the_representation_carries_the_state_read_only(editor_api, agreement):
    body = editor_api.get(_url(agreement)).json()
    assert (body["publication_state"], body["published_at"]) == ("draft", None)
    refused = editor_api.patch(_url(agreement), {"publication_state": "published"}, format="json")
    assert refused.status_code == 400
    assert "publication_state" in refused.json()
    assert Agreement.objects.get(pk=agreement.pk).publication_state == PublicationState.DRAFT


def test_an_editor_publishes_and_gets_the_agreement_back(editor_api, editor, agreement):
    response = editor_api.post(_url(agreement, "publication/"),
                               {"action": "publish", "note": "Checked twice"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["publication_state"] == "published" and body["published_at"]
    event = PublicationEvent.objects.get(agreement=agreement)
    assert (event.action, event.note, event.user) == ("publish", "Checked twice", editor)


@pytest.mark.parametrize(
    ("data", "field"),
    [({"action": "launch"}, "action"), ({}, "action"), ({"action": "unpublish"}, "action"),
     ({"action": "submit", "note": "x" * 2001}, "note"),
     ({"action": "submit", "extra": 1}, "extra"),
     ({"action": "submit", "note": "a\x00b"}, "note")],
)
def test_a_refused_step_is_a_400_naming_the_field(editor_api, agreement, data, field):
    response = editor_api.post(_url(agreement, "publication/"), data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Agreement.objects.get(pk=agreement.pk).publication_state == PublicationState.DRAFT
    assert not PublicationEvent.objects.exists()


def test_unpublishing_needs_a_note(editor_api, editor, agreement):
    publication_change(agreement=agreement, action="publish", user=editor)
    response = editor_api.post(_url(agreement, "publication/"), {"action": "unpublish"},
                               format="json")
    assert response.status_code == 400
    assert "note" in response.json()
    assert Agreement.objects.get(pk=agreement.pk).publication_state == PublicationState.PUBLISHED


@override_settings(TRACKER_PUBLISH_REVIEW_REQUIRED=True)
def test_the_submitter_cannot_publish_where_review_is_required(editor_api, editor, agreement):
    publication_change(agreement=agreement, action="submit", user=editor)
    response = editor_api.post(_url(agreement, "publication/"), {"action": "publish"},
                               format="json")
    assert response.status_code == 400
    assert "second reviewer" in response.json()["action"][0]
    assert Agreement.objects.get(pk=agreement.pk).publication_state == PublicationState.REVIEW


def test_a_reader_gets_a_403(viewer_api, agreement):
    response = viewer_api.post(_url(agreement, "publication/"), {"action": "submit"},
                               format="json")
    assert response.status_code == 403
    assert not PublicationEvent.objects.exists()


def test_anonymous_callers_take_no_step(agreement):
    with override_settings(API_PUBLIC_READ=True):
        response = APIClient().post(_url(agreement, "publication/"), {"action": "submit"},
                                    format="json")
    assert response.status_code == 401
    assert not PublicationEvent.objects.exists()


def test_the_action_is_in_the_schema(viewer_api):
    schema = viewer_api.get("/api/v1/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/agreements/{id}/publication/"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.split("/")[-1].startswith("PublicationChange")
    assert "publication_state" in schema["components"]["schemas"]["Agreement"]["properties"]


# Anonymous public read ------------------------------------------------------------------


@pytest.fixture
def world(agreement, japan, usa, source, editor):
    """A published agreement with ratings and a report, and a draft with its own commitment,
    party, source, progress update and report: the draft's keys and titles are its marks."""
    history = rating_history(agreement=agreement, japan=japan, usa=usa, source=source, user=editor)
    report_freeze(agreement=agreement, title="Public report", cutoff=dt.date(2026, 3, 31),
                  user=editor)
    publication_change(agreement=agreement, action="publish", user=editor)

    secret_party = factories.party_make(key="secretland", name="Secretland")
    draft = factories.agreement_make(parties=[secret_party], key="draft-deal",
                                     title="Draftdeal pact")
    draft_commitment = factories.commitment_make(
        agreement=draft, obligor=secret_party, key="hidden-promise", title="Hiddenpromise build"
    )
    secret_source = factories.source_make(key="secret-memo", title="Secretmemo leak")
    factories.citation_make(source=secret_source, commitment=draft_commitment)
    update = commitment_change_status(commitment=draft_commitment, status="in_progress",
                                      user=editor, note="Hiddennote progress")
    draft_report = report_freeze(agreement=draft, title="Draftreport", cutoff=dt.date(2026, 3, 31),
                                 user=editor)
    return {
        "public": agreement,
        "public_commitment": history["meeting"],
        "draft": draft,
        "draft_commitment": draft_commitment,
        "secret_party": secret_party,
        "secret_source": secret_source,
        "draft_update": update,
        "draft_report": draft_report,
    }


MARKS = ("draft-deal", "Draftdeal", "hidden-promise", "Hiddenpromise", "secretland",
         "Secretland", "secret-memo", "Secretmemo", "Hiddennote", "Draftreport")


def _walk(client: APIClient, world: dict) -> dict[str, Any]:
    """GET every list and the public rows' details; return each answer by path."""
    public, meeting = world["public"], world["public_commitment"]
    report = public.reports.get()
    paths = [
        "/api/v1/agreements/", _url(public), "/api/v1/commitments/",
        f"/api/v1/commitments/{meeting.pk}/", f"/api/v1/commitments/{meeting.pk}/assessments/",
        f"/api/v1/commitments/{meeting.pk}/occurrences/", "/api/v1/parties/", "/api/v1/sources/",
        "/api/v1/progress-updates/", _url(public, "compliance/"), _url(public, "reports/"),
        _url(public, f"reports/{report.pk}/"), _url(public, f"reports/{report.pk}/csv/"),
        "/api/v1/commitments/export.csv",
    ]
    answers = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.content[:300])
        answers[path] = response
    return answers


def _body(response) -> str:
    if response.get("Content-Type", "").startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8-sig")


@override_settings(API_PUBLIC_READ=True)
def test_an_anonymous_caller_never_sees_a_draft(world):
    client = APIClient()
    draft, commitment = world["draft"], world["draft_commitment"]
    for path, response in _walk(client, world).items():
        body = _body(response)
        for mark in MARKS:
            assert mark not in body, (path, mark)
        assert f"/agreements/{draft.pk}/" not in body, path
        assert f"/commitments/{commitment.pk}/" not in body, path

    assert {row["id"] for row in results(client.get("/api/v1/agreements/"))} == {
        world["public"].pk}
    commitment_ids = {row["id"] for row in results(client.get("/api/v1/commitments/"))}
    assert commitment.pk not in commitment_ids and world["public_commitment"].pk in commitment_ids
    agreements_of_updates = {
        row["commitment"] for row in results(client.get("/api/v1/progress-updates/"))}
    assert commitment.pk not in agreements_of_updates


@override_settings(API_PUBLIC_READ=True)
def test_a_drafts_details_are_404_to_an_anonymous_caller(world):
    client = APIClient()
    draft, commitment = world["draft"], world["draft_commitment"]
    report = world["draft_report"]
    for path in (
        _url(draft), _url(draft, "compliance/"), _url(draft, "reports/"),
        _url(draft, f"reports/{report.pk}/"), _url(draft, f"reports/{report.pk}/pdf/"),
        f"/api/v1/commitments/{commitment.pk}/",
        f"/api/v1/commitments/{commitment.pk}/assessments/",
        f"/api/v1/parties/{world['secret_party'].pk}/",
        f"/api/v1/sources/{world['secret_source'].pk}/",
        f"/api/v1/progress-updates/{world['draft_update'].pk}/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Draftdeal" not in response.content.decode("utf-8", "replace"), path


@override_settings(API_PUBLIC_READ=True)
def test_unpublishing_takes_the_rows_off_the_anonymous_read(world, editor):
    client = APIClient()
    public = world["public"]
    assert client.get(_url(public)).status_code == 200
    publication_change(agreement=public, action="unpublish", user=editor, note="Embargo")
    assert client.get(_url(public)).status_code == 404
    assert results(client.get("/api/v1/commitments/")) == []


def test_a_signed_in_reader_sees_drafts_as_before(world, viewer_api):
    keys = {row["key"] for row in results(viewer_api.get("/api/v1/agreements/"))}
    assert keys == {world["public"].key, "draft-deal"}
    assert viewer_api.get(_url(world["draft"])).status_code == 200
    commitment = world["draft_commitment"]
    assert viewer_api.get(f"/api/v1/commitments/{commitment.pk}/").status_code == 200


@override_settings(API_PUBLIC_READ=True)
def test_a_filter_naming_a_draft_answers_as_for_an_id_that_does_not_exist(world):
    client = APIClient()
    missing = Agreement.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    for path, name, draft_id in (
        ("/api/v1/commitments/", "agreement", world["draft"].pk),
        ("/api/v1/commitments/", "obligor", world["secret_party"].pk),
        ("/api/v1/agreements/", "party", world["secret_party"].pk),
        ("/api/v1/progress-updates/", "commitment", world["draft_commitment"].pk),
    ):
        to_draft = client.get(path, {name: draft_id})
        to_nothing = client.get(path, {name: missing})
        assert to_draft.status_code == to_nothing.status_code == 400, (path, name)
        assert list(to_draft.json()) == list(to_nothing.json()) == [name]
    public = client.get("/api/v1/commitments/", {"agreement": world["public"].pk})
    assert public.status_code == 200 and results(public)
