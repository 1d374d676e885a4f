"""Reads behind the calendar feeds: which feed a secret opens, and the deadlines it shows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from alerts.models import OVERDUE_LEAD, Subscription, SubscriptionScope
from commitments.choices import TERMINAL, Status
from commitments.deadline_text import commitment_rule_in_words
from commitments.models import Commitment
from commitments.roles import can_read

from .ical import DeadlineEvent
from .models import CalendarFeed, FeedScope
from .services import secret_hash


def calendar_feed_for_secret(*, secret: str) -> CalendarFeed | None:
    """Return the live feed the secret opens, or ``None``.

    ``None`` for an unknown, rotated-away or revoked secret, and for a feed whose user is
    inactive or may no longer read commitments: the feed never shows more than its user's
    rights allow today.
    """
    feed = (
        CalendarFeed.objects.select_related("user", "agreement", "party")
        .filter(secret_hash=secret_hash(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None or not can_read(feed.user):
        return None
    return feed


def _party_q(party_ids: Iterable[int | None]) -> Q:
    """Match commitments the parties owe or benefit from."""
    party_ids = list(party_ids)
    benefits = Commitment.beneficiaries.through.objects.filter(party_id__in=party_ids)
    return Q(obligor_id__in=party_ids) | Q(pk__in=benefits.values("commitment_id"))


def watchlist_q(*, user: User) -> Q:
    """Match the commitments ``user`` watches: their subscriptions' and those they own."""
    targets = Subscription.objects.filter(user=user).values_list(
        "scope", "agreement_id", "party_id", "commitment_id"
    )
    agreements: set[int | None] = set()
    parties: set[int | None] = set()
    commitments: set[int | None] = set()
    for scope, agreement_id, party_id, commitment_id in targets:
        if scope == SubscriptionScope.ALL:
            return Q()
        if scope == SubscriptionScope.AGREEMENT:
            agreements.add(agreement_id)
        elif scope == SubscriptionScope.PARTY:
            parties.add(party_id)
        elif scope == SubscriptionScope.COMMITMENT:
            commitments.add(commitment_id)
    q = Q(owner=user) | Q(agreement_id__in=agreements) | Q(pk__in=commitments)
    if parties:
        q |= _party_q(parties)
    return q


#: A feed shows deadlines from this long ago on; older ones only weigh on every poll.
FEED_PAST = dt.timedelta(days=365)
#: At most this many events, soonest first: calendar apps give up on much larger files.
FEED_MAX_EVENTS = 2000


def feed_start(*, now: dt.datetime) -> dt.date:
    """Return the earliest due date a feed shows at ``now``."""
    return (now - FEED_PAST).date()


def feed_commitments(*, feed: CalendarFeed, now: dt.datetime) -> QuerySet[Commitment]:
    """Return the feed's commitments due from :func:`feed_start` on, soonest first, capped."""
    commitments = Commitment.objects.filter(due_date__gte=feed_start(now=now))
    if feed.scope == FeedScope.AGREEMENT:
        commitments = commitments.filter(agreement=feed.agreement)
    elif feed.scope == FeedScope.PARTY:
        commitments = commitments.filter(_party_q([feed.party_id]))
    elif feed.scope == FeedScope.WATCHLIST:
        commitments = commitments.filter(watchlist_q(user=feed.user))
    # The events show the rule in words: its agreement's date and its anchor commitment.
    commitments = commitments.select_related("agreement", "obligor", "anchor_commitment")
    return commitments.order_by("due_date", "id")[:FEED_MAX_EVENTS]


def default_lead_days() -> tuple[int, ...]:
    """Return the lead times of an unwatched commitment: the settings' and the day after."""
    return tuple(sorted({*settings.TRACKER_DEFAULT_LEAD_DAYS, OVERDUE_LEAD}, reverse=True))


def lead_days_by_commitment(
    *, user: User, commitments: Sequence[Commitment]
) -> dict[int, tuple[int, ...]]:
    """Return each commitment's alarm lead times for ``user``, in days (0: the day after).

    As the alerts do: the union of the leads of the user's subscriptions that watch the
    commitment (a subscription without leads asks for none). A commitment none of them
    watches (one the user owns, or one in an everything, agreement or party feed) has
    :func:`default_lead_days`.
    """
    everything: set[int] | None = None
    by_agreement: dict[int | None, set[int]] = defaultdict(set)
    by_party: dict[int | None, set[int]] = defaultdict(set)
    by_commitment: dict[int | None, set[int]] = defaultdict(set)
    for subscription in Subscription.objects.filter(user=user).prefetch_related("leads"):
        leads = {lead.days for lead in subscription.leads.all()}
        if subscription.scope == SubscriptionScope.ALL:
            everything = (everything or set()) | leads
        elif subscription.scope == SubscriptionScope.AGREEMENT:
            by_agreement[subscription.agreement_id] |= leads
        elif subscription.scope == SubscriptionScope.PARTY:
            by_party[subscription.party_id] |= leads
        elif subscription.scope == SubscriptionScope.COMMITMENT:
            by_commitment[subscription.commitment_id] |= leads
    parties_of: dict[int, set[int]] = defaultdict(set)
    if by_party:
        for commitment_id, party_id in Commitment.beneficiaries.through.objects.filter(
            party_id__in=list(by_party)
        ).values_list("commitment_id", "party_id"):
            parties_of[commitment_id].add(party_id)
    default = default_lead_days()
    result = {}
    for commitment in commitments:
        matched = [
            leads
            for leads in (
                everything,
                by_agreement.get(commitment.agreement_id),
                by_commitment.get(commitment.pk),
                *(
                    by_party.get(party_id)
                    for party_id in {commitment.obligor_id, *parties_of.get(commitment.pk, ())}
                ),
            )
            if leads is not None
        ]
        union = set().union(*matched)
        result[commitment.pk] = tuple(sorted(union, reverse=True)) if matched else default
    return result


def site_host() -> str:
    """Return the host name that makes event UIDs globally unique."""
    return urlsplit(settings.SITE_URL).hostname or "commitment-tracker"


def feed_title(*, feed: CalendarFeed) -> str:
    """Return the calendar's display name."""
    if feed.name:
        return feed.name
    if feed.agreement is not None:
        return f"Deadlines: {feed.agreement.title}"
    if feed.party is not None:
        return f"Deadlines: {feed.party.name}"
    if feed.scope == FeedScope.WATCHLIST:
        return "Deadlines I watch"
    return "Commitment deadlines"


def feed_description(*, now: dt.datetime) -> str:
    """Return the calendar's description: what it shows."""
    return (
        f"Commitment deadlines due on or after {feed_start(now=now).isoformat()}, soonest "
        f"first, at most {FEED_MAX_EVENTS}. All-day events on the due date; alarms at the "
        "lead times of your subscriptions."
    )


def feed_events(*, feed: CalendarFeed, now: dt.datetime) -> list[DeadlineEvent]:
    """Return the feed's deadline events as seen at ``now`` (see :func:`feed_commitments`).

    A commitment is overdue once its due instant has passed and it is not fulfilled, missed
    or cancelled. Its last change is its own, or the moment it became overdue if later, so
    a subscriber sees the overdue mark as a change. Finished commitments have no alarms.
    """
    commitments = list(feed_commitments(feed=feed, now=now))
    leads = lead_days_by_commitment(user=feed.user, commitments=commitments)
    site = settings.SITE_URL.rstrip("/")
    statuses = dict(Status.choices)
    events = []
    for commitment in commitments:
        due_date, due_at = commitment.due_date, commitment.due_at
        if due_date is None or due_at is None:  # excluded by the query; narrows the types
            continue
        finished = commitment.status in TERMINAL
        overdue = not finished and due_at < now
        events.append(
            DeadlineEvent(
                commitment_id=commitment.pk,
                title=commitment.title,
                due_date=due_date,
                due_at=due_at,
                time_zone=commitment.agreement.time_zone,
                agreement_title=commitment.agreement.title,
                obligor_name=commitment.obligor.name,
                category_label=str(commitment.get_category_display()),
                status_label=str(statuses.get(commitment.status, commitment.status)),
                rule_words=commitment_rule_in_words(commitment),
                deadline_phrase=commitment.deadline_phrase,
                url=site + commitment.get_absolute_url(),
                overdue=overdue,
                cancelled=commitment.status == Status.CANCELLED,
                lead_days=() if finished else leads[commitment.pk],
                last_modified=max(commitment.updated, due_at) if overdue else commitment.updated,
            )
        )
    return events
