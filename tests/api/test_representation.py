"""The API's reads give exactly what DRF's generic read of the serializers gives.

The planned read of each serializer is held equal to DRF's own; the commitment list's
row-based read (``commitments.api.readers``) is held equal to the serializer, over every rule
kind, empty and nested rows, nulls, decimals, time zones, URL formats and both languages.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.paginator import InvalidPage, Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework import serializers as drf
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from alerts.api import serializers as alert_serializers
from alerts.models import Alert
from alerts.services.subscriptions import subscription_create
from commitments.api import readers, serializers
from commitments.models import Citation, Commitment, Party, Source
from commitments.selectors import commitment_list
from commitments.services import commitments as svc
from commitments.services.assessments import assessment_record
from commitments.services.sources import citation_place, source_create
from core.rest.pagination import CountingPaginator, CursorOrPageNumberPagination
from tests import factories

pytestmark = pytest.mark.django_db


def _both(serializer: drf.Serializer, instance) -> tuple[dict, dict]:
    planned = serializer.to_representation(instance)
    generic = drf.Serializer.to_representation(serializer, instance)
    return planned, dict(generic)


@pytest.fixture
def request_context():
    return {"request": APIRequestFactory().get("/api/v1/commitments/", HTTP_HOST="testserver")}


@pytest.fixture
def rich_commitment(make_commitment, usa, source, editor):
    anchor = make_commitment(title="Anchor")
    commitment = make_commitment(
        title="Invest 550 billion",
        category="investment",
        target_amount=Decimal("550000000000"),
        target_unit="USD",
        effective_from=dt.date(2025, 8, 1),
        anchor_kind="commitment",
        anchor_commitment=anchor,
        owner=editor,
        beneficiaries=[usa],
        deadline_phrase="dans les 180 jours",
        # Issue 12, h3: every stage set, the effective date known to the month.
        announced_on=dt.date(2025, 7, 22),
        signed_on=dt.date(2025, 9, 4),
        instrument_title="Executive Order 14345",
        instrument_url="https://www.federalregister.gov/d/2025-17254",
        effective_from_precision="month",
        in_force_on=dt.date(2025, 9, 16),
        ended_on=dt.date(2026, 2, 1),
        ended_reason="replaced",
        replaced_by=anchor,
    )
    svc.commitment_change_status(
        commitment=commitment,
        status="partially_fulfilled",
        user=editor,
        occurred_on=dt.date(2026, 1, 5),
        measured_value=Decimal("12.5"),
        evidence_source=source,
        evidence_quote="Une partie des fonds a été engagée.",
        evidence_translation="Part of the funds was committed.",
    )
    return commitment_list().get(pk=commitment.pk)


def test_commitment_rows_match_drf(rich_commitment, make_commitment, request_context):
    plain = commitment_list().get(pk=make_commitment(deadline_kind="none").pk)
    for instance in (rich_commitment, plain):
        serializer = serializers.CommitmentSerializer(context=request_context)
        planned, generic = _both(serializer, instance)
        assert planned == generic
    assert planned["owner"] is None and planned["target_amount"] is None


def test_nested_rows_match_drf(rich_commitment, request_context, editor, settings, tmp_path):
    citation = rich_commitment.citations.all()[0]
    update = rich_commitment.progress_updates.all()[0]
    settings.MEDIA_ROOT = tmp_path
    archived_source = source_create(
        user=editor, upload=b"<html><body><p>Le texte archive.</p></body></html>",
        upload_name="page.html", key="archived", title="Archived", publisher="P",
        language="fr", published_on=dt.date(2025, 10, 28), kind="press",
    )
    archived_citation = Citation(source=archived_source, commitment=rich_commitment,
                                 quote="texte archive")
    citation_place(archived_citation, required=True)
    archived_citation.save()
    assert archived_citation.start is not None
    for serializer_class, instance in [
        (serializers.CitationSerializer, citation),
        (serializers.ProgressUpdateSerializer, update),
        (serializers.DeadlineRuleSerializer, rich_commitment),
        (serializers.AgreementSerializer, rich_commitment.agreement),
        (serializers.PartySerializer, rich_commitment.obligor),
        (serializers.SourceSerializer, citation.source),
        # Issue 14: a source with its archived copy, listed and on its own page.
        (serializers.SourceSerializer, archived_source),
        (serializers.SourceDetailSerializer, archived_source),
        (serializers.CitationSerializer, archived_citation),
    ]:
        planned, generic = _both(serializer_class(context=request_context), instance)
        assert planned == generic, serializer_class.__name__
    assert update.measured_value == Decimal("12.5")


def test_own_data_rows_match_drf(rich_commitment, editor, request_context):
    subscription = subscription_create(user=editor, scope="commitment", commitment=rich_commitment)
    alert = Alert.objects.create(
        user=editor,
        email=editor.email,
        commitment=rich_commitment,
        due_date=dt.date(2026, 4, 26),
        threshold=7,
        created=dt.datetime(2026, 4, 19, tzinfo=dt.UTC),
    )
    for serializer_class, instance in [
        (alert_serializers.SubscriptionSerializer, subscription),
        (alert_serializers.AlertSerializer, alert),
    ]:
        planned, generic = _both(serializer_class(context=request_context), instance)
        assert planned == generic, serializer_class.__name__
    assert Commitment.objects.filter(pk=rich_commitment.pk).exists()


@pytest.fixture
def varied_commitments(make_commitment, agreement, japan, usa, source, editor):
    """Commitments covering every rule kind, empty and nested rows, nulls and decimals."""
    aardvark = Party.objects.create(key="aardvark", name="Aardvark Republic", kind="state")
    press = Source.objects.create(
        key="press-2025",
        title="Summit coverage",
        publisher="The Daily",
        language="en",
        published_on=dt.date(2025, 10, 29),
        kind="press",
    )
    pacific = svc.agreement_create(
        key="pacific-2025",
        title="Pacific framework",
        kind="framework",
        date=dt.date(2025, 3, 1),
        time_zone="America/Los_Angeles",
        parties=[japan, usa],
    )
    # Issue 15: the rule's words name the anchor by its title in the reader's language.
    anchor = make_commitment(title="Anchor", title_fr="Ancre", category="institution")
    made = [
        anchor,
        make_commitment(
            title="Invest 550 billion",
            description="Investissements « stratégiques » — énergie, semi-conducteurs.",
            # Issue 15: a human French title, a machine-translated description.
            title_fr="Investir 550 milliards",
            machine_translations={"fr": {"description": "Des investissements « stratégiques »."}},
            category="investment",
            target_amount=Decimal("550000000000"),
            target_unit="USD",
            effective_from=dt.date(2025, 8, 1),
            anchor_kind="commitment",
            anchor_commitment=anchor,
            offset_amount=1,
            offset_unit="years",
            owner=editor,
            beneficiaries=[usa, aardvark],
            deadline_phrase="dans l'année",
        ),
        make_commitment(
            title="Cut tariffs to 15 %",
            category="tariff",
            target_amount=Decimal("15.0001"),
            target_unit="percent",
            deadline_kind="fixed",
            deadline_date=dt.date(2026, 2, 28),
            offset_amount=None,
            offset_unit="",
            anchor_kind="",
            beneficiaries=[japan],
        ),
        make_commitment(title="Meet within a month", offset_amount=1, offset_unit="months"),
        make_commitment(title="Every week", offset_amount=3, offset_unit="weeks"),
        make_commitment(
            title="Defence spending by March",
            category="defence_spending",
            target_amount=Decimal("0"),
            target_unit="percent_gdp",
            deadline_kind="period_end",
            period_unit="month",
            period_number=3,
            period_year=2026,
            offset_amount=None,
            offset_unit="",
            anchor_kind="",
        ),
        make_commitment(
            title="By the end of a quarter",
            deadline_kind="period_end",
            period_unit="quarter",
            period_number=2,
            offset_amount=None,
            offset_unit="",
            anchor_kind="",
        ),
        make_commitment(
            title="Within the year",
            deadline_kind="period_end",
            period_unit="year",
            offset_amount=None,
            offset_unit="",
            anchor_kind="",
        ),
        make_commitment(
            title="Ongoing cooperation",
            category="cooperation",
            deadline_kind="none",
            offset_amount=None,
            offset_unit="",
            anchor_kind="",
        ),
        make_commitment(
            agreement=pacific,
            key="pacific-1",
            title="Pacific deadline",
            obligor=usa,
            deadline_kind="fixed",
            deadline_date=dt.date(2025, 12, 31),
            offset_amount=None,
            offset_unit="",
            anchor_kind="",
            beneficiaries=[japan, usa, aardvark],
        ),
    ]
    invest, tariffs = made[1], made[2]
    Citation.objects.create(source=source, commitment=invest, quote="« 550 milliards »")
    Citation.objects.create(
        source=press,
        commitment=invest,
        quote="5 500 億ドル",
        translation="550 billion dollars",
        translation_language="en",
        locator="§ 3",
    )
    Citation.objects.create(source=press, agreement=agreement, quote="Not a commitment's.")
    for status, evidence, user, value in [
        ("in_progress", False, editor, None),
        ("partially_fulfilled", True, editor, Decimal("12.5")),
        ("in_progress", False, None, Decimal("0.0001")),
    ]:
        svc.commitment_change_status(
            commitment=invest,
            status=status,
            user=user,
            occurred_on=dt.date(2026, 1, 5),
            note="Note « écrite » à la main." if user else "",
            measured_value=value,
            evidence_source=source if evidence else None,
            evidence_quote="Une partie des fonds a été engagée." if evidence else "",
            evidence_translation="Part of the funds was committed." if evidence else "",
        )
    svc.commitment_change_status(
        commitment=tariffs, status="in_progress", user=editor, occurred_on=dt.date(2025, 11, 2)
    )
    # Issue 12, h3: revisions (an extension, then a suspension) in the deadline's explanation,
    # stages with a retroactive month.
    factories.deadline_revision_make(
        commitment=made[3], source=source, new_due_date=dt.date(2026, 7, 25)
    )
    factories.deadline_revision_make(
        commitment=made[5], source=press, kind="suspended", revised_on=dt.date(2026, 2, 1)
    )
    svc.commitment_update(
        commitment=tariffs,
        effective_from=dt.date(2025, 8, 7),
        effective_from_precision="month",
        signed_on=dt.date(2025, 9, 4),
        instrument_title="Executive Order 14345",
    )
    tokyo = ZoneInfo("Asia/Tokyo")
    Commitment.objects.filter(pk=tariffs.pk).update(
        deadline_state="overdue", flagged_at=dt.datetime(2026, 3, 1, 0, 0, 0, 1, tzinfo=tokyo)
    )
    Commitment.objects.filter(pk=made[3].pk).update(
        deadline_state="due_soon", flagged_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    )
    # Deadline revisions (issue 12): an extension to a month then a suspension, by the
    # editor; a fulfilment after an extension, by nobody.
    week = made[4]
    factories.revision_make(
        commitment=week,
        source=press,
        new_due_date=dt.date(2026, 5, 1),
        new_precision="month",
        user=editor,
        evidence_translation="Extended.",
        evidence_locator="p. 2",
    )
    factories.revision_make(commitment=week, kind="suspended", source=source)
    # Ratings (issue 13): a promise shared by three obligors, two rated (one replaced, one
    # with evidence, one without an author), one not; a rating of another agreement's
    # commitment.
    svc.commitment_update(commitment=invest, co_obligors=[usa, aardvark], user=editor)
    assessment_record(
        commitment=invest, party=japan, rating="in_the_works", justification="Commencé.",
        assessed_on=dt.date(2025, 11, 1), user=editor,
    )
    assessment_record(
        commitment=invest, party=japan, rating="compromise", justification="Partly « done ».",
        justification_fr="En partie « fait ».",
        assessed_on=dt.date(2026, 2, 1), user=editor, evidence_source=press,
        evidence_quote="Partiellement.", evidence_locator="p. 9",
    )
    assessment_record(
        commitment=invest, party=usa, rating="not_verifiable", justification="Rien de public.",
        assessed_on=dt.date(2026, 2, 1),
    )
    assessment_record(
        commitment=made[-1], party=usa, rating="stalled", justification="Aucun pas.",
        user=editor,
    )
    quarter = made[6]
    factories.revision_make(commitment=quarter, source=source, new_due_date=dt.date(2026, 9, 30))
    svc.commitment_change_status(
        commitment=quarter,
        status="fulfilled",
        occurred_on=dt.date(2026, 7, 15),
        evidence_source=source,
        evidence_quote="Tenu.",
    )
    return made


def _serialized(queryset, request, format=None) -> Any:
    context = {"request": request, "format": format}
    return serializers.CommitmentSerializer(queryset, many=True, context=context).data


#: Request paths with the URL format each gives DRF, and how the detail URLs then end.
URL_FORMATS = [
    ("/api/v1/commitments/", None, "/"),
    ("/api/v1/commitments.json", "json", ".json"),
    ("/api/v1/commitments/?format=json", None, "/?format=json"),
]


def test_the_list_reader_gives_what_the_serializer_gives(varied_commitments):
    """Every row the fast list read builds equals the serializer's row for the same commitment."""
    for language in ("en", "fr"):
        for path, format, url_end in URL_FORMATS:
            request = APIRequestFactory().get(path, HTTP_HOST="testserver")
            with translation.override(language):
                fast = readers.commitment_representations(
                    commitment_list(), request=request, format=format
                )
                expected = _serialized(commitment_list(), request, format)
            assert len(fast) == len(varied_commitments) == len(expected)
            for mine, theirs in zip(fast, expected, strict=True):
                assert mine == theirs, (language, path, mine["title"])
            invest = next(row for row in fast if row["title"] == "Invest 550 billion")
            assert invest["url"] == f"http://testserver/api/v1/commitments/{invest['id']}{url_end}"
            anchor_words = "Ancre" if language == "fr" else "Anchor"
            assert anchor_words in invest["deadline_rule"]["description"], language
    by_title = {row["title"]: row for row in fast}
    # The two quotes, then the evidence of the status change and of the rating (issue 13),
    # which became citations.
    assert [c["source_title"] for c in invest["citations"]] == [
        "Rencontre au sommet Japon – États-Unis",
        "Summit coverage",
        "Rencontre au sommet Japon – États-Unis",
        "Summit coverage",
    ]
    assert [u["measured_value"] for u in invest["progress_updates"]] == ["0.0001", "12.5000", None]
    assert invest["progress_updates"][0]["author"] is None
    assert invest["progress_updates"][1]["evidence"]["quote"].startswith("Une partie")
    assert invest["beneficiaries"] == [
        Party.objects.get(key="aardvark").pk,
        Party.objects.get(key="united-states").pk,
    ]
    # The last rows read were the French ones.
    assert invest["deadline_rule"]["description"] == (
        "1 an après la réalisation de «\u00a0Ancre\u00a0» (pas encore)"
    )
    assert by_title["Cut tariffs to 15 %"]["flagged_at"] == "2026-02-28T15:00:00.000001Z"
    week = by_title["Every week"]
    assert [r["kind"] for r in week["revisions"]] == ["extended", "suspended"]
    assert week["revisions"][0]["evidence"]["source_title"] == "Summit coverage"
    assert week["revisions"][0]["author"] == "editor"
    assert (week["due_date"], week["due_precision"], week["deadline_state"]) == (
        "2026-05-31",
        "month",
        "suspended",
    )
    assert by_title["By the end of a quarter"]["fulfilment_timing"] == "after_extension"
    assert by_title["By the end of a quarter"]["original_due_date"] == "2026-06-30"
    # Ratings (issue 13): every obligor, the obligor first, then the others by name.
    assert invest["obligors"] == [
        Party.objects.get(key="japan").pk,
        Party.objects.get(key="aardvark").pk,
        Party.objects.get(key="united-states").pk,
    ]
    assert [a["rating"] for a in invest["assessments"]] == [
        "compromise",
        "not_rated",
        "not_verifiable",
    ]
    assert invest["assessments"][0]["evidence"]["locator"] == "p. 9"
    assert invest["assessments"][2]["author"] is None
    assert invest["progress"]["measured"] == "0.0001"
    assert by_title["Pacific deadline"]["assessments"][0]["score"] == -1
    ongoing = by_title["Ongoing cooperation"]
    assert ongoing["due_date"] is None and ongoing["citations"] == ongoing["progress_updates"] == []
    assert ongoing["owner"] is None and ongoing["beneficiaries"] == []
    assert ongoing["progress"] is None and ongoing["assessments"][0]["rating"] == "not_rated"


def test_the_detail_answers_what_the_serializer_gives(varied_commitments, viewer_api):
    """A commitment's detail, read as the list reads its rows, is the serializer's
    representation of it, key for key and in order, in both languages and URL formats."""
    for commitment in varied_commitments:
        pk = commitment.pk
        for language in ("en", "fr"):
            for path, format in (
                (f"/api/v1/commitments/{pk}/", None),
                (f"/api/v1/commitments/{pk}.json", "json"),
                (f"/api/v1/commitments/{pk}/?format=json", None),
            ):
                response = viewer_api.get(path, HTTP_ACCEPT_LANGUAGE=language)
                assert response.status_code == 200, (path, response.content[:300])
                request = APIRequestFactory().get(path, HTTP_HOST="testserver")
                with translation.override(language):
                    expected = serializers.CommitmentSerializer(
                        commitment_list().get(pk=pk), context={"request": request, "format": format}
                    ).data
                assert list(response.json().items()) == list(
                    json.loads(JSONRenderer().render(expected)).items()
                ), (language, path, commitment.title)


def test_a_change_answers_the_commitment_as_stored(varied_commitments, editor_api):
    """A PATCH answers what the serializer gives of the commitment as stored after it (the
    deadline re-flagged, the nested rows read afresh), key for key and in order."""
    for commitment in varied_commitments:
        path = f"/api/v1/commitments/{commitment.pk}/"
        response = editor_api.patch(
            path, {"description": f"Changed: {commitment.title}"}, format="json"
        )
        assert response.status_code == 200, (path, response.content[:300])
        request = APIRequestFactory().patch(path, HTTP_HOST="testserver")
        stored = commitment_list().get(pk=commitment.pk)
        assert stored.description == f"Changed: {commitment.title}"
        expected = serializers.CommitmentSerializer(stored, context={"request": request}).data
        assert list(response.json().items()) == list(
            json.loads(JSONRenderer().render(expected)).items()
        ), commitment.title


def test_the_detail_of_no_commitment_is_a_404(viewer_api):
    """A key no commitment has, or one that is no number, is a 404 with DRF's words."""
    missing = viewer_api.get("/api/v1/commitments/987654321/")
    malformed = viewer_api.get("/api/v1/commitments/abc/")
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "No Commitment matches the given query."},
    )
    assert (malformed.status_code, malformed.json()) == (404, {"detail": "Not found."})


def test_a_slice_reads_only_its_own_rows_in_order(varied_commitments):
    """A page's rows come in the queryset's order, with only their own nested rows."""
    request = APIRequestFactory().get("/api/v1/commitments/", HTTP_HOST="testserver")
    ordered = commitment_list().order_by("-title", "id")
    for bounds in (slice(0, 3), slice(1, 2), slice(3, 9), slice(40, 50)):
        page = ordered[bounds]
        fast = readers.commitment_representations(page, request=request)
        assert fast == _serialized(page, request)
    assert readers.commitment_representations(ordered[40:50], request=request) == []


def test_represented_commitments_paginate_like_the_queryset(varied_commitments):
    """The paginator counts and slices the wrapper as it would the queryset itself."""
    request = APIRequestFactory().get("/api/v1/commitments/", HTTP_HOST="testserver")
    queryset = commitment_list().filter(category="meeting")
    rows = readers.RepresentedCommitments(queryset, request=request)
    paginator: Paginator = Paginator(cast(Any, rows), 2)
    assert paginator.count == rows.count() == queryset.count() == 5
    pages = [list(paginator.page(n)) for n in paginator.page_range]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [row for page in pages for row in page] == _serialized(queryset, request)
    assert rows.ordered


@pytest.mark.parametrize("category", ["meeting", "no-such-category"])
def test_the_counting_paginator_reads_a_page_and_its_count_in_one_statement(
    varied_commitments, category
):
    """The API's paginator reads each page of the reader with the count in one statement
    (issue 16), and gives what Django's paginator gives: the same count, the same pages, the
    same ``EmptyPage`` (and message) past the last page and below the first. An empty list
    has no row to carry the count: it is counted on its own (and on SQLite, whose rows the
    ORM reads, always)."""
    request = APIRequestFactory().get("/api/v1/commitments/", HTTP_HOST="testserver")
    queryset = commitment_list().filter(category=category)
    # SQLite: Django probes its JSON support once per connection, not per page.
    assert connection.features.supports_json_field

    def rows_of() -> readers.RepresentedCommitments:
        return readers.RepresentedCommitments(queryset, request=request)

    expected: Paginator = Paginator(cast(Any, rows_of()), 2)
    for number in [*expected.page_range, str(expected.num_pages)]:
        paginator = CountingPaginator(cast(Any, rows_of()), 2)
        with CaptureQueriesContext(connection) as queries:
            page = paginator.page(number)
        # One statement on PostgreSQL; SQLite's rows go through the ORM, counted apart.
        together = len(page) and connection.vendor == "postgresql"
        assert len(queries) == (1 if together else 2)
        assert paginator.count == expected.count == queryset.count()
        assert list(page) == list(expected.page(number))
        assert (page.has_next(), page.has_previous()) == (
            expected.page(number).has_next(),
            expected.page(number).has_previous(),
        )
    for number in (expected.num_pages + 1, 0, "x"):
        paginator = CountingPaginator(cast(Any, rows_of()), 2)
        with pytest.raises(InvalidPage) as ours:
            paginator.page(number)
        with pytest.raises(InvalidPage) as django:
            expected.page(number)
        assert (type(ours.value), str(ours.value)) == (type(django.value), str(django.value))


def test_a_page_statement_of_another_shape_is_read_by_the_orm_alike(
    varied_commitments, monkeypatch
):
    """The list's one statement (the precompiled columns and nested arrays reading the rows
    of the page's ids, as the ORM compiles them) and the ORM's own statement, used where the
    precompiled SELECT has another shape, give the same rows, which are the serializer's."""
    request = APIRequestFactory().get("/api/v1/commitments/", HTTP_HOST="testserver")
    page = commitment_list().order_by("-title", "id")[1:9]
    one_statement = readers.commitment_representations(page, request=request)
    monkeypatch.setattr(readers, "_FROM", " FROM a_table_no_page_names")
    by_the_orm = readers.commitment_representations(page, request=request)
    assert one_statement == by_the_orm == _serialized(page, request)
    assert len(one_statement) == 8


@pytest.mark.parametrize(
    "ordering",
    [("due_date", "id"), ("-due_date", "id"), ("agreement__date", "id"), ("-updated", "-id")],
)
def test_keyset_pages_read_what_the_serializer_gives_with_their_positions(
    varied_commitments, ordering
):
    """The cursor pages' read (issue 16) gives the serializer's rows, and each row's position
    (its values of the ordering's columns, read in the same statement) as ``values_list``
    gives it; page by page through the keyset regions, it is the whole list in order."""
    request = APIRequestFactory().get("/api/v1/commitments/", HTTP_HOST="testserver")
    ordered = commitment_list().order_by(*ordering)
    keys = [key.lstrip("-") for key in ordering]
    fast, positions = readers.commitment_page(ordered, request=request, positions=tuple(keys))
    assert fast == _serialized(ordered, request)
    assert positions == [list(values) for values in ordered.values_list(*keys)]
    rows = readers.RepresentedCommitments(commitment_list(), request=request)
    pager = CursorOrPageNumberPagination()
    walked: list[dict] = []
    cursor: str | None = ""
    while cursor is not None:
        query = {"cursor": cursor, "page_size": "3"}
        asked = APIRequestFactory().get("/api/v1/commitments/", query)
        page = pager.paginate_queryset(
            readers.RepresentedCommitments(ordered, request=request), Request(asked)
        )
        walked.extend(page)
        following = pager.cursor_next
        cursor = following and parse_qs(urlsplit(following).query)["cursor"][0]
    assert walked == _serialized(ordered, request)
    assert rows.count() == len(walked) == len(varied_commitments)


def test_the_offset_page_is_read_for_its_own_rows_alike(varied_commitments):
    """A page that skips rows reads its ids first (an OFFSET would build the nested arrays of
    every skipped row): the same rows as the serializer, in order, with their positions."""
    request = APIRequestFactory().get("/api/v1/commitments/", HTTP_HOST="testserver")
    ordered = commitment_list().order_by("-agreement__date", "title", "id")
    for bounds in (slice(2, 5), slice(5, 40)):
        page = ordered[bounds]
        fast, positions = readers.commitment_page(page, request=request, positions=("title",))
        assert fast == _serialized(page, request)
        assert positions == [[title] for title in page.values_list("title", flat=True)]
