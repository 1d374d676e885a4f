"""Ratings through the API: ``POST``/``GET .../assessments/``, the review, the commitment's
``obligors``, ``assessments`` and ``progress``, and the rating, review-due, pace and obligor
filters of the list.

The default agreement is dated 2025-10-28 in Asia/Tokyo; its commitments are due 2026-04-26.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commitments.models import Assessment, Citation
from commitments.services import commitments as svc
from commitments.services.assessments import assessment_record, review_due_flag
from tests import factories
from tests.support.api_support import results

pytestmark = pytest.mark.django_db

LIST = "/api/v1/commitments/"


@pytest.fixture
def shared(make_commitment, usa):
    """A promise Japan and the United States made together ("the two countries will meet")."""
    return make_commitment(title="Meet within 180 days", co_obligors=[usa])


def body(party, source=None, **overrides):
    data = {
        "party": party.pk,
        "rating": "kept",
        "assessed_on": "2026-05-01",
        "justification": "Les deux pays se sont réunis le 20 avril.",
        "evidence": {"source": source.pk, "quote": "Réunion tenue.", "locator": "§ 2"}
        if source
        else None,
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def _rate(commitment, party, editor, **fields):
    data = {"rating": "in_the_works", "justification": "Talks began.", **fields}
    return assessment_record(commitment=commitment, party=party, user=editor, **data)


def test_an_editor_rates_an_obligor_and_the_commitment_shows_each_obligor(
    editor_api, editor, shared, japan, usa, source
):
    response = editor_api.post(
        f"{LIST}{shared.pk}/assessments/", body(japan, source), format="json"
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["party"], data["rating"], data["score"], data["current"]) == (
        japan.pk,
        "kept",
        1,
        True,
    )
    assert data["rating_label"] == "Kept"
    assert (data["assessed_on"], data["reviewed_on"]) == ("2026-05-01", "2026-05-01")
    assert data["evidence"]["quote"] == "Réunion tenue."
    assert data["author"] == editor.username
    stored = Assessment.objects.get()
    assert (stored.party, stored.rating, stored.author, stored.current) == (
        japan,
        "kept",
        editor,
        True,
    )
    assert stored.evidence is not None and stored.evidence.commitment_id == shared.pk

    detail = editor_api.get(f"{LIST}{shared.pk}/").json()
    assert detail["obligors"] == [japan.pk, usa.pk]
    kept, unrated = detail["assessments"]
    assert (kept["party"], kept["rating"], kept["score"], kept["id"]) == (
        japan.pk,
        "kept",
        1,
        stored.pk,
    )
    assert unrated == {
        "id": None,
        "party": usa.pk,
        "rating": "not_rated",
        "rating_label": "Not yet rated",
        "score": None,
        "justification": "",
        "justification_fr": "",
        "machine_translations": {},
        "evidence": None,
        "assessed_on": None,
        "reviewed_on": None,
        "review_due": False,
        "author": None,
    }


def test_the_labels_follow_the_request_language(editor_api, shared, japan):
    _rate(shared, japan, None, rating="stalled")
    detail = editor_api.get(f"{LIST}{shared.pk}/", HTTP_ACCEPT_LANGUAGE="fr").json()
    labels = [a["rating_label"] for a in detail["assessments"]]
    assert labels == ["Au point mort", "Pas encore évalué"]


def test_the_history_lists_every_rating_newest_first_and_readers_may_read_it(
    viewer_api, editor, shared, japan, usa, source
):
    first = _rate(shared, japan, editor, assessed_on=dt.date(2025, 11, 1))
    second = _rate(
        shared,
        japan,
        editor,
        rating="kept",
        assessed_on=dt.date(2026, 5, 1),
        evidence_source=source,
        evidence_quote="Réunion tenue.",
    )
    other = _rate(shared, usa, None, assessed_on=dt.date(2026, 1, 10))

    rows = results(viewer_api.get(f"{LIST}{shared.pk}/assessments/"))

    assert [row["id"] for row in rows] == [second.pk, other.pk, first.pk]
    assert [row["current"] for row in rows] == [True, True, False]
    assert rows[2]["rating"] == "in_the_works" and rows[2]["evidence"] is None


def test_a_viewer_cannot_rate(viewer_api, shared, japan, source):
    url = f"{LIST}{shared.pk}/assessments/"
    response = viewer_api.post(url, body(japan, source), format="json")
    assert response.status_code == 403
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "with_evidence", "field"),
    [
        ({"justification": ""}, True, "justification"),
        ({"justification": "   "}, True, "justification"),
        ({"rating": "kept"}, False, "evidence"),
        ({"rating": "broken"}, False, "evidence"),
        ({"rating": "compromise"}, False, "evidence"),
        ({"assessed_on": "2099-01-01"}, True, "assessed_on"),
        ({"assessed_on": "2025-10-27"}, True, "assessed_on"),
        ({"assessed_on": "1 May 2026"}, True, "assessed_on"),
        ({"rating": "not_rated"}, True, "rating"),
        ({"rating": "excellent"}, True, "rating"),
        ({"justification": ["a list"]}, True, "justification"),
        ({"surprise": 1}, True, "surprise"),
    ],
)
def test_a_bad_rating_names_its_field_and_writes_nothing(
    editor_api, shared, japan, source, overrides, with_evidence, field
):
    citations = Citation.objects.count()
    response = editor_api.post(
        f"{LIST}{shared.pk}/assessments/",
        body(japan, source if with_evidence else None, **overrides),
        format="json",
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Assessment.objects.exists()
    assert Citation.objects.count() == citations


def test_a_party_that_is_not_an_obligor_cannot_be_rated(editor_api, make_commitment, usa, source):
    commitment = make_commitment()  # Japan alone
    korea = factories.party_make(key="korea", name="Korea")
    for party in (usa, korea):
        response = editor_api.post(
            f"{LIST}{commitment.pk}/assessments/", body(party, source), format="json"
        )
        assert response.status_code == 400
        assert response.json()["party"] == ["That party is not an obligor of this commitment."]
    missing = editor_api.post(
        f"{LIST}{commitment.pk}/assessments/", {**body(usa, source), "party": 0}, format="json"
    )
    assert "party" in missing.json()
    assert not Assessment.objects.exists()


def test_half_an_evidence_names_the_missing_part(editor_api, shared, japan, source):
    response = editor_api.post(
        f"{LIST}{shared.pk}/assessments/",
        {**body(japan), "evidence": {"source": source.pk, "quote": ""}},
        format="json",
    )
    assert response.status_code == 400
    assert "quote" in response.json()["evidence"]
    assert not Assessment.objects.exists()


def test_an_editor_confirms_a_rating_still_holds(editor_api, editor, shared, japan):
    rating = _rate(shared, japan, editor, assessed_on=dt.date(2025, 11, 1))
    Assessment.objects.filter(pk=rating.pk).update(review_due=True)
    url = f"{LIST}{shared.pk}/assessments/{rating.pk}/review/"

    response = editor_api.post(url, {"reviewed_on": "2026-12-01"}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["reviewed_on"], response.json()["review_due"]) == ("2026-12-01", False)
    rating.refresh_from_db()
    assert (rating.reviewed_on, rating.review_due) == (dt.date(2026, 12, 1), False)
    assert rating.history.count() == 2


def test_a_bad_review_names_its_reason_and_changes_nothing(
    editor_api, viewer_api, editor, shared, make_commitment, japan
):
    old = _rate(shared, japan, editor, assessed_on=dt.date(2025, 11, 1))
    _rate(shared, japan, editor, rating="stalled", assessed_on=dt.date(2026, 6, 1))
    base = f"{LIST}{shared.pk}/assessments/"

    replaced = editor_api.post(f"{base}{old.pk}/review/", {}, format="json")
    assert replaced.status_code == 400
    assert "Only the current rating can be reviewed" in str(replaced.json())
    current = Assessment.objects.get(current=True)
    future = editor_api.post(
        f"{base}{current.pk}/review/", {"reviewed_on": "2099-01-01"}, format="json"
    )
    assert "reviewed_on" in future.json()
    garbled = editor_api.post(f"{base}{current.pk}/review/", {"reviewed_on": "soon"}, format="json")
    assert "reviewed_on" in garbled.json()
    other = make_commitment()
    assert editor_api.post(f"{LIST}{other.pk}/assessments/{current.pk}/review/").status_code == 404
    assert viewer_api.post(f"{base}{current.pk}/review/", {}, format="json").status_code == 403
    current.refresh_from_db()
    old.refresh_from_db()
    assert (current.reviewed_on, old.reviewed_on) == (dt.date(2026, 6, 1), dt.date(2025, 11, 1))


# The list's filters ---------------------------------------------------------------------------


def _ids(client, **params):
    return {row["id"] for row in results(client.get(LIST, {"page_size": 100, **params}))}


def test_the_rating_filter_matches_any_obligor_and_not_rated_matches_a_missing_one(
    viewer_api, editor, make_commitment, shared, japan, usa, source
):
    alone = make_commitment()
    nobody = make_commitment()
    _rate(shared, japan, editor, rating="kept", evidence_source=source, evidence_quote="Tenu.")
    _rate(alone, japan, editor, rating="stalled")

    assert _ids(viewer_api, rating="kept") == {shared.pk}
    assert _ids(viewer_api, rating="stalled") == {alone.pk}
    assert _ids(viewer_api, rating=["kept", "stalled"]) == {shared.pk, alone.pk}
    # The United States has not rated the shared promise; nobody has rated the last one.
    assert _ids(viewer_api, rating="not_rated") == {shared.pk, nobody.pk}
    _rate(shared, usa, editor, rating="stalled")
    assert _ids(viewer_api, rating="not_rated") == {nobody.pk}
    assert _ids(viewer_api, rating="stalled") == {shared.pk, alone.pk}
    bad = viewer_api.get(LIST, {"rating": "great"})
    assert bad.status_code == 400 and "rating" in bad.json()


def test_the_obligor_filter_covers_co_obligors(viewer_api, make_commitment, shared, japan, usa):
    alone = make_commitment()
    american = make_commitment(obligor=usa)
    assert _ids(viewer_api, obligor=usa.pk) == {shared.pk, american.pk}
    assert _ids(viewer_api, obligor=japan.pk) == {shared.pk, alone.pk}


def test_the_review_due_filter_follows_the_scan_at_its_boundary(
    viewer_api, editor, make_commitment, shared, japan, settings
):
    settings.TRACKER_REVIEW_AFTER_DAYS = 180
    fresh = make_commitment()
    _rate(shared, japan, editor, assessed_on=dt.date(2026, 1, 1))
    _rate(fresh, japan, editor, assessed_on=dt.date(2026, 6, 1))

    # 180 days after 1 January is 30 June: due from the day after.
    review_due_flag(now=dt.datetime(2026, 6, 30, 3, tzinfo=dt.UTC))
    assert _ids(viewer_api, review_due="true") == set()
    review_due_flag(now=dt.datetime(2026, 7, 1, 3, tzinfo=dt.UTC))
    assert _ids(viewer_api, review_due="true") == {shared.pk}
    assert shared.pk not in _ids(viewer_api, review_due="false")
    assert fresh.pk in _ids(viewer_api, review_due="false")


@pytest.fixture
def measured(make_commitment, editor):
    """$50 of $100 from 28 October 2025 to 28 October 2026 (365 days): ahead before 11 April
    2026 (the line reaches 45 % that day), behind after 16 May (55 %), Tokyo dates."""
    commitment = make_commitment(
        title="Buy 100",
        target_amount=Decimal(100),
        target_unit="USD",
        deadline_kind="fixed",
        deadline_date=dt.date(2026, 10, 28),
        offset_amount=None,
        offset_unit="",
        anchor_kind="",
    )
    svc.commitment_change_status(
        commitment=commitment,
        status="in_progress",
        user=editor,
        occurred_on=dt.date(2025, 12, 1),
        measured_value=Decimal(50),
    )
    return commitment


@pytest.mark.parametrize(
    ("instant", "pace"),
    [
        ("2026-04-10T12:00:00+09:00", "ahead"),
        # 16:00 UTC on 10 April is already 11 April in Tokyo.
        ("2026-04-10T16:00:00+00:00", "on_pace"),
        ("2026-05-16T23:59:00+09:00", "on_pace"),
        ("2026-05-17T00:00:00+09:00", "behind"),
    ],
)
def test_the_pace_filter_and_the_progress_agree_at_the_boundaries(
    viewer_api, measured, make_commitment, instant, pace
):
    make_commitment()  # no target: never matched
    viewer_api.get(LIST)  # the token's last use is written once, before travelling
    with time_machine.travel(dt.datetime.fromisoformat(instant), tick=False):
        for candidate in ("ahead", "on_pace", "behind", "met"):
            expected = {measured.pk} if candidate == pace else set()
            assert _ids(viewer_api, pace=candidate) == expected, candidate
        progress = viewer_api.get(f"{LIST}{measured.pk}/").json()["progress"]
    assert progress["pace"] == pace
    assert (progress["measured"], progress["target"], progress["unit"]) == (
        "50.0000",
        "100.0000",
        "USD",
    )
    assert (progress["share_of_target"], progress["measured_on"]) == ("0.5000", "2025-12-01")


def test_a_commitment_without_a_measurement_has_no_progress(viewer_api, make_commitment):
    commitment = make_commitment(target_amount=Decimal(10), target_unit="USD")
    assert viewer_api.get(f"{LIST}{commitment.pk}/").json()["progress"] is None


def test_a_met_target_reads_met(viewer_api, measured, editor):
    svc.commitment_change_status(
        commitment=measured, status="in_progress", user=editor, measured_value=Decimal(120)
    )
    assert _ids(viewer_api, pace="met") == {measured.pk}
    progress = viewer_api.get(f"{LIST}{measured.pk}/").json()["progress"]
    assert (progress["pace"], progress["share_of_target"]) == ("met", "1.2000")


def test_the_list_costs_the_same_queries_for_3_or_30_rated_shared_rows(
    viewer_api, make_commitment, japan, usa, source, editor
):
    """Co-obligors and current ratings with evidence cost a fixed number of queries."""
    for n in range(30):
        commitment = make_commitment(
            co_obligors=[usa], target_amount=Decimal(10), target_unit="USD"
        )
        _rate(commitment, japan, editor, rating="kept", evidence_source=source,
              evidence_quote=f"Tenu {n}.")
        _rate(commitment, usa, editor)
    viewer_api.get(LIST)
    counts = []
    for size in (3, 30):
        with CaptureQueriesContext(connection) as captured:
            params = {"page_size": size, "rating": "kept", "obligor": usa.pk, "review_due": "false"}
            rows = results(viewer_api.get(LIST, params))
        assert len(rows) == size
        assert all(row["assessments"][0]["evidence"] for row in rows)
        counts.append(len(captured))
    assert counts[0] == counts[1]
