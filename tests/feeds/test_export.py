"""CSV export of the commitment list: same filters and rights as the list, streamed."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from api.services import api_token_create
from commitments.choices import Category, Status
from commitments.models import Commitment
from commitments.services import commitments as svc
from feeds import export

pytestmark = pytest.mark.django_db

EXPORT_URL = "/api/v1/commitments/export.csv"


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def utc_iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def test_the_url_is_the_one_documented():
    assert reverse("api:feeds:commitment-export") == EXPORT_URL


def test_the_header_and_a_row_have_the_stable_columns(viewer_client, make_commitment, japan):
    """A spreadsheet gets keys, ISO dates and UTC instants in the documented column order."""
    commitment = make_commitment(
        title="Investment of 550 billion",
        category=Category.INVESTMENT,
        target_amount=Decimal("550000000000"),
        target_unit="USD",
        deadline_phrase="within 180 days",
    )
    commitment.refresh_from_db()  # the deadline scan has flagged it on creation
    assert commitment.flagged_at is not None

    response = viewer_client.get(EXPORT_URL)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="commitments-')
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0] == ",".join(export.COLUMNS)
    [row] = csv.DictReader(io.StringIO(body))
    assert row == {
        "id": str(commitment.pk),
        "key": commitment.key,
        "agreement": "summit-2025-10-28",
        "title": "Investment of 550 billion",
        "obligor": "japan",
        "co_obligors": "",
        "category": "investment",
        "target_amount": "550000000000.0000",
        "target_unit": "USD",
        "effective_from": "",
        "deadline_kind": "relative",
        "deadline_phrase": "within 180 days",
        "due_date": "2026-04-26",
        "due_at": "2026-04-26T14:59:59.999999Z",
        "status": "not_started",
        "deadline_state": commitment.deadline_state,
        "flagged_at": utc_iso(commitment.flagged_at),
        "updated": utc_iso(commitment.updated),
        "title_fr": "",
    }


def test_the_lists_filters_and_ordering_apply(viewer_client, make_commitment, usa):
    tariff = make_commitment(title="Tariff cut to 15 %", category=Category.TARIFF, obligor=usa)
    make_commitment(title="Meeting", category=Category.MEETING)
    early_tariff = make_commitment(
        title="Early tariff step", category=Category.TARIFF, obligor=usa, offset_amount=30
    )

    by_category = rows_of(viewer_client.get(EXPORT_URL, {"category": "tariff"}))
    assert [row["id"] for row in by_category] == [str(early_tariff.pk), str(tariff.pk)]

    by_title = rows_of(
        viewer_client.get(EXPORT_URL, {"category": "tariff", "ordering": "-title"})
    )
    assert [row["title"] for row in by_title] == ["Tariff cut to 15 %", "Early tariff step"]

    searched = rows_of(viewer_client.get(EXPORT_URL, {"q": "15 %", "obligor": usa.pk}))
    assert [row["id"] for row in searched] == [str(tariff.pk)]


def test_a_status_filter_matches_the_recorded_status(viewer_client, make_commitment):
    make_commitment()
    cancelled = make_commitment()
    svc.commitment_change_status(commitment=cancelled, status=Status.CANCELLED, note="Dropped")

    rows = rows_of(viewer_client.get(EXPORT_URL, {"status": "cancelled"}))

    assert [row["id"] for row in rows] == [str(cancelled.pk)]
    assert rows[0]["status"] == "cancelled"


def test_a_bad_filter_is_a_json_400_naming_it(viewer_client, make_commitment):
    make_commitment()

    answer = viewer_client.get(EXPORT_URL, {"status": "done", "due_before": "tomorrow"})

    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    assert set(answer.json()) == {"status", "due_before"}


def test_a_viewer_exports_with_an_api_token(client, viewer, make_commitment):
    make_commitment()
    _token, key = api_token_create(user=viewer, name="sheet", now=timezone.now())

    rows = rows_of(client.get(EXPORT_URL, headers={"Authorization": f"Token {key}"}))

    assert len(rows) == 1


def test_anonymous_callers_get_401(client, make_commitment):
    make_commitment()
    answer = client.get(EXPORT_URL)
    assert answer.status_code == 401
    assert answer["Content-Type"] == "application/json"


def test_a_user_without_a_role_gets_403(client, django_user_model, make_commitment):
    make_commitment()
    client.force_login(django_user_model.objects.create_user(username="nobody", password="pw-x"))
    assert client.get(EXPORT_URL).status_code == 403


def test_an_accept_header_does_not_stop_the_export(viewer_client, make_commitment):
    make_commitment()
    assert len(rows_of(viewer_client.get(EXPORT_URL, headers={"Accept": "text/csv"}))) == 1


@pytest.mark.parametrize(
    "title",
    ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-2+3", "@SUM(A1:A2)", "\tTabbed"],
)
def test_text_a_spreadsheet_would_run_is_defused(viewer_client, make_commitment, title):
    """Cells starting with = + - @ (or a tab) get a leading quote; the text stays whole."""
    make_commitment(title=title)

    [row] = rows_of(viewer_client.get(EXPORT_URL))

    assert row["title"] == "'" + title


def test_ordinary_text_and_numbers_are_left_alone(viewer_client, make_commitment):
    make_commitment(title="Défense: 2 % du PIB, d'ici mars", target_amount=Decimal(2),
                    target_unit="percent_gdp")
    [row] = rows_of(viewer_client.get(EXPORT_URL))
    assert row["title"] == "Défense: 2 % du PIB, d'ici mars"
    assert row["target_amount"] == "2.0000"


def test_two_thousand_rows_stream_in_chunks_from_a_chunked_cursor(
    viewer_client, make_commitment, monkeypatch
):
    """Rows are read as the body is sent: memory holds a chunk, never the whole list."""
    template = make_commitment()
    fields = {
        f.attname: getattr(template, f.attname)
        for f in Commitment._meta.concrete_fields
        if not f.primary_key and f.attname != "key"
    }
    Commitment.objects.bulk_create(
        [Commitment(**fields, key=f"bulk-{n}") for n in range(1999)], batch_size=500
    )
    pulled: list[tuple] = []
    chunk_sizes: list[int | None] = []
    real_iterator = QuerySet.iterator

    def counting_iterator(self, chunk_size=None):
        chunk_sizes.append(chunk_size)
        for row in real_iterator(self, chunk_size=chunk_size):
            pulled.append(row)
            yield row

    monkeypatch.setattr(QuerySet, "iterator", counting_iterator)

    response = viewer_client.get(EXPORT_URL)

    assert response.streaming
    assert pulled == []  # nothing read before the body is consumed
    chunks = iter(response.streaming_content)
    header = next(chunks).decode()
    assert header.startswith("id,key,agreement,")
    first = next(chunks).decode()
    assert first.count("\n") == 500
    assert len(pulled) == 500
    rest = [chunk.decode() for chunk in chunks]
    assert all(chunk.count("\n") <= 500 for chunk in rest)
    assert 500 + sum(chunk.count("\n") for chunk in rest) == 2000
    assert len(pulled) == 2000
    assert chunk_sizes == [export.CHUNK_SIZE]


def test_a_shared_commitment_lists_its_other_obligors(viewer_client, make_commitment, usa):
    """The other obligors are given by their keys, separated by ";" as in the admin's CSV."""
    from commitments.services.commitments import commitment_update
    from tests.factories import party_make

    shared = make_commitment(title="Meet within 180 days")
    commitment_update(commitment=shared, co_obligors=[usa, party_make(key="nato", name="NATO")])
    make_commitment(title="Alone")

    rows = {row["title"]: row for row in rows_of(viewer_client.get(EXPORT_URL))}

    assert rows["Meet within 180 days"]["obligor"] == "japan"
    assert rows["Meet within 180 days"]["co_obligors"] == "nato;united-states"
    assert rows["Alone"]["co_obligors"] == ""


def test_the_title_stays_english_and_the_french_one_has_its_own_column(
    viewer_client, make_commitment
):
    """A file for machines: the same columns whatever language the page that asked was in."""
    make_commitment(title="Hold the ministerial", title_fr="Tenir la réunion ministérielle")
    make_commitment(title="Cut tariffs")

    response = viewer_client.get(EXPORT_URL, HTTP_ACCEPT_LANGUAGE="fr")

    rows = {row["title"]: row for row in rows_of(response)}
    assert rows["Hold the ministerial"]["title_fr"] == "Tenir la réunion ministérielle"
    assert rows["Cut tariffs"]["title_fr"] == ""
    assert export.COLUMNS[-1] == "title_fr"
