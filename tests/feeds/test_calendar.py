"""Calendar feeds: what Outlook, Google Calendar and Apple Calendar see at a secret URL."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_set_language
from alerts.services.subscriptions import subscription_create
from commitments.choices import AgreementKind, Category, PartyKind, Status
from commitments.models import Party
from commitments.services import commitments as svc
from feeds import services as feed_services
from feeds.ical import ALARM_TIME_OF_DAY
from feeds.models import CalendarFeed, FeedScope
from tests.factories import party_make

pytestmark = pytest.mark.django_db

# The summit is dated 2025-10-28 in Asia/Tokyo; 180 days later is 2026-04-26.
DUE = dt.date(2026, 4, 26)
BEFORE_DUE = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)
AFTER_DUE = dt.datetime(2026, 4, 27, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _before_the_due_date():
    """Run at a fixed instant (clock ticking) so the one-year window never drops the data."""
    with time_machine.travel(BEFORE_DUE, tick=True):
        yield


def feed_for(user, scope=FeedScope.ALL, **target) -> tuple[CalendarFeed, str]:
    return feed_services.calendar_feed_create(
        user=user, scope=scope, now=timezone.now(), **target
    )


def calendar_url(secret: str) -> str:
    return reverse("api:feeds:calendar", args=[secret])


def fetch(client, secret: str, **headers) -> icalendar.Calendar:
    response = client.get(calendar_url(secret), headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def events_by_uid(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def uid(commitment) -> str:
    return f"commitment-{commitment.pk}-due@127.0.0.1"


def alarm_leads(event: icalendar.Event) -> list[int]:
    """Turn each alarm's trigger back into the lead time it stands for (0: the day after)."""
    leads = []
    for alarm in event.walk("VALARM"):
        offset = alarm.decoded("TRIGGER") - ALARM_TIME_OF_DAY
        leads.append(0 if offset == dt.timedelta(days=1) else -offset.days)
    return leads


@pytest.fixture
def nato(db) -> Party:
    return party_make(key="nato", name="NATO", kind=PartyKind.ORGANISATION)


@pytest.fixture
def other_agreement(japan, nato):
    return svc.agreement_create(
        key="japan-nato-2025-04-09",
        title="Japan-NATO meeting",
        kind=AgreementKind.MINISTERIAL_MEETING,
        date=dt.date(2025, 4, 9),
        time_zone="Europe/Brussels",
        parties=[japan, nato],
    )


@time_machine.travel(BEFORE_DUE, tick=False)
def test_a_deadline_is_an_all_day_event_with_the_due_instant_in_the_agreements_zone(
    client, viewer, make_commitment
):
    """One VEVENT per deadline: all-day on the due date, the instant spelled out, a link."""
    commitment = make_commitment(title="Ministerial meeting", deadline_phrase="within 180 days")
    _feed, secret = feed_for(viewer)

    response = client.get(calendar_url(secret))
    calendar = fetch(client, secret)

    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in response.content
    assert str(calendar["VERSION"]) == "2.0"
    assert "Commitment Tracker" in str(calendar["PRODID"])
    event = events_by_uid(calendar)[uid(commitment)]
    assert event.decoded("DTSTART") == DUE
    assert event["DTSTART"].params["VALUE"] == "DATE"
    assert event.decoded("DTEND") == DUE + dt.timedelta(days=1)
    assert str(event["SUMMARY"]) == "Ministerial meeting"
    description = str(event["DESCRIPTION"])
    assert "end of April 26, 2026 in Asia/Tokyo" in description
    assert "2026-04-26 23:59 JST" in description
    assert "2026-04-26 14:59 UTC" in description
    assert "within 180 days" in description
    assert str(event["URL"]).endswith(commitment.get_absolute_url())
    assert event.decoded("DTSTAMP") == commitment.updated
    assert event.decoded("LAST-MODIFIED") == commitment.updated
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "Overdue" not in event["CATEGORIES"].cats


@time_machine.travel(BEFORE_DUE, tick=False)
def test_the_uid_stays_when_the_title_changes(client, viewer, make_commitment):
    """Renaming a commitment updates the event in place instead of making a second one."""
    commitment = make_commitment(title="Meeting within 180 days")
    _feed, secret = feed_for(viewer)
    before = events_by_uid(fetch(client, secret))

    svc.commitment_update(commitment=commitment, title="Ministerial meeting (renamed)")
    after = events_by_uid(fetch(client, secret))

    assert list(before) == list(after) == [uid(commitment)]
    assert str(after[uid(commitment)]["SUMMARY"]) == "Ministerial meeting (renamed)"


def test_commitments_without_a_due_date_are_left_out(client, viewer, make_commitment):
    """An ongoing commitment has no date to show."""
    dated = make_commitment()
    make_commitment(deadline_kind="none", offset_amount=None, offset_unit="", anchor_kind="")
    _feed, secret = feed_for(viewer)

    assert list(events_by_uid(fetch(client, secret))) == [uid(dated)]


@time_machine.travel(BEFORE_DUE, tick=False)
def test_an_overdue_commitment_is_marked_and_a_finished_one_is_not(client, viewer, make_commitment):
    """Past the due instant, open items say [OVERDUE]; cancelled ones are shown cancelled."""
    open_item = make_commitment(title="Open item")
    cancelled = make_commitment(title="Dropped item")
    svc.commitment_change_status(commitment=cancelled, status=Status.CANCELLED, note="Superseded")
    _feed, secret = feed_for(viewer)

    with time_machine.travel(AFTER_DUE, tick=False):
        events = events_by_uid(fetch(client, secret))

    overdue = events[uid(open_item)]
    assert str(overdue["SUMMARY"]) == "[OVERDUE] Open item"
    assert "Overdue" in overdue["CATEGORIES"].cats
    assert "overdue" in str(overdue["DESCRIPTION"])
    # It changed when it became overdue, so subscribers see a newer version.
    assert overdue.decoded("LAST-MODIFIED") > open_item.updated
    dropped = events[uid(cancelled)]
    assert str(dropped["SUMMARY"]) == "Dropped item"
    assert str(dropped["STATUS"]) == "CANCELLED"
    assert "Overdue" not in dropped["CATEGORIES"].cats
    assert alarm_leads(dropped) == []


def test_one_second_before_the_due_instant_nothing_is_overdue(client, viewer, make_commitment):
    """The deadline ends at the end of the due date in Tokyo, not in UTC."""
    commitment = make_commitment()
    _feed, secret = feed_for(viewer)

    with time_machine.travel(commitment.due_at - dt.timedelta(seconds=1), tick=False):
        event = events_by_uid(fetch(client, secret))[uid(commitment)]

    assert not str(event["SUMMARY"]).startswith("[OVERDUE]")


def test_alarms_follow_the_users_subscription_leads_else_the_defaults(
    client, viewer, make_commitment, other_agreement, nato, settings
):
    """Each alarm stands for a lead time: the watching subscriptions' own, or the defaults."""
    settings.TRACKER_DEFAULT_LEAD_DAYS = [30, 7, 1]
    watched = make_commitment()
    also_party = make_commitment()
    unwatched = make_commitment(agreement=other_agreement, obligor=nato)
    subscription_create(
        user=viewer, scope="agreement", agreement=watched.agreement, lead_days=[14, 2],
        notify_overdue=False,
    )
    subscription_create(
        user=viewer, scope="commitment", commitment=also_party, lead_days=[60],
        notify_overdue=True,
    )
    _feed, secret = feed_for(viewer)

    events = events_by_uid(fetch(client, secret))

    assert alarm_leads(events[uid(watched)]) == [14, 2]
    assert alarm_leads(events[uid(also_party)]) == [60, 14, 2, 0]
    assert alarm_leads(events[uid(unwatched)]) == [30, 7, 1, 0]
    alarm = events[uid(watched)].walk("VALARM")[0]
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == dt.timedelta(days=-14, hours=9)


def test_the_agreement_feed_shows_only_that_agreement(
    client, viewer, make_commitment, other_agreement, nato
):
    summit = make_commitment()
    make_commitment(agreement=other_agreement, obligor=nato)
    _feed, secret = feed_for(viewer, FeedScope.AGREEMENT, agreement=summit.agreement)

    calendar = fetch(client, secret)

    assert list(events_by_uid(calendar)) == [uid(summit)]
    assert str(calendar["X-WR-CALNAME"]) == f"Deadlines: {summit.agreement.title}"


def test_the_party_feed_shows_what_the_party_owes_or_receives(
    client, viewer, make_commitment, usa, nato, other_agreement
):
    owed_by_usa = make_commitment(obligor=usa)
    for_usa = make_commitment(beneficiaries=[usa])
    shared = make_commitment()
    svc.commitment_update(commitment=shared, co_obligors=[usa])
    make_commitment()
    make_commitment(agreement=other_agreement, obligor=nato)
    _feed, secret = feed_for(viewer, FeedScope.PARTY, party=usa)

    assert set(events_by_uid(fetch(client, secret))) == {
        uid(owed_by_usa),
        uid(for_usa),
        uid(shared),
    }


def test_the_watch_list_feed_shows_the_users_subscriptions_and_owned_commitments(
    client, viewer, editor, make_commitment, usa, nato, other_agreement
):
    """Only the feed owner's watch list counts; another user's subscriptions stay out."""
    by_agreement = make_commitment(agreement=other_agreement, obligor=nato)
    by_party = make_commitment(obligor=usa)
    by_commitment = make_commitment()
    owned = make_commitment(owner=viewer)
    watched_by_editor = make_commitment()
    make_commitment()
    subscription_create(user=viewer, scope="agreement", agreement=other_agreement)
    subscription_create(user=viewer, scope="party", party=usa)
    subscription_create(user=viewer, scope="commitment", commitment=by_commitment)
    subscription_create(user=editor, scope="commitment", commitment=watched_by_editor)
    subscription_create(user=editor, scope="all")
    _feed, secret = feed_for(viewer, FeedScope.WATCHLIST)

    calendar = fetch(client, secret)

    assert set(events_by_uid(calendar)) == {
        uid(by_agreement),
        uid(by_party),
        uid(by_commitment),
        uid(owned),
    }
    assert alarm_leads(events_by_uid(calendar)[uid(owned)]) == [30, 7, 1, 0]


def test_an_everything_subscription_makes_the_watch_list_everything(
    client, viewer, make_commitment
):
    first, second = make_commitment(), make_commitment()
    subscription_create(user=viewer, scope="all", lead_days=[3], notify_overdue=False)
    _feed, secret = feed_for(viewer, FeedScope.WATCHLIST)

    events = events_by_uid(fetch(client, secret))

    assert set(events) == {uid(first), uid(second)}
    assert alarm_leads(events[uid(first)]) == [3]


def test_a_revoked_secret_is_not_found(client, viewer, make_commitment):
    make_commitment()
    feed, secret = feed_for(viewer)
    assert client.get(calendar_url(secret)).status_code == 200

    feed_services.calendar_feed_revoke(feed=feed, now=timezone.now())

    assert client.get(calendar_url(secret)).status_code == 404


def test_rotating_kills_the_old_url_and_the_new_one_works(client, viewer, make_commitment):
    make_commitment()
    feed, old = feed_for(viewer)

    new = feed_services.calendar_feed_rotate(feed=feed, now=timezone.now())

    assert new != old
    assert client.get(calendar_url(old)).status_code == 404
    assert client.get(calendar_url(new)).status_code == 200


def test_a_secret_that_was_never_issued_is_not_found(client, viewer):
    feed_for(viewer)
    assert client.get(calendar_url("x" * 43)).status_code == 404


def test_the_feed_of_an_inactive_user_or_a_user_without_a_role_is_not_found(
    client, viewer, make_commitment, django_user_model
):
    """The feed never shows more than its owner may read today."""
    make_commitment()
    _feed, secret = feed_for(viewer)
    viewer.is_active = False
    viewer.save(update_fields=["is_active"])
    assert client.get(calendar_url(secret)).status_code == 404

    nobody = django_user_model.objects.create_user(username="nobody", password="pw-x")
    _feed, nobody_secret = feed_for(nobody)
    assert client.get(calendar_url(nobody_secret)).status_code == 404


def test_only_the_secret_hash_is_stored(viewer):
    feed, secret = feed_for(viewer)
    feed.refresh_from_db()
    assert secret not in (feed.secret_hash, feed.secret_hint)
    assert feed.secret_hash == feed_services.secret_hash(secret)


@time_machine.travel(BEFORE_DUE, tick=False)
def test_an_unchanged_feed_answers_304_to_its_etag(client, viewer, make_commitment):
    """Calendar apps poll; they get the body again only when something shown changed."""
    commitment = make_commitment()
    _feed, secret = feed_for(viewer)
    first = client.get(calendar_url(secret))
    assert first["Last-Modified"]

    again = client.get(calendar_url(secret), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304

    svc.commitment_update(commitment=commitment, title="Renamed")
    changed = client.get(calendar_url(secret), headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_the_feed_needs_no_login_and_refuses_writes(client, viewer, make_commitment):
    make_commitment()
    feed, secret = feed_for(viewer)
    before = CalendarFeed.objects.values().get(pk=feed.pk)
    assert client.get(calendar_url(secret)).status_code == 200
    assert client.post(calendar_url(secret)).status_code == 405
    assert list(CalendarFeed.objects.values()) == [before]


def test_a_feed_names_the_target_its_scope_needs(viewer, japan):
    with pytest.raises(ValidationError) as missing:
        feed_for(viewer, FeedScope.AGREEMENT)
    assert "agreement" in missing.value.message_dict
    with pytest.raises(ValidationError) as extra:
        feed_for(viewer, FeedScope.ALL, party=japan)
    assert "party" in extra.value.message_dict
    assert not CalendarFeed.objects.exists()


# The management API: /api/v1/calendar-feeds/


def test_a_user_makes_a_feed_and_sees_its_url_only_once(client, viewer, make_commitment):
    commitment = make_commitment(category=Category.TARIFF)
    client.force_login(viewer)

    made = client.post(
        reverse("api:feeds:calendar-feed-list"),
        {"scope": "agreement", "agreement": commitment.agreement_id, "name": "Summit"},
        content_type="application/json",
    )

    assert made.status_code == 201, made.content
    url = made.json()["subscribe_url"]
    assert url.startswith("http://testserver/api/v1/calendar/") and url.endswith(".ics")
    feed = CalendarFeed.objects.get()
    secret = url.removeprefix("http://testserver").split("/")[-1][: -len(".ics")]
    assert (feed.user, feed.scope, feed.agreement_id, feed.name, feed.revoked_at) == (
        viewer, FeedScope.AGREEMENT, commitment.agreement_id, "Summit", None)
    assert feed.secret_hash == feed_services.secret_hash(secret) != secret
    listed = client.get(reverse("api:feeds:calendar-feed-list")).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["subscribe_url"] for row in rows] == [None]
    client.logout()
    calendar = fetch(client, url.removeprefix("http://testserver").split("/")[-1][: -len(".ics")])
    assert str(calendar["X-WR-CALNAME"]) == "Summit"


def test_a_bad_feed_request_names_the_field(client, viewer):
    client.force_login(viewer)
    answer = client.post(
        reverse("api:feeds:calendar-feed-list"),
        {"scope": "party"},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert "party" in answer.json()
    assert not CalendarFeed.objects.exists()


def test_rotate_and_revoke_through_the_api(client, viewer, make_commitment):
    make_commitment()
    feed, old = feed_for(viewer)
    client.force_login(viewer)

    rotated = client.post(reverse("api:feeds:calendar-feed-rotate", args=[feed.pk]))
    assert rotated.status_code == 200
    new = rotated.json()["subscribe_url"].split("/")[-1][: -len(".ics")]
    assert client.get(calendar_url(old)).status_code == 404
    assert client.get(calendar_url(new)).status_code == 200

    revoked = client.delete(reverse("api:feeds:calendar-feed-detail", args=[feed.pk]))
    assert revoked.status_code == 204
    assert client.get(calendar_url(new)).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is not None


def test_someone_elses_feed_is_not_found(client, viewer, editor):
    """Feeds are private: another user's id answers 404 and nothing changes."""
    feed, secret = feed_for(editor)
    client.force_login(viewer)

    detail = reverse("api:feeds:calendar-feed-detail", args=[feed.pk])
    assert client.get(detail).status_code == 404
    assert client.post(reverse("api:feeds:calendar-feed-rotate", args=[feed.pk])).status_code == 404
    assert client.delete(detail).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is None
    assert feed.secret_hash == feed_services.secret_hash(secret)


def test_anonymous_callers_cannot_manage_feeds(client):
    assert client.get(reverse("api:feeds:calendar-feed-list")).status_code == 401


# The admin


def _subscribe_urls(response) -> list[str]:
    return [
        word
        for message in response.context["messages"]
        for word in str(message).split()
        if word.endswith(".ics")
    ]


def test_an_admin_makes_a_feed_for_a_user_and_sees_its_url_once(
    admin_client, viewer, make_commitment
):
    commitment = make_commitment()

    made = admin_client.post(
        reverse("admin:feeds_calendarfeed_add"),
        {"user": viewer.pk, "name": "Desk", "scope": "all", "agreement": "", "party": ""},
        follow=True,
    )

    [url] = _subscribe_urls(made)
    feed = CalendarFeed.objects.get()
    assert feed.user == viewer
    secret = url.rsplit("/", 1)[-1].removesuffix(".ics")
    assert feed.secret_hash == feed_services.secret_hash(secret)
    assert list(events_by_uid(fetch(admin_client, secret))) == [uid(commitment)]
    page = admin_client.get(reverse("admin:feeds_calendarfeed_change", args=[feed.pk]))
    assert secret not in page.content.decode()


def test_the_admin_rotates_and_revokes_feeds_in_bulk(admin_client, viewer, editor):
    first, first_secret = feed_for(viewer)
    second, _secret = feed_for(editor)
    changelist = reverse("admin:feeds_calendarfeed_changelist")

    rotated = admin_client.post(
        changelist,
        {"action": "rotate", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )

    assert len(_subscribe_urls(rotated)) == 2
    assert admin_client.get(calendar_url(first_secret)).status_code == 404
    admin_client.post(changelist, {"action": "revoke", "_selected_action": [first.pk]})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.revoked_at is not None
    assert second.revoked_at is None


def test_a_feed_costs_the_same_queries_for_few_or_many_deadlines(
    client, viewer, make_commitment, usa
):
    """No query per event: a feed of 20 deadlines costs what a feed of 2 does."""
    subscription_create(user=viewer, scope="party", party=usa, lead_days=[5])
    subscription_create(user=viewer, scope="all", lead_days=[9])
    _feed, secret = feed_for(viewer)
    counts = []
    for extra in (2, 18):
        for _ in range(extra):
            make_commitment(beneficiaries=[usa])
        with CaptureQueriesContext(connection) as queries:
            assert client.get(calendar_url(secret)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_feed_leaves_out_closed_deadlines_more_than_a_year_past_but_keeps_open_ones(
    client, viewer, make_commitment, editor, source
):
    """Old closed deadlines only weigh on every poll; an old overdue one is what an analyst
    chases, so it stays, and the calendar's description says so."""
    closed = make_commitment(title="Met")
    still_open = make_commitment(title="Still not met")
    svc.commitment_change_status(
        commitment=closed,
        status=Status.FULFILLED,
        user=editor,
        now=AFTER_DUE,
        note="Done.",
        evidence_source=source,
        evidence_quote="La réunion a eu lieu.",
    )
    _feed, secret = feed_for(viewer)

    with time_machine.travel(dt.datetime(2027, 4, 25, 12, tzinfo=dt.UTC), tick=False):
        calendar = fetch(client, secret)
        assert set(events_by_uid(calendar)) == {uid(closed), uid(still_open)}
        description = str(calendar["X-WR-CALDESC"])
        assert "on or after 2026-04-25, and older ones still open (overdue)" in description
    with time_machine.travel(dt.datetime(2027, 4, 28, 12, tzinfo=dt.UTC), tick=False):
        events = events_by_uid(fetch(client, secret))
        assert list(events) == [uid(still_open)]
        assert "Overdue" in events[uid(still_open)]["CATEGORIES"].cats


def test_a_shared_commitment_names_every_obligor(client, viewer, make_commitment, usa):
    shared = make_commitment(title="Meet within 180 days")
    svc.commitment_update(commitment=shared, co_obligors=[usa])
    alone = make_commitment(title="Invest")
    _feed, secret = feed_for(viewer)

    events = events_by_uid(fetch(client, secret))

    assert "Obligors: Japan, United States" in str(events[uid(shared)]["DESCRIPTION"])
    assert "Obligor: Japan\n" in str(events[uid(alone)]["DESCRIPTION"])


def test_a_huge_feed_is_capped_to_the_soonest_deadlines(
    client, viewer, make_commitment, monkeypatch
):
    monkeypatch.setattr("feeds.selectors.FEED_MAX_EVENTS", 2)
    thirty, ten, twenty = (make_commitment(offset_amount=days) for days in (30, 10, 20))
    _feed, secret = feed_for(viewer)

    events = list(events_by_uid(fetch(client, secret)))

    assert events == [uid(ten), uid(twenty)]
    assert uid(thirty) not in events


@time_machine.travel(BEFORE_DUE, tick=False)
def test_a_french_readers_feed_names_the_deadlines_in_french_else_in_english(
    client, viewer, editor, make_commitment, japan, agreement
):
    """The feed is in its owner's language; a text without a translation stays English."""
    japan.name_fr = "Japon"
    japan.save(update_fields=["name_fr"])
    translated = make_commitment(
        title="Hold the ministerial", title_fr="Tenir la réunion ministérielle"
    )
    untranslated = make_commitment(title="Cut tariffs")
    user_set_language(user=viewer, language="fr")
    _feed, french_secret = feed_for(viewer)
    _feed, english_secret = feed_for(editor)

    french = events_by_uid(fetch(client, french_secret))
    english = events_by_uid(fetch(client, english_secret))

    assert str(french[uid(translated)]["SUMMARY"]) == "Tenir la réunion ministérielle"
    assert str(french[uid(untranslated)]["SUMMARY"]) == "Cut tariffs"
    assert "Japon" in str(french[uid(translated)]["DESCRIPTION"])
    assert agreement.title in str(french[uid(translated)]["DESCRIPTION"])
    assert str(english[uid(translated)]["SUMMARY"]) == "Hold the ministerial"
    assert "Obligor: Japan\n" in str(english[uid(translated)]["DESCRIPTION"])
