"""Parties, sources, agreements and progress updates: contract per role, writes and bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from commitments.models import Agreement, Party, ProgressUpdate, Source
from commitments.services import commitments as svc
from tests.support.api_support import results, token_client

pytestmark = pytest.mark.django_db


def test_parties_list_filter_and_detail(viewer_api, japan, usa):
    rows = results(viewer_api.get("/api/v1/parties/"))
    assert [row["key"] for row in rows] == ["japan", "united-states"]
    assert set(rows[0]) == {"id", "url", "key", "name", "name_fr", "machine_translations",
                            "kind", "country_code", "created", "updated"}
    assert [r["key"] for r in results(viewer_api.get("/api/v1/parties/", {"q": "united"}))] == [
        "united-states"
    ]
    assert viewer_api.get(f"/api/v1/parties/{japan.pk}/").json()["country_code"] == "JP"
    assert viewer_api.get("/api/v1/parties/", {"kind": "planet"}).status_code == 400


def test_parties_and_sources_are_read_only(editor_api, japan, source):
    before = Source.objects.values().get(pk=source.pk)
    assert editor_api.post("/api/v1/parties/", {"key": "x"}, format="json").status_code == 405
    response = editor_api.patch(f"/api/v1/sources/{source.pk}/", {"title": "x"}, format="json")
    assert response.status_code == 405
    assert list(Party.objects.values_list("key", flat=True)) == ["japan"]
    assert Source.objects.values().get(pk=source.pk) == before


def test_sources_list_and_filter(viewer_api, source):
    rows = results(viewer_api.get("/api/v1/sources/", {"language": "fr"}))
    assert rows[0]["link"] == "https://www.mofa.go.jp/"
    assert rows[0]["published_on"] == "2025-10-28"
    assert results(viewer_api.get("/api/v1/sources/", {"published_after": "2026-01-01"})) == []
    response = viewer_api.get("/api/v1/sources/", {"published_after": "soon"})
    assert response.status_code == 400
    assert "published_after" in response.json()


def test_an_editor_creates_an_agreement_through_the_service(editor_api, editor, japan, usa):
    response = editor_api.post(
        "/api/v1/agreements/",
        {"key": "nato-2025", "title": "Japan-NATO meeting", "kind": "ministerial_meeting",
         "parties": [japan.pk, usa.pk], "date": "2025-04-09", "time_zone": "Europe/Brussels"},
        format="json",
    )
    assert response.status_code == 201, response.content
    agreement = Agreement.objects.get(key="nato-2025")
    assert set(agreement.parties.all()) == {japan, usa}
    assert agreement.history.latest().history_user == editor
    assert response.json()["parties"] == [japan.pk, usa.pk]


def test_moving_an_agreement_date_recomputes_its_due_dates(editor_api, agreement,
                                                           make_commitment):
    commitment = make_commitment()
    response = editor_api.patch(f"/api/v1/agreements/{agreement.pk}/", {"date": "2025-11-28"},
                                format="json")
    assert response.status_code == 200, response.content
    commitment.refresh_from_db()
    assert commitment.due_date == dt.date(2026, 5, 27)


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "IANA"),
        ({"date": "28/10/2025"}, "date", "wrong format"),
        ({"kind": "pact"}, "kind", "not a valid choice"),
        ({"parties": [999999]}, "parties", "does not exist"),
        ({"parties": "japan"}, "parties", "Expected a list"),
        ({"created": "2020-01-01T00:00:00Z"}, "created", "read-only"),
        ({"owner": 1}, "owner", "Unknown field"),
    ],
)
def test_bad_agreement_input_is_a_400_naming_the_field(editor_api, agreement, body, field,
                                                       reason):
    before = Agreement.objects.values().get(pk=agreement.pk)
    response = editor_api.patch(f"/api/v1/agreements/{agreement.pk}/", body, format="json")
    assert response.status_code == 400, response.content
    assert reason in " ".join(response.json()[field])
    assert Agreement.objects.values().get(pk=agreement.pk) == before


def test_an_agreement_date_that_breaks_a_fixed_deadline_is_refused(editor_api, agreement,
                                                                    make_commitment):
    make_commitment(deadline_kind="fixed", deadline_date=dt.date(2025, 12, 1), offset_amount=None,
                    offset_unit="", anchor_kind="")
    response = editor_api.patch(f"/api/v1/agreements/{agreement.pk}/", {"date": "2026-01-01"},
                                format="json")
    assert response.status_code == 400
    assert "would break" in response.json()["date"][0]
    agreement.refresh_from_db()
    assert agreement.date == dt.date(2025, 10, 28)


def test_a_duplicate_key_is_a_400(editor_api, agreement):
    before = Agreement.objects.values().get(pk=agreement.pk)
    response = editor_api.post(
        "/api/v1/agreements/",
        {"key": agreement.key, "title": "Again", "kind": "framework", "date": "2025-10-28"},
        format="json",
    )
    assert response.status_code == 400
    assert "already exists" in response.json()["key"][0]
    assert list(Agreement.objects.values()) == [before]


def test_a_viewer_cannot_create_an_agreement(viewer_api):
    response = viewer_api.post(
        "/api/v1/agreements/",
        {"key": "k", "title": "t", "kind": "framework", "date": "2025-10-28"},
        format="json",
    )
    assert response.status_code == 403
    assert not Agreement.objects.filter(key="k").exists()


def test_progress_updates_list_filter_and_detail(viewer_api, editor, make_commitment, source):
    first, second = make_commitment(), make_commitment()
    svc.commitment_change_status(commitment=first, status="in_progress", user=editor,
                                 occurred_on=dt.date(2025, 11, 1), note="Talks began.")
    svc.commitment_change_status(commitment=second, status="missed", user=editor,
                                 occurred_on=dt.date(2026, 5, 1), evidence_source=source,
                                 evidence_quote="Aucune réunion.")
    rows = results(viewer_api.get("/api/v1/progress-updates/"))
    assert [row["commitment"] for row in rows] == [second.pk, first.pk]
    assert rows[0]["evidence"]["quote"] == "Aucune réunion."
    rows = results(viewer_api.get("/api/v1/progress-updates/", {"commitment": first.pk}))
    assert [(row["status_to"], row["note"]) for row in rows] == [("in_progress", "Talks began.")]
    update = ProgressUpdate.objects.get(commitment=first)
    body = viewer_api.get(f"/api/v1/progress-updates/{update.pk}/").json()
    assert body["author"] == editor.username
    response = token_client(editor).post("/api/v1/progress-updates/", {}, format="json")
    assert response.status_code == 405
