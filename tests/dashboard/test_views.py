"""The review pages: access by role, what each page shows, the forms, and query budgets."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.models import Subscription
from commitments.choices import Status
from commitments.models import Citation, Commitment, CommitmentRelation, ProgressUpdate
from commitments.services import commitments as svc
from core.roles import EDITORS, VIEWERS
from feeds.models import CalendarFeed
from tests.factories import user_make

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def reviewer(db):
    return user_make(username="rita", role=VIEWERS)


@pytest.fixture
def writer(db):
    return user_make(username="ed", role=EDITORS)


@pytest.fixture
def commitment(make_commitment):
    return make_commitment(title="Ministerial within 180 days", deadline_phrase="within 180 days")


def _pages(commitment):
    return [
        reverse("dashboard:overview"),
        reverse("dashboard:commitments"),
        reverse("dashboard:agreement", args=[commitment.agreement_id]),
        reverse("dashboard:commitment", args=[commitment.pk]),
        reverse("dashboard:watching"),
    ]


def test_anonymous_visitors_are_sent_to_the_login_page(client, commitment):
    for url in _pages(commitment):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_user_without_a_role_is_refused(client, django_user_model, commitment):
    client.force_login(django_user_model.objects.create_user("nobody", "n@example.org", "pw"))
    for url in _pages(commitment):
        assert client.get(url).status_code == 403


def test_viewers_see_every_page_but_no_progress_form(client, reviewer, commitment):
    client.force_login(reviewer)
    for url in _pages(commitment):
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("dashboard:commitment", args=[commitment.pk]))
    assert page.context["form"] is None
    response = client.post(
        reverse("dashboard:commitment", args=[commitment.pk]), {"status": "in_progress"}
    )
    assert response.status_code == 403
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_STARTED


def test_overview_counts_and_lists_link_to_the_filtered_list(client, reviewer, make_commitment):
    soon = make_commitment(deadline_kind="fixed", deadline_date=dt.date(2026, 3, 5))
    later = make_commitment(deadline_kind="fixed", deadline_date=dt.date(2026, 3, 20))
    late = make_commitment(deadline_kind="fixed", deadline_date=dt.date(2026, 2, 1))
    client.force_login(reviewer)
    response = client.get(reverse("dashboard:overview"))
    counts = response.context["data"].counts
    assert counts["overdue"] == 1
    assert counts["due_7"] == 1
    assert counts["due_30"] == 2
    assert [c for c, _days in response.context["upcoming"]][:2] == [soon, later]
    assert response.context["upcoming"][0][1] == 4
    assert response.context["overdue"] == [(late, 28)]
    listed = client.get(reverse("dashboard:commitments") + "?" + response.context["links"]["due_7"])
    assert list(listed.context["page"].object_list) == [soon]


def test_overview_counts_a_shared_commitment_for_each_party_it_binds(
    client, reviewer, make_commitment, japan, usa
):
    make_commitment(deadline_kind="fixed", deadline_date=dt.date(2026, 2, 1), co_obligors=[usa])
    make_commitment(deadline_kind="fixed", deadline_date=dt.date(2026, 3, 20))
    client.force_login(reviewer)
    response = client.get(reverse("dashboard:overview"))
    by_party = {party.key: tally for party, tally in response.context["data"].by_party}
    assert (by_party["japan"].total, by_party["japan"].overdue) == (2, 1)
    assert (by_party["united-states"].total, by_party["united-states"].overdue) == (1, 1)
    # Each figure links to the list filtered by that party, which finds the same rows.
    listed = client.get(reverse("dashboard:commitments"), {"obligor": usa.pk})
    assert len(listed.context["page"].object_list) == by_party["united-states"].total
    assert "Japan, United States" in response.content.decode()


def test_commitment_list_applies_the_api_filters(client, reviewer, make_commitment):
    meeting = make_commitment(title="Hold the ministerial", category="meeting")
    make_commitment(title="Invest 550 billion", category="investment")
    client.force_login(reviewer)
    response = client.get(reverse("dashboard:commitments"), {"category": "meeting"})
    assert list(response.context["page"].object_list) == [meeting]
    response = client.get(reverse("dashboard:commitments"), {"q": "550"})
    assert [c.title for c in response.context["page"].object_list] == ["Invest 550 billion"]


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("en", ["Overdue", "Due within (days)", "Search", "Due on or before"]),
        (
            "fr",
            ["En retard", "Échéance dans les (jours)", "Rechercher", "Échéance au plus tard le"],
        ),
    ],
)
def test_every_list_filter_has_a_label_in_the_readers_language(
    client, reviewer, commitment, language, labels
):
    """No filter is labelled "[invalid name]" (django-filter's default for a method filter)."""
    client.force_login(reviewer)
    response = client.get(
        reverse("dashboard:commitments"), {"overdue": "true"}, HTTP_ACCEPT_LANGUAGE=language
    )
    page = response.content.decode()
    assert "[invalid name]" not in page
    for label in labels:
        assert label in page


def test_an_unknown_filter_value_is_a_form_error_not_a_crash(client, reviewer, commitment):
    client.force_login(reviewer)
    response = client.get(reverse("dashboard:commitments"), {"status": "nonsense"})
    assert response.status_code == 400
    assert "status" in response.context["filterset"].form.errors


def test_agreement_page_has_timeline_and_a_compliance_table_of_ratings_not_statuses(
    client, reviewer, make_commitment, source
):
    done = make_commitment(title="Done")
    svc.commitment_change_status(
        commitment=done,
        status=Status.FULFILLED,
        occurred_on=dt.date(2026, 2, 1),
        evidence_source=source,
        evidence_quote="Réunion tenue.",
    )
    late = make_commitment(title="Late", deadline_kind="fixed", deadline_date=dt.date(2026, 2, 1))
    make_commitment(title="Ongoing", deadline_kind="none")
    client.force_login(reviewer)
    response = client.get(reverse("dashboard:agreement", args=[done.agreement_id]))
    (japan,) = response.context["compliance"].parties
    # A status is not a rating: nobody has rated these, so none scores and none is averaged.
    assert {row.commitment.title: row.rating for row in japan.rows} == {
        "Done": "not_rated", "Late": "not_rated", "Ongoing": "not_rated"}
    assert japan.tally.average is None
    assert "Not yet rated: 3 — not in the average" in " ".join(response.content.decode().split())
    timeline = response.context["timeline"]
    assert [row.title for row in timeline.rows] == ["Late", "Done"]
    # An undated commitment takes no row of the chart: it is listed below it.
    assert [lane.title for lane in timeline.undated] == ["Ongoing"]
    assert timeline.today_x is not None
    body = response.content.decode()
    assert "<svg" in body and late.title in body


def test_commitment_page_shows_the_rule_in_words_and_sources(
    client, reviewer, commitment, source
):
    Citation.objects.create(
        source=source,
        commitment=commitment,
        quote="une réunion ministérielle dans un délai de 180 jours",
        translation="a ministerial meeting within 180 days",
        locator="§ 3",
    )
    client.force_login(reviewer)
    response = client.get(reverse("dashboard:commitment", args=[commitment.pk]))
    assert response.context["rule_words"] == (
        "180 days after the agreement's date (Oct. 28, 2025) → April 26, 2026"
    )
    body = response.content.decode()
    assert "une réunion ministérielle dans un délai de 180 jours" in body
    assert "a ministerial meeting within 180 days" in body
    assert source.title in body


def test_editor_records_a_status_change_with_evidence(client, writer, commitment, source):
    client.force_login(writer)
    url = reverse("dashboard:commitment", args=[commitment.pk])
    response = client.post(
        url,
        {
            "status": "fulfilled",
            "occurred_on": "2026-02-20",
            "note": "Held in Washington.",
            "evidence_source": source.pk,
            "evidence_quote": "La réunion ministérielle s'est tenue.",
        },
    )
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.status == Status.FULFILLED
    update = ProgressUpdate.objects.get(commitment=commitment)
    assert update.author == writer
    assert update.evidence is not None
    assert update.evidence.quote == "La réunion ministérielle s'est tenue."
    assert commitment.history.first().history_user == writer
    page = client.get(url)
    assert "La réunion ministérielle s&#x27;est tenue." in page.content.decode()


def test_fulfilled_without_evidence_is_refused_on_the_form(client, writer, commitment):
    client.force_login(writer)
    response = client.post(
        reverse("dashboard:commitment", args=[commitment.pk]),
        {"status": "fulfilled", "occurred_on": "2026-02-20"},
    )
    assert response.status_code == 400
    # On the evidence field, as in the admin and the API (the page offers existing citations).
    assert "needs an evidence citation" in " ".join(response.context["form"].errors["evidence"])
    commitment.refresh_from_db()
    assert commitment.status == Status.NOT_STARTED
    assert not ProgressUpdate.objects.exists()


def test_watch_and_unwatch_a_commitment(client, reviewer, commitment):
    client.force_login(reviewer)
    url = reverse("dashboard:commitment", args=[commitment.pk])
    response = client.post(
        reverse("dashboard:watch"), {"scope": "commitment", "id": commitment.pk, "next": url}
    )
    assert response.status_code == 302 and response["Location"] == url
    subscription = Subscription.objects.get(user=reviewer)
    assert subscription.commitment == commitment
    # Saved through the service: the default lead times and the notice the day after.
    assert list(subscription.leads.values_list("days", flat=True)) == [30, 7, 1, 0]
    watching = client.get(reverse("dashboard:watching"))
    assert list(watching.context["subscriptions"]) == [subscription]
    client.post(
        reverse("dashboard:watch"),
        {"scope": "commitment", "id": commitment.pk, "action": "unwatch", "next": url},
    )
    assert not Subscription.objects.filter(user=reviewer).exists()


def test_watch_rejects_an_unknown_scope_and_an_outside_redirect(client, reviewer, commitment):
    client.force_login(reviewer)
    assert client.post(reverse("dashboard:watch"), {"scope": "user", "id": 1}).status_code == 400
    for bad_id in ["", "x1", "1.5"]:
        response = client.post(reverse("dashboard:watch"), {"scope": "agreement", "id": bad_id})
        assert response.status_code == 400
    assert not Subscription.objects.exists()
    response = client.post(
        reverse("dashboard:watch"),
        {"scope": "agreement", "id": commitment.agreement_id, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("dashboard:watching")
    assert list(Subscription.objects.values_list("user", "scope", "agreement")) == [
        (reviewer.pk, "agreement", commitment.agreement_id)
    ]


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _bulk_commitments(agreement, obligor, n, start=0, co_obligor=None):
    rows = [
        Commitment(
            agreement=agreement,
            key=f"bulk-{start + i}",
            title=f"Bulk {start + i}",
            obligor=obligor,
            category="meeting",
            deadline_kind="fixed",
            deadline_date=dt.date(2026, 1, 1) + dt.timedelta(days=(start + i) % 300),
            due_date=dt.date(2026, 1, 1) + dt.timedelta(days=(start + i) % 300),
            due_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=(start + i) % 300),
            deadline_state="overdue" if (start + i) % 3 == 0 else "on_track",
        )
        for i in range(n)
    ]
    Commitment.objects.bulk_create(rows)
    if co_obligor is not None:
        link = Commitment.co_obligors.through
        link.objects.bulk_create(
            [link(commitment_id=row.pk, party_id=co_obligor.pk) for row in rows]
        )


@pytest.mark.parametrize(
    "url_name", ["dashboard:overview", "dashboard:commitments", "dashboard:agreement"]
)
def test_pages_run_the_same_queries_for_10_and_1000_commitments(
    client, reviewer, agreement, japan, usa, url_name
):
    """Shared commitments too: every obligor is shown, read in one query per page."""
    client.force_login(reviewer)
    url = reverse(url_name, args=[agreement.pk] if url_name == "dashboard:agreement" else [])
    _bulk_commitments(agreement, japan, 10, co_obligor=usa)
    small = _count_queries(client, url)
    _bulk_commitments(agreement, japan, 990, start=10, co_obligor=usa)
    large = _count_queries(client, url)
    assert small == large


def test_watching_page_makes_renews_and_revokes_a_calendar_feed(client, reviewer, commitment):
    client.force_login(reviewer)
    url = reverse("dashboard:watching")
    made = client.post(url, {"action": "create", "scope": "watchlist"})
    assert made.status_code == 200
    address = made.context["new_feed_url"]
    assert address.startswith("http://testserver/api/v1/calendar/") and address.endswith(".ics")
    feed = CalendarFeed.objects.get(user=reviewer)
    assert client.get(address).status_code == 200
    assert address not in client.get(url).content.decode()

    renewed = client.post(url, {"action": "rotate", "feed": feed.pk}).context["new_feed_url"]
    assert renewed != address
    assert client.get(address).status_code == 404
    client.post(url, {"action": "revoke", "feed": feed.pk})
    assert client.get(renewed).status_code == 404


def test_a_user_cannot_touch_someone_else_feed(client, reviewer, writer):
    from feeds.services import calendar_feed_create

    feed, _secret = calendar_feed_create(
        user=writer, scope="watchlist", now=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    )
    client.force_login(reviewer)
    response = client.post(reverse("dashboard:watching"), {"action": "revoke", "feed": feed.pk})
    assert response.status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is None


def test_a_related_commitment_is_listed_once_read_from_each_side(
    client, reviewer, make_commitment
):
    """One link lists the other commitment once on each page, its kind read from that side.

    A symmetric link stored from both ends (as the seeds declare it) is still listed once.
    """
    old = make_commitment(title="Old plan")
    new = make_commitment(title="New plan")
    twin = make_commitment(title="Twin plan")
    CommitmentRelation.objects.create(from_commitment=new, to_commitment=old, kind="supersedes")
    CommitmentRelation.objects.create(from_commitment=new, to_commitment=twin, kind="related")
    CommitmentRelation.objects.create(from_commitment=twin, to_commitment=new, kind="related")
    client.force_login(reviewer)

    def related(commitment):
        page = client.get(reverse("dashboard:commitment", args=[commitment.pk]))
        return [(str(r.label), r.commitment.title) for r in page.context["related"]]

    assert related(new) == [("Related to", "Twin plan"), ("Supersedes", "Old plan")]
    assert related(old) == [("Superseded by", "New plan")]
    assert related(twin) == [("Related to", "New plan")]
    body = client.get(reverse("dashboard:commitment", args=[new.pk])).content.decode()
    assert body.count(">Twin plan</a>") == 1


@pytest.mark.parametrize(("language", "closed", "undated"), [("en", "Closed", "No deadline"),
                                                             ("fr", "Clos", "Sans échéance")])
def test_a_closed_commitment_reads_closed_not_without_deadline(
    client, reviewer, make_commitment, source, language, closed, undated
):
    """Fulfilled, its deadline state is ``none``: it had a deadline, so the page says closed;
    an ongoing commitment with no rule still says it has no deadline."""
    done = make_commitment(title="Done")
    svc.commitment_change_status(commitment=done, status=Status.FULFILLED, evidence_source=source,
                                 evidence_quote="C'est fait.")
    ongoing = make_commitment(title="Ongoing", deadline_kind="none")
    client.force_login(reviewer)
    headers = {"Accept-Language": language}
    page = client.get(reverse("dashboard:commitment", args=[done.pk]), headers=headers)
    assert f'<span class="state state-none">{closed}</span>' in page.content.decode()
    page = client.get(reverse("dashboard:commitment", args=[ongoing.pk]), headers=headers)
    assert f'<span class="state state-none">{undated}</span>' in page.content.decode()
    listing = client.get(reverse("dashboard:commitments"), headers=headers).content.decode()
    assert listing.count(f'<span class="state state-none">{closed}</span>') == 1


def test_agreement_page_lists_the_sources_its_commitments_cite(
    client, reviewer, make_commitment, source
):
    """The agreement quotes no source itself, but its commitments do: each is listed once,
    with how many citations it holds, linking to its page."""
    first, second = make_commitment(title="First"), make_commitment(title="Second")
    for commitment, quote in ((first, "Réunion tenue."), (second, "Achats."), (second, "Bis.")):
        Citation.objects.create(source=source, commitment=commitment, quote=quote)
    client.force_login(reviewer)
    response = client.get(reverse("dashboard:agreement", args=[first.agreement_id]))
    body = " ".join(response.content.decode().split())
    assert response.status_code == 200
    assert [s.commitment_citations for s in response.context["commitment_sources"]] == [3]
    assert "Cited by its commitments" in body
    link = f'<a href="{reverse("dashboard:source", args=[source.pk])}">{source.title}</a>'
    assert link in body and "(3 citations)" in body
    assert "No source quoted for the agreement itself." in body  # and that is still true


def test_a_deep_list_page_shows_its_own_rows_in_order_with_their_obligors(
    client, reviewer, make_commitment, usa
):
    """A page after the first (its rows picked by id first) holds the rows the ordering puts
    there, undated ones last, with their other obligors loaded, in the first page's queries."""
    made = []
    for n in range(60):
        rule: dict[str, object]
        if n % 7 == 0:
            rule = {"deadline_kind": "none", "offset_amount": None, "offset_unit": "",
                    "anchor_kind": ""}
        else:
            day = dt.date(2026, 1, 1) + dt.timedelta(days=n % 11)
            rule = {"deadline_kind": "fixed", "deadline_date": day}
        made.append(make_commitment(title=f"Row {n:02}", **rule))
    for commitment in made[::5]:
        commitment.co_obligors.add(usa)
    made = [Commitment.objects.get(pk=c.pk) for c in made]
    by_due = sorted(made, key=lambda c: (c.due_date is None, c.due_date or dt.date.min, c.pk))
    by_title_desc = sorted(made, key=lambda c: c.title, reverse=True)
    client.force_login(reviewer)
    url = reverse("dashboard:commitments")
    queries = []
    for query, expected in (({}, by_due), ({"ordering": "-title"}, by_title_desc)):
        for number in (1, 2, 3):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url, {**query, "page": number})
            queries.append(len(captured))
            rows = list(response.context["page"].object_list)
            assert rows == expected[(number - 1) * 25 : number * 25], (query, number)
            for row in rows:
                assert [p.key for p in row.obligor_list] == [
                    p.key for p in Commitment.objects.get(pk=row.pk).obligor_list
                ]
    assert len(set(queries)) == 1, queries
