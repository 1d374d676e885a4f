"""The commitments endpoint: contract, filters, paging, conditional GET, writes and bad input."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commitments.choices import Category, DeadlineState, Status
from commitments.models import Citation, Commitment, ProgressUpdate
from tests.factories import citation_make
from tests.support.api_support import results

pytestmark = pytest.mark.django_db

LIST = "/api/v1/commitments/"


def _payload(agreement, japan, **overrides):
    data = {
        "key": "minerals-ministerial",
        "agreement": agreement.pk,
        "title": "Critical-minerals ministerial",
        "category": Category.MEETING,
        "obligor": japan.pk,
        "deadline_rule": {
            "kind": "relative",
            "offset_amount": 180,
            "offset_unit": "days",
            "anchor_kind": "agreement",
            "source_phrase": "within 180 days",
        },
    }
    data.update(overrides)
    return data


def test_detail_has_the_documented_fields(viewer_api, make_commitment, usa, source):
    """A commitment shows its rule as an object, its computed deadline and its citations."""
    commitment = make_commitment(deadline_phrase="dans un délai de 180 jours")
    commitment.beneficiaries.set([usa])
    citation_make(source=source, commitment=commitment, quote="dans les 180 jours")

    body = viewer_api.get(f"{LIST}{commitment.pk}/").json()

    assert body["id"] == commitment.pk
    assert body["url"].endswith(f"{LIST}{commitment.pk}/")
    assert body["deadline_rule"]["kind"] == "relative"
    assert body["deadline_rule"]["offset_amount"] == 180
    assert body["deadline_rule"]["anchor_kind"] == "agreement"
    assert body["deadline_rule"]["source_phrase"] == "dans un délai de 180 jours"
    assert body["due_date"] == "2026-04-26"
    assert body["due_at"] == "2026-04-26T14:59:59.999999Z"
    assert body["status"] == Status.NOT_STARTED
    assert body["deadline_state"] in DeadlineState.values
    assert body["beneficiaries"] == [usa.pk]
    assert body["citations"][0]["quote"] == "dans les 180 jours"
    assert body["citations"][0]["source"] == source.pk
    assert body["progress_updates"] == []
    for name in ("agreement", "title", "description", "category", "obligor", "target_amount",
                 "target_unit", "effective_from", "flagged_at", "owner", "created", "updated"):
        assert name in body


def test_filters_narrow_the_list(viewer_api, make_commitment, agreement):
    early = make_commitment(offset_amount=10, category=Category.TARIFF, title="Tariff cut")
    late = make_commitment(offset_amount=300)
    Commitment.objects.filter(pk=early.pk).update(deadline_state=DeadlineState.ON_TRACK)
    Commitment.objects.filter(pk=late.pk).update(deadline_state=DeadlineState.OVERDUE)

    def keys(**params):
        return [row["key"] for row in results(viewer_api.get(LIST, params))]

    assert keys(category="tariff") == [early.key]
    assert keys(deadline_state="overdue") == [late.key]
    assert keys(due_before="2025-12-01") == [early.key]
    assert keys(due_after="2025-12-01") == [late.key]
    assert keys(q="tariff") == [early.key]
    assert keys(q=agreement.title[:8]) == [early.key, late.key]
    assert keys(agreement=agreement.pk, ordering="-due_date") == [late.key, early.key]
    assert keys(status="not_started", obligor=early.obligor_id) == [early.key, late.key]


def test_ordering_breaks_ties_on_id(viewer_api, make_commitment):
    made = [make_commitment() for _ in range(5)]  # the same due date for all
    rows = results(viewer_api.get(LIST, {"ordering": "due_date", "page_size": 2}))
    assert [row["id"] for row in rows] == [c.pk for c in made[:2]]
    rows = results(viewer_api.get(LIST, {"ordering": "-due_date", "page_size": 5}))
    assert [row["id"] for row in rows] == [c.pk for c in made]


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"status": "done"}, "status", "not one of the available choices"),
        ({"deadline_state": "late"}, "deadline_state", "not one of the available choices"),
        ({"category": "bribes"}, "category", "not one of the available choices"),
        ({"agreement": "999999"}, "agreement", "not one of the available choices"),
        ({"obligor": "japan"}, "obligor", "valid choice"),
        ({"due_before": "next tuesday"}, "due_before", "valid date"),
        ({"due_after": "2025-13-45"}, "due_after", "valid date"),
        ({"ordering": "password"}, "ordering", "not one of the available choices"),
    ],
)
def test_unknown_filter_values_are_a_400_naming_the_filter(
    viewer_api, make_commitment, params, field, reason
):
    make_commitment()
    response = viewer_api.get(LIST, params)
    assert response.status_code == 400
    assert reason in " ".join(response.json()[field])


def test_pages_have_count_next_previous_and_results(viewer_api, make_commitment):
    for _ in range(5):
        make_commitment()
    body = viewer_api.get(LIST, {"page_size": 2, "page": 2}).json()
    assert body["count"] == 5
    assert "page=3" in body["next"]
    assert body["previous"].endswith("page_size=2")
    assert len(body["results"]) == 2


@pytest.mark.parametrize(
    ("params", "status_code", "field"),
    [
        ({"page_size": 501}, 400, "page_size"),
        ({"page_size": 0}, 400, "page_size"),
        ({"page_size": "ten"}, 400, "page_size"),
        ({"page": 9}, 404, "detail"),
    ],
)
def test_bad_paging_is_a_4xx_with_a_reason(viewer_api, make_commitment, params, status_code,
                                           field):
    make_commitment()
    response = viewer_api.get(LIST, params)
    assert response.status_code == status_code
    assert response.json()[field]


def test_conditional_get_answers_304_until_something_changes(viewer_api, editor_api,
                                                             make_commitment):
    commitment = make_commitment()
    for url in (LIST, f"{LIST}{commitment.pk}/"):
        first = viewer_api.get(url)
        etag = first["ETag"]
        again = viewer_api.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304
        assert again.content == b""
    renamed = editor_api.patch(f"{LIST}{commitment.pk}/", {"title": "Renamed"}, format="json")
    assert renamed.status_code == 200, renamed.content
    assert Commitment.objects.get(pk=commitment.pk).title == "Renamed"
    assert viewer_api.get(LIST, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_an_editor_creates_a_commitment_with_a_computed_due_date(editor_api, editor, agreement,
                                                                 japan, usa):
    response = editor_api.post(
        LIST, _payload(agreement, japan, beneficiaries=[usa.pk], owner=editor.username),
        format="json",
    )
    assert response.status_code == 201, response.content
    commitment = Commitment.objects.get(key="minerals-ministerial")
    assert commitment.due_date == dt.date(2026, 4, 26)
    assert commitment.deadline_phrase == "within 180 days"
    assert commitment.owner == editor
    assert list(commitment.beneficiaries.all()) == [usa]
    assert commitment.history.latest().history_user == editor
    assert response.json()["due_date"] == "2026-04-26"


def test_replacing_the_rule_clears_the_old_parameters(editor_api, make_commitment):
    commitment = make_commitment()
    response = editor_api.patch(
        f"{LIST}{commitment.pk}/",
        {"deadline_rule": {"kind": "period_end", "period_unit": "month", "period_number": 3}},
        format="json",
    )
    assert response.status_code == 200, response.content
    commitment.refresh_from_db()
    assert (commitment.deadline_kind, commitment.offset_amount, commitment.anchor_kind) == (
        "period_end", None, ""
    )
    assert commitment.due_date == dt.date(2026, 3, 31)


def test_a_partial_rule_is_refused(editor_api, make_commitment):
    commitment = make_commitment()
    response = editor_api.patch(f"{LIST}{commitment.pk}/",
                                {"deadline_rule": {"offset_amount": 5}}, format="json")
    assert response.status_code == 400
    assert "replaced as a whole" in response.json()["deadline_rule"]["kind"][0]
    commitment.refresh_from_db()
    assert (commitment.deadline_kind, commitment.offset_amount) == ("relative", 180)


@pytest.mark.parametrize("field", ["status", "due_date", "deadline_state", "flagged_at", "id",
                                   "due_at", "created", "fulfilled_on"])
@pytest.mark.parametrize("method", ["put", "patch"])
def test_read_only_fields_cannot_be_written(editor_api, make_commitment, agreement, japan,
                                            field, method):
    commitment = make_commitment()
    before = Commitment.objects.values().get(pk=commitment.pk)
    values = {"status": Status.FULFILLED, "due_date": "2030-01-01", "deadline_state": "overdue",
              "flagged_at": "2030-01-01T00:00:00Z", "id": 12345, "due_at": "2030-01-01T00:00:00Z",
              "created": "2020-01-01T00:00:00Z", "fulfilled_on": "2026-01-01"}
    body = {**_payload(agreement, japan, key=commitment.key), field: values[field]}
    response = getattr(editor_api, method)(f"{LIST}{commitment.pk}/", body, format="json")
    assert response.status_code == 400
    assert response.json()[field] == ["This field is read-only."]
    assert Commitment.objects.values().get(pk=commitment.pk) == before


def test_unknown_fields_are_named_and_nothing_is_written(editor_api, agreement, japan):
    response = editor_api.post(
        LIST, _payload(agreement, japan, is_superuser=True, deadline_rule={
            "kind": "none", "secret": 1}), format="json"
    )
    assert response.status_code == 400
    assert response.json()["is_superuser"] == ["Unknown field."]
    assert not Commitment.objects.exists()


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        ({"title": ["a", "list"]}, ["title"], "Not a valid string"),
        ({"target_amount": "lots"}, ["target_amount"], "valid number"),
        ({"target_amount": "-5", "target_unit": "USD"}, ["target_amount"], "greater than or equal"),
        ({"effective_from": "1st of August"}, ["effective_from"], "Date has wrong format"),
        ({"category": "bribes"}, ["category"], "not a valid choice"),
        ({"obligor": 999999}, ["obligor"], "does not exist"),
        ({"target_amount": "5"}, ["target_unit"], "needs a unit"),
        (
            {"deadline_rule": {"kind": "relative", "offset_amount": 6, "offset_unit": "months"}},
            ["deadline_rule", "anchor_kind"],
            "needs an anchor",
        ),
        (
            {"deadline_rule": {"kind": "fixed", "date": "2025-01-01"}},
            ["deadline_rule", "date"],
            "before the agreement's date",
        ),
        (
            {"deadline_rule": {"kind": "relative", "offset_amount": 2_000_000_000,
                               "offset_unit": "years", "anchor_kind": "agreement"}},
            ["deadline_rule", "offset_amount"],
            "2199-12-31",
        ),
        *(
            (
                {"deadline_rule": {"kind": "period_end", "period_unit": "year",
                                   "period_year": year}},
                ["deadline_rule", "period_year"],
                "less than or equal to 2199",
            )
            for year in (99999, 20288, 2200)
        ),
        ({"deadline_rule": "soon"}, ["deadline_rule", "non_field_errors"], "Invalid data"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(editor_api, agreement, japan, change, path, reason):
    response = editor_api.post(LIST, _payload(agreement, japan, **change), format="json")
    assert response.status_code == 400, response.content
    detail = response.json()
    for name in path:
        detail = detail[name]
    assert reason in " ".join(detail)
    assert not Commitment.objects.exists()


def test_malformed_json_is_a_400(editor_api):
    response = editor_api.generic("POST", LIST, '{"title": ', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert not Commitment.objects.exists()


def test_a_viewer_cannot_write(viewer_api, make_commitment, agreement, japan):
    commitment = make_commitment()
    assert viewer_api.post(LIST, _payload(agreement, japan), format="json").status_code == 403
    response = viewer_api.patch(f"{LIST}{commitment.pk}/", {"title": "x"}, format="json")
    assert response.status_code == 403
    assert "viewers read" in response.json()["detail"]
    response = viewer_api.post(f"{LIST}{commitment.pk}/status/", {"status": "in_progress"},
                               format="json")
    assert response.status_code == 403
    commitment.refresh_from_db()
    assert (commitment.title, commitment.status) == ("Commitment 1", Status.NOT_STARTED)


def test_status_change_with_evidence_goes_through_the_service(editor_api, editor,
                                                              make_commitment, source):
    commitment = make_commitment()
    response = editor_api.post(
        f"{LIST}{commitment.pk}/status/",
        {
            "status": "fulfilled",
            "occurred_on": "2026-01-15",
            "note": "Held in Tokyo.",
            "measured_value": "1",
            "evidence": {"source": source.pk, "quote": "La réunion s'est tenue.",
                         "translation": "The meeting was held.", "locator": "§2"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status_from"], body["status_to"]) == ("not_started", "fulfilled")
    assert body["evidence"]["quote"] == "La réunion s'est tenue."
    assert body["author"] == editor.username
    commitment.refresh_from_db()
    assert commitment.status == Status.FULFILLED
    assert commitment.fulfilled_on == dt.date(2026, 1, 15)
    detail = editor_api.get(f"{LIST}{commitment.pk}/").json()
    assert detail["progress_updates"][0]["id"] == body["id"]


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        ({"status": "fulfilled"}, ["evidence"], "needs an evidence citation"),
        ({"status": "missed", "evidence": {"quote": "x"}}, ["evidence", "source"], "required"),
        ({"status": "finished"}, ["status"], "not a valid choice"),
        ({"status": "in_progress", "occurred_on": "2020-01-01"}, ["occurred_on"], "before"),
        ({"status": "in_progress", "occurred_on": "yesterday"}, ["occurred_on"], "wrong format"),
        ({"status": "in_progress", "author": 1}, ["author"], "Unknown field"),
    ],
)
def test_bad_status_changes_write_nothing(editor_api, make_commitment, body, path, reason):
    commitment = make_commitment()
    response = editor_api.post(f"{LIST}{commitment.pk}/status/", body, format="json")
    assert response.status_code == 400, response.content
    detail = response.json()
    for name in path:
        detail = detail[name]
    assert reason in " ".join(detail)
    assert not ProgressUpdate.objects.exists()
    assert not Citation.objects.exists()
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_STARTED


def _queries_for_a_page(client, size: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST, {"page_size": size})
    assert len(response.json()["results"]) == size
    return len(captured)


def test_a_page_of_500_costs_the_same_queries_as_a_page_of_10(
    editor_api, make_commitment, source, usa, django_assert_max_num_queries
):
    template = make_commitment()
    clones = []
    for n in range(499):
        clone = Commitment.objects.get(pk=template.pk)
        clone.pk, clone.key = None, f"clone-{n}"
        clones.append(clone)
    made = [template, *Commitment.objects.bulk_create(clones)]
    Commitment.beneficiaries.through.objects.bulk_create(
        Commitment.beneficiaries.through(commitment_id=c.pk, party_id=usa.pk) for c in made
    )
    Citation.objects.bulk_create(
        Citation(source=source, commitment=c, quote="«…»") for c in made
    )
    editor_api.get(LIST)  # the token's last_used_at is written once, on first use
    small = _queries_for_a_page(editor_api, 10)
    large = _queries_for_a_page(editor_api, 500)
    assert small == large
    with django_assert_max_num_queries(small):
        editor_api.get(LIST, {"page_size": 500})


def test_a_patch_answers_the_deadline_state_its_new_date_was_just_flagged_with(
    editor_api, make_commitment
):
    """The 200 of a PATCH shows the state the change stored, as the next GET does.

    The due date's re-evaluation flags the row in the database; the answer was built from
    the instance read before it, so moving a date into the due-soon window answered
    ``on_track`` while a GET right after said ``due_soon``.
    """
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).date()
    commitment = make_commitment(deadline_kind="fixed", deadline_date=dt.date(2030, 1, 1),
                                 offset_amount=None, offset_unit="", anchor_kind="")
    url = f"/api/v1/commitments/{commitment.pk}/"
    assert editor_api.get(url).json()["deadline_state"] == DeadlineState.ON_TRACK
    response = editor_api.patch(
        url, {"deadline_rule": {"kind": "fixed", "date": soon.isoformat()}}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["deadline_state"] == DeadlineState.DUE_SOON
    assert response.json()["flagged_at"] == editor_api.get(url).json()["flagged_at"]
    commitment.refresh_from_db()
    assert commitment.deadline_state == DeadlineState.DUE_SOON


#: The statements of a PATCH that changes a commitment's words only (SQLite: one more):
#: the token, the commitment, its foreign keys and unique key, its check constraints (one
#: statement, in a savepoint), its revisions, its save and history (the history's party
#: lists), its occurrences, and the answer (one statement).
PATCH_WORDS_BUDGET = {"postgresql": 21, "sqlite": 22}


def test_a_patch_of_its_words_only_stays_within_its_budget(editor_api, make_commitment, usa):
    """A change that moves no obligor does not re-read the ratings' parties, and the check
    constraints run as one statement compiled once: the PATCH answers within its budget."""
    commitment = make_commitment()
    url = f"{LIST}{commitment.pk}/"
    editor_api.patch(url, {"description": "First."}, format="json")  # the token's first use
    with CaptureQueriesContext(connection) as queries:
        response = editor_api.patch(url, {"description": "Second."}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["description"] == "Second."
    commitment.refresh_from_db()
    assert commitment.description == "Second."
    assert len(queries) <= PATCH_WORDS_BUDGET[connection.vendor]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_a_list_of_one_status_by_due_date_reads_its_ids_and_count_from_one_index(
    viewer_api, make_commitment
):
    """``?status=…&due_after=…&ordering=due_date`` (the load's filtered list): the page's ids
    and the count come from ``commitment_status_due`` alone, not from every row of the
    status read and filtered by date (30 ms of PostgreSQL's time a page at 100k rows)."""
    for n in range(3):
        make_commitment(key=f"due-{n}")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    with CaptureQueriesContext(connection) as queries:
        response = viewer_api.get(
            LIST, {"status": "not_started", "due_after": today, "ordering": "due_date"}
        )
    assert response.status_code == 200
    (page,) = [q["sql"] for q in queries.captured_queries if "unnest" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {page}")
        plan = json.dumps(cursor.fetchone()[0])
    assert plan.count('"Index Name": "commitment_status_due"') == 2, plan
