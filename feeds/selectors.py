"""Reads behind the calendar feeds: which feed a secret opens, and the deadlines it shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse

from accounts.services import user_language
from alerts.selectors import default_lead_days, watch_leads, watched_commitments_sql
from commitments.choices import TERMINAL, RecurrenceKind, Status
from commitments.deadlines.text import commitment_rule_in_words, deadline_explanation
from commitments.models import DUE_DATE_RELATIONS, Commitment, Occurrence
from commitments.querysets import overdue_q
from commitments.selectors import obligors_prefetch, revisions_prefetch
from commitments.translations import localized_text
from core.roles import can_read

from .ical import DeadlineEvent
from .models import CalendarFeed, FeedScope
from .services import secret_hash

#: The calendar route's name: ``feeds.api.urls`` is included in the API's ``api`` namespace.
CALENDAR_URL_NAME = "api:feeds:calendar"


def feed_url(*, request: Any, secret: str) -> str:
    """Return the absolute subscription URL of a secret."""
    return str(request.build_absolute_uri(reverse(CALENDAR_URL_NAME, args=[secret])))


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
    """Match commitments the parties owe (as obligor or co-obligor) or benefit from."""
    party_ids = list(party_ids)
    benefits = Commitment.beneficiaries.through.objects.filter(party_id__in=party_ids)
    shared = Commitment.co_obligors.through.objects.filter(party_id__in=party_ids)
    return (
        Q(obligor_id__in=party_ids)
        | Q(pk__in=shared.values("commitment_id"))
        | Q(pk__in=benefits.values("commitment_id"))
    )


def watchlist_q(*, user: User) -> Q:
    """Match the commitments ``user`` watches, by the alerts' rule (:mod:`alerts.selectors`)."""
    sql, params = watched_commitments_sql(user_id=user.pk)
    # Table names from model metadata and placeholders only: every value is a parameter.
    return Q(pk__in=RawSQL(sql, params))  # noqa: S611


#: A feed shows deadlines from this long ago on, and older ones still open (overdue: an analyst
#: wants them); closed older ones only weigh on every poll.
FEED_PAST = dt.timedelta(days=365)
#: At most this many events, soonest first: calendar apps give up on much larger files.
FEED_MAX_EVENTS = 2000


def feed_start(*, now: dt.datetime) -> dt.date:
    """Return the earliest due date a feed shows at ``now``, overdue deadlines apart."""
    return (now - FEED_PAST).date()


def feed_window_q(*, now: dt.datetime) -> Q:
    """Match the deadlines a feed shows: due from :func:`feed_start` on, or open and overdue.

    Serves the commitments and the occurrences alike (their columns have the same names).
    """
    return Q(due_date__gte=feed_start(now=now)) | overdue_q(now=now)


def feed_commitments(*, feed: CalendarFeed, now: dt.datetime) -> QuerySet[Commitment]:
    """Return the feed's commitments in :func:`feed_window_q`, soonest first, capped."""
    commitments = Commitment.objects.filter(feed_window_q(now=now))
    if feed.scope == FeedScope.AGREEMENT:
        commitments = commitments.filter(agreement=feed.agreement)
    elif feed.scope == FeedScope.PARTY:
        commitments = commitments.filter(_party_q([feed.party_id]))
    elif feed.scope == FeedScope.WATCHLIST:
        commitments = commitments.filter(watchlist_q(user=feed.user))
    # The events show the rule in words: its agreement's date and its anchor commitment.
    return (
        commitments.with_overdue(now)
        .select_related("obligor", *DUE_DATE_RELATIONS)
        .prefetch_related(revisions_prefetch(), obligors_prefetch())
        .order_by("due_date", "id")[:FEED_MAX_EVENTS]
    )


def lead_days_by_commitment(
    *, user: User, commitments: Sequence[Commitment]
) -> dict[int, tuple[int, ...]]:
    """Return each commitment's alarm lead times for ``user``, in days (0: the day after).

    The lead times with which the user watches it (:func:`alerts.selectors.watch_leads`, the
    rule the alerts follow: none for a watch without lead times); a commitment the user does
    not watch (in an everything, agreement or party feed) has the default lead times.
    """
    watched = watch_leads(user_id=user.pk, commitment_ids=[c.pk for c in commitments])
    default = default_lead_days()
    return {commitment.pk: watched.get(commitment.pk, default) for commitment in commitments}


def site_host() -> str:
    """Return the host name that makes event UIDs globally unique."""
    return urlsplit(settings.SITE_URL).hostname or "commitment-tracker"


def feed_title(*, feed: CalendarFeed) -> str:
    """Return the calendar's display name."""
    if feed.name:
        return feed.name
    if feed.agreement is not None:
        return f"Deadlines: {localized_text(feed.agreement, 'title')}"
    if feed.party is not None:
        return f"Deadlines: {localized_text(feed.party, 'name')}"
    if feed.scope == FeedScope.WATCHLIST:
        return "Deadlines I watch"
    return "Commitment deadlines"


def feed_description(*, now: dt.datetime) -> str:
    """Return the calendar's description: what it shows."""
    return (
        f"Commitment deadlines due on or after {feed_start(now=now).isoformat()}, and older "
        f"ones still open (overdue), soonest first, at most {FEED_MAX_EVENTS}. All-day events "
        "on the due date; alarms at the lead times of your subscriptions."
    )


def feed_language(*, feed: CalendarFeed, default: str | None = None) -> str:
    """Return the language a feed is written in: its owner's, ``default`` if they chose none."""
    return user_language(user=feed.user, default=default)


def feed_events(*, feed: CalendarFeed, now: dt.datetime) -> list[DeadlineEvent]:
    """Return the feed's deadline events as seen at ``now`` (see :func:`feed_commitments`).

    Titles and names are in the active language (:func:`feed_language` for a subscriber's
    feed), English where a text has no translation.

    Overdue is ``Commitment.objects.overdue(now)``, computed by the query. Its last change is
    its own, or the moment it became overdue if later, so a subscriber sees the overdue mark
    as a change. Finished commitments have no alarms.
    """
    commitments = list(feed_commitments(feed=feed, now=now))
    leads = lead_days_by_commitment(user=feed.user, commitments=commitments)
    site = settings.SITE_URL.rstrip("/")
    statuses = dict(Status.choices)
    events = []
    occurrences = _occurrences_by_commitment(commitments=commitments, now=now)
    for commitment in commitments:
        if commitment.recurrence != RecurrenceKind.NONE:
            events += _occurrence_events(
                commitment, occurrences.get(commitment.pk, []), leads[commitment.pk], site
            )
            continue
        due_date, due_at = commitment.due_date, commitment.due_at
        if due_date is None or due_at is None:  # excluded by the query; narrows the types
            continue
        finished = commitment.status in TERMINAL
        overdue = commitment.is_overdue  # type: ignore[attr-defined]  # with_overdue's
        events.append(
            DeadlineEvent(
                commitment_id=commitment.pk,
                title=localized_text(commitment, "title"),
                due_date=due_date,
                due_at=due_at,
                time_zone=commitment.agreement.time_zone,
                agreement_title=localized_text(commitment.agreement, "title"),
                obligor_names=tuple(
                    localized_text(party, "name") for party in commitment.obligor_list
                ),
                category_label=str(commitment.get_category_display()),
                status_label=str(statuses.get(commitment.status, commitment.status)),
                rule_words=commitment_rule_in_words(commitment),
                deadline_phrase=commitment.deadline_phrase,
                url=site + commitment.get_absolute_url(),
                overdue=overdue,
                cancelled=commitment.status == Status.CANCELLED,
                lead_days=() if finished else leads[commitment.pk],
                last_modified=max(commitment.updated, due_at) if overdue else commitment.updated,
                due_precision=commitment.due_precision,
                explanation=deadline_explanation(commitment),
            )
        )
    events.sort(key=lambda event: (event.due_date, event.commitment_id))
    return events[:FEED_MAX_EVENTS]


def _occurrences_by_commitment(
    *, commitments: Sequence[Commitment], now: dt.datetime
) -> dict[int, list[Occurrence]]:
    """Return the shown occurrences of the recurring ``commitments``, in one query."""
    ids = [c.pk for c in commitments if c.recurrence != RecurrenceKind.NONE]
    grouped: dict[int, list[Occurrence]] = {}
    if not ids:
        return grouped
    rows = (
        Occurrence.objects.filter(feed_window_q(now=now), commitment_id__in=ids)
        .with_overdue(now)
        .order_by("due_date", "id")
    )
    for row in rows:
        grouped.setdefault(row.commitment_id, []).append(row)
    return grouped


def _occurrence_events(
    commitment: Commitment, occurrences: Sequence[Occurrence], leads: Sequence[int], site: str
) -> list[DeadlineEvent]:
    """Return one event per occurrence of a recurring commitment, each with its own status."""
    statuses = dict(Status.choices)
    rule_words = commitment_rule_in_words(commitment)
    events = []
    for occurrence in occurrences:
        overdue = occurrence.is_overdue  # type: ignore[attr-defined]  # with_overdue's
        updated = max(commitment.updated, occurrence.updated)
        events.append(
            DeadlineEvent(
                commitment_id=commitment.pk,
                title=localized_text(commitment, "title"),
                due_date=occurrence.due_date,
                due_at=occurrence.due_at,
                time_zone=commitment.agreement.time_zone,
                agreement_title=localized_text(commitment.agreement, "title"),
                obligor_names=tuple(
                    localized_text(party, "name") for party in commitment.obligor_list
                ),
                category_label=str(commitment.get_category_display()),
                status_label=str(statuses.get(occurrence.status, occurrence.status)),
                rule_words=rule_words,
                deadline_phrase=commitment.deadline_phrase,
                url=site + commitment.get_absolute_url(),
                overdue=overdue,
                cancelled=occurrence.status == Status.CANCELLED,
                lead_days=() if occurrence.status in TERMINAL else leads,
                last_modified=max(updated, occurrence.due_at) if overdue else updated,
                occurrence=occurrence.sequence,
            )
        )
    return events
