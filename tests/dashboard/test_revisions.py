"""Deadline revisions on the review pages: the dates, the history, the form, the timeliness.

The default commitment (agreement 2025-10-28 in Asia/Tokyo, +180 days) is due 2026-04-26.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from commitments.choices import Status
from commitments.deadlines import RULE_EMPTY_VALUES
from commitments.models import Citation, Commitment, DeadlineRevision
from commitments.services import commitments as svc
from core.roles import EDITORS, VIEWERS
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 2, 3, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def writer(db):
    return factories.user_make(username="ed", role=EDITORS)


@pytest.fixture
def reviewer(db):
    return factories.user_make(username="rita", role=VIEWERS)


def page(commitment: Commitment) -> str:
    return reverse("dashboard:commitment", args=[commitment.pk])


def revise(commitment: Commitment) -> str:
    return reverse("dashboard:commitment_revise", args=[commitment.pk])


def posted(source, **fields) -> dict[str, str]:
    data = {
        "kind": "extended",
        "new_due_date": "2026-07-15",
        "new_precision": "month",
        "reason": "Prorogé d'un commun accord.",
        "evidence_source": str(source.pk),
        "evidence_quote": "Le délai est prorogé.",
        **fields,
    }
    return data


def test_an_editor_records_an_extension_and_sees_both_dates_and_the_history(
    client, writer, make_commitment, source
):
    commitment = make_commitment()
    client.force_login(writer)
    response = client.post(revise(commitment), posted(source))
    assert response.status_code == 302
    assert response["Location"] == page(commitment)
    revision = DeadlineRevision.objects.get()
    assert (revision.new_due_date, revision.author, revision.revised_on) == (
        dt.date(2026, 7, 31),
        writer,
        dt.date(2026, 3, 2),
    )
    html = client.get(page(commitment)).content.decode()
    assert "April 26, 2026" in html and "July 2026" in html
    assert "Prorogé d&#x27;un commun accord." in html
    assert "Le délai est prorogé." in html
    assert source.title in html


def test_the_page_reads_in_french(client, writer, make_commitment, source):
    commitment = make_commitment()
    factories.revision_make(
        commitment=commitment,
        source=source,
        new_due_date=dt.date(2026, 3, 1),
        new_precision="quarter",
        revised_on=dt.date(2026, 3, 1),
        kind="brought_forward",
    )
    client.force_login(writer)
    with translation.override("fr"):
        html = client.get(page(commitment), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "26 avril 2026" in html
    assert "T1 2026" in html


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"reason": ""}, "reason", "required"),
        ({"new_due_date": ""}, "new_due_date", "required"),
        ({"new_due_date": "2026-01-15", "new_precision": ""}, "new_due_date", "after"),
        ({"evidence_source": "", "evidence_quote": ""}, "evidence", "evidence"),
        ({"evidence_quote": ""}, "evidence_quote", "required"),
        ({"kind": "resumed", "new_due_date": ""}, "kind", "not suspended"),
    ],
)
def test_a_bad_revision_shows_the_error_at_its_field_and_writes_nothing(
    client, writer, make_commitment, source, fields, field, words
):
    commitment = make_commitment()
    client.force_login(writer)
    response = client.post(revise(commitment), posted(source, **fields))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert words in " ".join(errors[field])
    assert 'role="alert"' in response.content.decode()
    assert not DeadlineRevision.objects.exists()
    assert not Citation.objects.exists()


def test_a_viewer_sees_no_link_and_cannot_revise(client, reviewer, make_commitment, source):
    commitment = make_commitment()
    client.force_login(reviewer)
    response = client.get(page(commitment))
    assert response.context["can_revise"] is False
    assert revise(commitment) not in response.content.decode()
    assert client.get(revise(commitment)).status_code == 403
    assert client.post(revise(commitment), posted(source)).status_code == 403
    assert not DeadlineRevision.objects.exists()


def test_an_editor_finds_the_form_from_the_commitment_page(client, writer, make_commitment):
    commitment = make_commitment()
    client.force_login(writer)
    assert revise(commitment) in client.get(page(commitment)).content.decode()
    form_page = client.get(revise(commitment))
    assert form_page.status_code == 200
    assert 'name="evidence_quote"' in form_page.content.decode()


def test_the_commitment_page_queries_do_not_grow_with_revisions(
    client, writer, make_commitment, source
):
    commitment = make_commitment()
    client.force_login(writer)
    factories.revision_make(commitment=commitment, source=source, new_due_date=dt.date(2026, 6, 1))
    client.get(page(commitment))
    with CaptureQueriesContext(connection) as first:
        client.get(page(commitment))
    for day in (dt.date(2026, 7, 1), dt.date(2026, 8, 1)):
        factories.revision_make(
            commitment=commitment, source=factories.source_make(), new_due_date=day
        )
    with CaptureQueriesContext(connection) as later:
        client.get(page(commitment))
    assert len(later) == len(first)


def test_the_list_filters_and_the_overview_counts_timeliness(
    client, reviewer, make_commitment, source
):
    on_time, extended = make_commitment(), make_commitment()
    # Due on 31 January by its rule: fulfilled on 5 February, late.
    late = make_commitment(
        **{**RULE_EMPTY_VALUES, "deadline_kind": "fixed", "deadline_date": dt.date(2026, 1, 31)}
    )
    factories.revision_make(commitment=extended, source=source, new_due_date=dt.date(2026, 8, 1))
    for commitment, day in (
        (on_time, dt.date(2026, 1, 5)),
        (extended, dt.date(2026, 2, 5)),
        (late, dt.date(2026, 2, 5)),
    ):
        svc.commitment_change_status(
            commitment=commitment,
            status=Status.FULFILLED,
            occurred_on=day,
            evidence_source=source,
            evidence_quote="Tenu.",
        )
    # The extension is judged against the original date (26 April): 5 February is on time.
    assert Commitment.objects.get(pk=extended.pk).fulfilment_timing == "on_time"
    client.force_login(reviewer)
    listed = client.get(reverse("dashboard:commitments"), {"fulfilment_timing": "late"})
    assert [c.pk for c in listed.context["page"]] == [late.pk]
    with CaptureQueriesContext(connection) as queries:
        overview = client.get(reverse("dashboard:overview"))
    assert overview.context["timing_counts"] == {"on_time": 2, "after_extension": 0, "late": 1}
    # Counted in one query: the overview's one grouped scan, where the timings ride along.
    timing_queries = [q for q in queries if 'after_extension"' in q["sql"]]
    assert len(timing_queries) == 1


# Read as an analyst (h4).


def test_the_kinds_of_revision_agree_with_the_deadline_in_french(client, writer, make_commitment):
    """Every kind reads as said of « l'échéance » (feminine), as « Prorogée » already did."""
    commitment = make_commitment()
    for kind, new_due_date, revised_on in [
        ("extended", dt.date(2026, 6, 30), dt.date(2026, 2, 1)),
        ("renegotiated", dt.date(2026, 7, 31), dt.date(2026, 2, 10)),
        ("suspended", None, dt.date(2026, 2, 20)),
        ("resumed", None, dt.date(2026, 3, 1)),
    ]:
        factories.revision_make(
            commitment=commitment, kind=kind, new_due_date=new_due_date, revised_on=revised_on
        )
    client.force_login(writer)
    html = client.get(page(commitment), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    kinds = re.findall(r'<span class="kind">([^<]*)</span>', html)
    assert kinds == ["Prorogée", "Renégociée", "Suspendue", "Reprise"]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        (
            {"deadline_kind": "none", "offset_amount": None, "offset_unit": "", "anchor_kind": ""},
            "no due date to revise",
        ),
        ({"status": Status.FULFILLED}, "closed commitment"),
    ],
)
def test_a_commitment_that_cannot_be_revised_says_why_instead_of_offering_the_form(
    client, writer, make_commitment, source, fields, words
):
    status = fields.pop("status", None)
    commitment = make_commitment(**fields)
    if status:
        svc.commitment_change_status(
            commitment=commitment,
            status=status,
            occurred_on=dt.date(2026, 3, 1),
            evidence_source=source,
            evidence_quote="Fait.",
        )
    client.force_login(writer)
    html = client.get(page(commitment)).content.decode()
    assert revise(commitment) not in html
    assert words in html


def test_a_fulfilled_commitment_shows_no_days_left(client, writer, make_commitment, source):
    commitment = make_commitment()
    client.force_login(writer)
    assert "55 days left" in client.get(page(commitment)).content.decode()
    svc.commitment_change_status(
        commitment=commitment,
        status=Status.FULFILLED,
        occurred_on=dt.date(2026, 3, 1),
        evidence_source=source,
        evidence_quote="Fait.",
    )
    html = client.get(page(commitment)).content.decode()
    assert "days left" not in html
    assert "April 26, 2026" in html


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "after the original but by a later, revised date, on time after an extension"),
        ("fr", "dans les délais après prorogation ; après son échéance actuelle, en retard"),
    ],
)
def test_the_overview_says_what_each_timeliness_count_means(client, reviewer, language, words):
    client.force_login(reviewer)
    html = client.get(reverse("dashboard:overview"), HTTP_ACCEPT_LANGUAGE=language)
    section = html.content.decode().split('id="timeliness-h"')[1].split("</section>")[0]
    assert words in section
