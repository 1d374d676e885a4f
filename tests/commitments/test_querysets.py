"""One home for "open", "overdue" and "due within N days" (commitments/querysets.py).

Every boundary is the due instant: the end of the due day in the agreement's time zone (here
Asia/Tokyo), one second either side. Every surface that shows or acts on those rules (the
scan, the admin's due filter, the dashboard, the calendar feeds, the webhook events, the
list filters) is checked against the queryset method at the same instants.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from alerts.models import Alert
from alerts.services.scan import scan
from commitments.choices import DeadlineState, Status
from commitments.models import Commitment
from commitments.roles import VIEWERS
from commitments.services import commitments as svc
from commitments.services.deadline_states import deadline_states_flag
from dashboard import selectors as dashboard_selectors
from feeds import selectors as feed_selectors
from feeds import services as feed_services
from feeds.models import FeedScope
from webhooks.models import EventKind, WebhookEvent
from webhooks.services.endpoints import webhook_endpoint_create

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
DUE_DATE = dt.date(2026, 4, 26)
#: The end of 26 April 2026 in Tokyo: 14:59:59.999999 UTC.
DUE_AT = dt.datetime(2026, 4, 26, 23, 59, 59, 999999, tzinfo=TOKYO)
SECOND = dt.timedelta(seconds=1)
BEFORE, AT, AFTER = DUE_AT - SECOND, DUE_AT, DUE_AT + SECOND
CREATED_AT = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def created_long_before():
    with time_machine.travel(CREATED_AT, tick=False):
        yield


@pytest.fixture
def due(make_commitment, django_user_model):
    """An open commitment due at :data:`DUE_AT`, owned by a user (who watches it)."""
    owner = django_user_model.objects.create_user(username="owner", email="owner@example.org")
    commitment = make_commitment(
        deadline_kind="fixed",
        deadline_date=DUE_DATE,
        offset_amount=None,
        offset_unit="",
        anchor_kind="",
        owner=owner,
    )
    assert commitment.due_at == DUE_AT
    return commitment


@pytest.fixture
def closed(make_commitment):
    """A cancelled commitment due at the same instant: never open, overdue or due."""
    commitment = make_commitment(
        deadline_kind="fixed",
        deadline_date=DUE_DATE,
        offset_amount=None,
        offset_unit="",
        anchor_kind="",
    )
    svc.commitment_change_status(commitment=commitment, status=Status.CANCELLED)
    return commitment


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


# The queryset methods, at each boundary --------------------------------------------------


@pytest.mark.parametrize(("now", "expected"), [(BEFORE, False), (AT, False), (AFTER, True)])
def test_overdue_only_after_the_due_instant(due, closed, now, expected):
    assert ids(Commitment.objects.overdue(now)) == ({due.pk} if expected else set())


@pytest.mark.parametrize(("now", "expected"), [(BEFORE, True), (AT, True), (AFTER, False)])
def test_due_within_until_the_due_instant_included(due, closed, now, expected):
    assert ids(Commitment.objects.due_within(now, 7)) == ({due.pk} if expected else set())


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DUE_AT - dt.timedelta(days=7) - SECOND, False),
        (DUE_AT - dt.timedelta(days=7), True),
        (DUE_AT - dt.timedelta(days=7) + SECOND, True),
    ],
)
def test_due_within_counts_exact_days_back_from_the_due_instant(due, now, expected):
    assert ids(Commitment.objects.due_within(now, 7)) == ({due.pk} if expected else set())


@pytest.mark.parametrize(("now", "expected"), [(BEFORE, True), (AT, True), (AFTER, False)])
def test_due_soon_until_the_due_instant_included(due, closed, settings, now, expected):
    settings.TRACKER_DUE_SOON_DAYS = 30
    assert ids(Commitment.objects.due_soon(now)) == ({due.pk} if expected else set())


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DUE_AT - dt.timedelta(days=30) - SECOND, True),
        (DUE_AT - dt.timedelta(days=30), False),
        (DUE_AT - dt.timedelta(days=30) + SECOND, False),
    ],
)
def test_on_track_until_the_due_soon_window(due, closed, settings, now, expected):
    settings.TRACKER_DUE_SOON_DAYS = 30
    assert ids(Commitment.objects.on_track(now)) == ({due.pk} if expected else set())


@pytest.mark.parametrize(("now", "expected"), [(BEFORE, True), (AT, True), (AFTER, False)])
def test_upcoming_until_the_due_instant_included(due, closed, now, expected):
    assert ids(Commitment.objects.upcoming(now)) == ({due.pk} if expected else set())


@pytest.mark.parametrize("now", [BEFORE, AT, AFTER])
def test_open_is_the_status_only(due, closed, make_commitment, now):
    undated = make_commitment(
        deadline_kind="none", offset_amount=None, offset_unit="", anchor_kind=""
    )
    assert ids(Commitment.objects.open()) == {due.pk, undated.pk}
    assert ids(Commitment.objects.undated()) == {undated.pk}


@pytest.mark.parametrize(("now", "expected"), [(BEFORE, False), (AT, False), (AFTER, True)])
def test_with_overdue_annotates_as_overdue_filters(due, closed, now, expected):
    flags = dict(Commitment.objects.with_overdue(now).values_list("pk", "is_overdue"))
    assert flags == {due.pk: expected, closed.pk: False}


# Every surface agrees with the methods ----------------------------------------------------


@pytest.fixture
def overdue_endpoint(viewer, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    return webhook_endpoint_create(
        owner=viewer,
        target_url="http://127.0.0.1:9/hook",
        secret="whsec-test-0123456789abcdef",
        events=[EventKind.OVERDUE],
    )


@pytest.mark.parametrize("now", [BEFORE, AT, AFTER])
def test_the_scan_flags_and_alerts_as_the_methods_say(due, closed, overdue_endpoint, now):
    """The scan's states, overdue notice and webhook overdue event follow ``overdue(now)``."""
    overdue = ids(Commitment.objects.overdue(now))
    due_soon = ids(Commitment.objects.due_soon(now))
    scan(now=now)
    assert ids(Commitment.objects.filter(deadline_state=DeadlineState.OVERDUE)) == overdue
    assert ids(Commitment.objects.filter(deadline_state=DeadlineState.DUE_SOON)) == due_soon
    for state in DeadlineState.values:
        stored = ids(Commitment.objects.filter(deadline_state=state))
        assert stored == ids(Commitment.objects.in_deadline_state(state, now)), state
    notices = set(Alert.objects.filter(threshold=0).values_list("commitment_id", flat=True))
    assert notices == overdue
    events = WebhookEvent.objects.filter(kind=EventKind.OVERDUE)
    assert set(events.values_list("commitment_id", flat=True)) == overdue
    assert ids(Commitment.objects.flagged(DeadlineState.OVERDUE, now)) == overdue


@pytest.mark.parametrize("now", [BEFORE, AT, AFTER])
@pytest.mark.parametrize(
    ("choice", "method"),
    [
        ("overdue", lambda now: Commitment.objects.overdue(now)),
        ("next_7", lambda now: Commitment.objects.due_within(now, 7)),
        ("next_30", lambda now: Commitment.objects.due_within(now, 30)),
        ("none", lambda now: Commitment.objects.undated()),
    ],
)
def test_the_admin_due_filter_is_the_method(client, admin_user, due, closed, now, choice, method):
    with time_machine.travel(now, tick=False):
        client.force_login(admin_user)  # at ``now``: a session from months ago has expired
        response = client.get(reverse("admin:commitments_commitment_changelist"), {"due": choice})
    assert response.status_code == 200
    assert {c.pk for c in response.context["cl"].result_list} == ids(method(now))


@pytest.mark.parametrize("now", [BEFORE, AT, AFTER])
def test_the_dashboard_counts_and_lists_are_the_methods(due, closed, now):
    data = dashboard_selectors.overview(now=now, today=now.astimezone(TOKYO).date())
    assert data.counts["overdue"] == Commitment.objects.overdue(now).count()
    assert data.counts["due_7"] == Commitment.objects.due_within(now, 7).count()
    assert data.counts["due_30"] == Commitment.objects.due_within(now, 30).count()
    assert {c.pk for c in data.overdue} == ids(Commitment.objects.overdue(now))
    assert {c.pk for c in data.upcoming} == ids(Commitment.objects.upcoming(now))


@pytest.mark.parametrize("now", [BEFORE, AT, AFTER])
def test_the_dashboard_lists_behind_the_counts_are_the_methods(
    client, reviewer_user, due, closed, now
):
    with time_machine.travel(now, tick=False):
        client.force_login(reviewer_user)  # at ``now``: a session from months ago has expired
        page = client.get(reverse("dashboard:overview"))
        links = page.context["links"]
        for name, method in [
            ("overdue", Commitment.objects.overdue(now)),
            ("due_7", Commitment.objects.due_within(now, 7)),
            ("due_30", Commitment.objects.due_within(now, 30)),
        ]:
            listed = client.get(reverse("dashboard:commitments") + "?" + links[name])
            assert {c.pk for c in listed.context["page"].object_list} == ids(method), name
            assert page.context["data"].counts[name] == method.count()


@pytest.mark.parametrize("now", [BEFORE, AT, AFTER])
def test_the_calendar_feed_marks_overdue_as_the_method(due, closed, now):
    feed, _secret = feed_services.calendar_feed_create(
        user=due.owner, scope=FeedScope.ALL, now=CREATED_AT
    )
    events = feed_selectors.feed_events(feed=feed, now=now)
    assert {e.commitment_id for e in events if e.overdue} == ids(Commitment.objects.overdue(now))


@pytest.fixture
def reviewer_user(django_user_model):
    user = django_user_model.objects.create_user("rita", "rita@example.org", "pw")
    user.groups.add(Group.objects.get(name=VIEWERS))
    return user


# The domain flags its own deadline states -------------------------------------------------


def test_the_domain_flags_states_once_and_tells_the_webhooks(due, closed, overdue_endpoint):
    """``deadline_states_flag`` moves rows (no alerts involved); a second run moves none."""
    assert deadline_states_flag(now=AT) == {
        DeadlineState.NONE: 0,
        DeadlineState.ON_TRACK: 0,
        DeadlineState.DUE_SOON: 1,
        DeadlineState.OVERDUE: 0,
        DeadlineState.SUSPENDED: 0,
    }
    moved = deadline_states_flag(now=AFTER)
    assert moved[DeadlineState.OVERDUE] == 1 and sum(moved.values()) == 1
    due.refresh_from_db()
    assert (due.deadline_state, due.flagged_at) == (DeadlineState.OVERDUE, AFTER)
    events = WebhookEvent.objects.filter(kind=EventKind.OVERDUE)
    assert list(events.values_list("commitment_id", "occurred_at")) == [(due.pk, AFTER)]
    assert sum(deadline_states_flag(now=AFTER).values()) == 0
    due.refresh_from_db()
    assert due.flagged_at == AFTER
    assert events.count() == 1
    assert not Alert.objects.exists()
