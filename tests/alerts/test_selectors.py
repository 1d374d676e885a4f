"""One rule for who watches a commitment (alerts/selectors.py), for the alerts and the feeds.

For every way of watching - everything, an agreement, a party that owes or benefits, one
commitment, owning it (with and without a subscription of one's own that matches), a
subscription without lead times - and for those who do not watch (an inactive user, a user
without subscriptions, a party subscription that does not match), the alerts the scan writes,
the alarms a calendar feed shows and the watchlist feed agree with each other and with the rule.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from alerts.models import Alert, SubscriptionLead, SubscriptionScope
from alerts.selectors import default_lead_days
from alerts.services.scan import scan
from alerts.services.subscriptions import subscription_create
from commitments.models import Commitment
from feeds import selectors as feed_selectors
from feeds import services as feed_services
from feeds.models import FeedScope

pytestmark = pytest.mark.django_db

DUE_DATE = dt.date(2026, 4, 26)
DUE_AT = dt.datetime(2026, 4, 26, 14, 59, 59, 999999, tzinfo=dt.UTC)
CREATED_AT = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
FIXED = {
    "deadline_kind": "fixed",
    "deadline_date": DUE_DATE,
    "offset_amount": None,
    "offset_unit": "",
    "anchor_kind": "",
}


@pytest.fixture(autouse=True)
def created_long_before():
    with time_machine.travel(CREATED_AT, tick=False):
        yield


@pytest.fixture
def world(make_commitment, django_user_model, agreement, japan, usa):
    """Return (users by name, commitments by name, expected leads per (user, commitment))."""
    users = {
        name: django_user_model.objects.create_user(name, f"{name}@example.org")
        for name in (
            "everything", "agreement", "obligor", "beneficiary", "one", "owner",
            "owner_subscribed", "leadless", "inactive", "nobody",
        )
    }
    users["inactive"].is_active = False
    users["inactive"].save(update_fields=["is_active"])
    japan_owes = make_commitment(
        **FIXED, beneficiaries=[usa], owner=users["owner"]
    )
    usa_owes = make_commitment(**FIXED, obligor=usa, owner=users["owner_subscribed"])
    commitments = {"japan_owes": japan_owes, "usa_owes": usa_owes}

    def subscribe(name: str, scope: str, leads: list[int], **target) -> None:
        subscription = subscription_create(
            user=users[name], scope=scope, lead_days=leads or [1], notify_overdue=False, **target
        )
        if not leads:
            # The service asks for a lead time; a subscription whose leads were removed since
            # (the table allows it) still watches, asking for no alerts.
            SubscriptionLead.objects.filter(subscription=subscription).delete()

    subscribe("everything", SubscriptionScope.ALL, [30])
    subscribe("agreement", SubscriptionScope.AGREEMENT, [14], agreement=agreement)
    subscribe("obligor", SubscriptionScope.PARTY, [10], party=japan)
    subscribe("beneficiary", SubscriptionScope.PARTY, [5], party=usa)
    subscribe("one", SubscriptionScope.COMMITMENT, [3], commitment=japan_owes)
    # Owns usa_owes and watches it through an agreement subscription: its own leads apply.
    subscribe("owner_subscribed", SubscriptionScope.AGREEMENT, [20], agreement=agreement)
    subscribe("leadless", SubscriptionScope.COMMITMENT, [], commitment=usa_owes)
    subscribe("inactive", SubscriptionScope.ALL, [30])
    expected = {
        ("everything", "japan_owes"): (30,),
        ("everything", "usa_owes"): (30,),
        ("agreement", "japan_owes"): (14,),
        ("agreement", "usa_owes"): (14,),
        ("obligor", "japan_owes"): (10,),
        ("beneficiary", "japan_owes"): (5,),
        ("beneficiary", "usa_owes"): (5,),
        ("one", "japan_owes"): (3,),
        ("owner", "japan_owes"): default_lead_days(),
        ("owner_subscribed", "japan_owes"): (20,),
        ("owner_subscribed", "usa_owes"): (20,),
        ("leadless", "usa_owes"): (),
    }
    return users, commitments, expected


def test_the_feeds_leads_and_watchlist_follow_the_rule(world):
    users, commitments, expected = world
    rows = list(Commitment.objects.filter(pk__in=[c.pk for c in commitments.values()]))
    for user_name, user in users.items():
        feed, _secret = feed_services.calendar_feed_create(
            user=user, scope=FeedScope.WATCHLIST, now=CREATED_AT
        )
        watched = {
            name for (who, name) in expected if who == user_name
        }
        listed = {c.pk for c in feed_selectors.feed_commitments(feed=feed, now=CREATED_AT)}
        assert listed == {commitments[name].pk for name in watched}, user_name
        leads = feed_selectors.lead_days_by_commitment(user=user, commitments=rows)
        for name, commitment in commitments.items():
            # A commitment the user does not watch shows the default alarms in a wider feed.
            want = expected.get((user_name, name), default_lead_days())
            assert leads[commitment.pk] == want, (user_name, name)


def test_the_scan_alerts_whom_the_rule_names_with_their_tightest_lead(world):
    _users, commitments, expected = world
    scan(now=DUE_AT - dt.timedelta(seconds=1))
    written = {
        (username, key): threshold
        for username, key, threshold in Alert.objects.values_list(
            "user__username", "commitment__key", "threshold"
        )
    }
    # One second before the due instant every lead time > 0 is crossed: the tightest is sent.
    wanted = {
        (user_name, commitments[name].key): min(days for days in leads if days > 0)
        for (user_name, name), leads in expected.items()
        if any(days > 0 for days in leads)
    }
    assert written == wanted
    assert not any(user == "inactive" for user, _key in written)
    assert not any(user in ("nobody", "leadless") for user, _key in written)
