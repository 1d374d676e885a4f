"""Who watches a commitment, and with which lead times: the one rule, run by the database.

A user watches a commitment through each of their subscriptions that matches it - to
everything, to its agreement, to the commitment itself, or to a party that owes it (the
obligor) or benefits from it (a beneficiary) - with that subscription's lead times (none, if it
has none) and delivery mode. The owner of a commitment watches it with the default lead times
(``TRACKER_DEFAULT_LEAD_DAYS`` and the overdue notice) unless a subscription of theirs matches
it, in which case their own choice applies. Inactive users watch nothing.

The rule is one SQL statement, :func:`watches_sql`, which the deadline scan's alert insert
embeds (over the commitments it considers) and the calendar feeds run for one user
(:func:`watch_leads`, :func:`watched_commitments_sql`), so the alarms a feed shows are the
alerts the scan writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from alerts.models import OVERDUE_LEAD, DeliveryMode, Subscription, SubscriptionLead
from alerts.models import SubscriptionScope as Scope
from commitments.models import Commitment

#: One join per way a subscription ``s`` matches a candidate commitment ``c``.
_SCOPE_JOINS = (
    (Scope.ALL, "JOIN {subscription} s ON s.scope = %s"),
    (Scope.AGREEMENT, "JOIN {subscription} s ON s.scope = %s AND s.agreement_id = c.agreement_id"),
    (Scope.COMMITMENT, "JOIN {subscription} s ON s.scope = %s AND s.commitment_id = c.id"),
    (Scope.PARTY, "JOIN {subscription} s ON s.scope = %s AND s.party_id = c.obligor_id"),
    (
        Scope.PARTY,
        "JOIN {beneficiary} b ON b.commitment_id = c.id"
        " JOIN {subscription} s ON s.scope = %s AND s.party_id = b.party_id",
    ),
)

#: A subscription without lead times still watches (``days`` is NULL): it asks for no alerts.
_SUBSCRIPTION_WATCH = (
    "SELECT s.user_id AS user_id, c.id AS commitment_id, l.days AS days,"
    " CASE WHEN s.mode = %s THEN 1 ELSE 0 END AS digest"
    " FROM candidates c {join} LEFT JOIN {lead} l ON l.subscription_id = s.id"
)

_OWNER_WATCH = (
    "SELECT c.owner_id AS user_id, c.id AS commitment_id, e.days AS days, 0 AS digest"
    " FROM candidates c JOIN edges e ON e.is_default = 1"
    " WHERE c.owner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {subscription} s"
    " WHERE s.user_id = c.owner_id AND (s.scope = %s"
    " OR (s.scope = %s AND s.agreement_id = c.agreement_id)"
    " OR (s.scope = %s AND s.commitment_id = c.id)"
    " OR (s.scope = %s AND (s.party_id = c.obligor_id OR EXISTS (SELECT 1 FROM {beneficiary} b"
    " WHERE b.commitment_id = c.id AND b.party_id = s.party_id)))))"
)

_USER_WATCHES = (
    "WITH edges (days, is_default) AS ({edges}),"
    " candidates (id, agreement_id, obligor_id, owner_id) AS"
    " (SELECT c.id, c.agreement_id, c.obligor_id, c.owner_id FROM {commitment} c{restriction}),"
    " watches (user_id, commitment_id, days, digest) AS ({watches})"
    " SELECT commitment_id, days FROM watches WHERE user_id = %s"
)

_WATCHED_IDS = "SELECT commitment_id FROM ({user_watches}) watched"

_WATCHES = (
    "SELECT w.user_id, w.commitment_id, w.days, w.digest FROM ({union}) w"
    " JOIN {user} u ON u.id = w.user_id WHERE u.is_active = %s"
)


def tables() -> dict[str, str]:
    """Return the quoted table names the watch rule and the scan's statements use."""
    qn = connection.ops.quote_name
    return {
        "commitment": qn(Commitment._meta.db_table),
        "beneficiary": qn(Commitment.beneficiaries.through._meta.db_table),
        "subscription": qn(Subscription._meta.db_table),
        "lead": qn(SubscriptionLead._meta.db_table),
        "user": qn(get_user_model()._meta.db_table),
    }


def default_lead_days() -> tuple[int, ...]:
    """Return the lead times an owner watches with: the settings' and the overdue notice."""
    return tuple(sorted({*settings.TRACKER_DEFAULT_LEAD_DAYS, OVERDUE_LEAD}, reverse=True))


def watches_sql() -> tuple[str, list[Any]]:
    """Return the watch rule as SQL and its parameters.

    Its rows are ``(user_id, commitment_id, days, digest)``: one per watcher, commitment and
    lead time (``days`` NULL for a subscription without lead times); ``digest`` is 1 when the
    matching subscription delivers by digest. It reads two names the caller defines with
    ``WITH``: ``candidates (id, agreement_id, obligor_id, owner_id)``, the commitments to
    consider, and ``edges (days, is_default)``, where the default lead times have
    ``is_default = 1``.
    """
    names = tables()
    union, params = [], []
    for scope, join in _SCOPE_JOINS:
        union.append(_SUBSCRIPTION_WATCH.format(join=join.format(**names), **names))
        params += [DeliveryMode.DIGEST, scope]
    union.append(_OWNER_WATCH.format(**names))
    params += [Scope.ALL, Scope.AGREEMENT, Scope.COMMITMENT, Scope.PARTY]
    return _WATCHES.format(union=" UNION ALL ".join(union), **names), [*params, True]


def _defaults_sql() -> tuple[str, list[Any]]:
    """Return ``edges`` holding the default lead times only, for reads outside the scan."""
    days = default_lead_days()
    row = "SELECT CAST(%s AS integer), CAST(%s AS integer)"
    return " UNION ALL ".join([row] * len(days)), [value for d in days for value in (d, 1)]


def _user_watches_sql(
    *, user_id: int, commitment_ids: Sequence[int] | None
) -> tuple[str, list[Any]]:
    """Return ``SELECT commitment_id, days`` of the watches of one user, and its parameters."""
    edges, params = _defaults_sql()
    restriction = ""
    if commitment_ids is not None:
        restriction = f" WHERE c.id IN ({', '.join(['%s'] * len(commitment_ids))})"
        params += list(commitment_ids)
    watches, watch_params = watches_sql()
    sql = _USER_WATCHES.format(edges=edges, restriction=restriction, watches=watches, **tables())
    return sql, [*params, *watch_params, user_id]


def watched_commitments_sql(*, user_id: int) -> tuple[str, list[Any]]:
    """Return SQL selecting the ids of the commitments ``user_id`` watches, and its parameters.

    For ``pk__in=RawSQL(...)``: the watchlist is read in the same query as the list it filters.
    """
    sql, params = _user_watches_sql(user_id=user_id, commitment_ids=None)
    return _WATCHED_IDS.format(user_watches=sql), params


def watch_leads(*, user_id: int, commitment_ids: Sequence[int]) -> dict[int, tuple[int, ...]]:
    """Return the lead times (largest first) with which ``user_id`` watches each commitment.

    A commitment watched only through subscriptions without lead times maps to ``()``; one
    the user does not watch is left out.
    """
    if not commitment_ids:
        return {}
    sql, params = _user_watches_sql(user_id=user_id, commitment_ids=commitment_ids)
    leads: dict[int, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for commitment_id, days in cursor.fetchall():
            leads[commitment_id].update([] if days is None else [days])
    return {pk: tuple(sorted(days, reverse=True)) for pk, days in leads.items()}
