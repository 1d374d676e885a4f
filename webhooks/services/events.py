"""Write webhook events and their deliveries in the transaction of the change they tell of.

Two statements per kind of event, both set-based and portable between PostgreSQL and SQLite:

1. ``INSERT INTO event ... SELECT ... FROM commitment`` writes one event per commitment, its
   payload built by the database from the row as it stands in this transaction (the same JSON
   for every kind and both engines: see :func:`_payload_sql`), plus the old and new values the
   service reported;
2. ``INSERT INTO delivery ... SELECT ... ON CONFLICT DO NOTHING`` writes one pending delivery per
   new event and endpoint that is active, subscribes to the kind, and whose owner may read the
   tracker (:data:`core.roles.can_read`: a role or an administrator, and an active
   account). The unique ``(endpoint, event)`` pair keeps every delivery single.

Nothing is written when no endpoint would receive the kind: a tracker without webhooks pays
one indexed ``EXISTS`` per change, and a scan pays it only when it flags something overdue.

The overdue events of a flagging of deadline states (a scan) are found the way the flagging left
them: ``Commitment.objects.flagged(OVERDUE, now)``, rows in ``overdue`` whose ``flagged_at`` is
its instant. An event per commitment and instant is unique, so a
scan repeated at the same instant writes nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse

from commitments.choices import DeadlineState
from commitments.models import Commitment, Party
from commitments.services.hooks import DeadlineRevised, FieldChange
from core.roles import EDITORS, VIEWERS
from webhooks.models import (
    KIND_FIELDS,
    DeliveryState,
    EventKind,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

#: The kind of event a change of each field makes.
FIELD_KINDS = {"status": EventKind.STATUS_CHANGED, "due_date": EventKind.DUE_DATE_CHANGED}

_PLACEHOLDER_PK = 2_147_000_111

_EVENTS_INSERT = (
    "INSERT INTO {event} (kind, commitment_id, payload, occurred_at)"
    " SELECT %s, c.id, {payload}, %s FROM {commitment} c{join} WHERE {where}"
    " ON CONFLICT DO NOTHING"
)

_DELIVERIES_INSERT = (
    "INSERT INTO {delivery} (endpoint_id, event_id, state, attempts, last_error, created)"
    " SELECT e.id, ev.id, %s, 0, '', %s FROM {event} ev"
    " JOIN {endpoint} e ON e.id IN ({subscribers})"
    " WHERE ev.kind = %s AND ev.occurred_at = %s{restriction}"
    " ON CONFLICT DO NOTHING"
)


def subscribers(kind: str) -> QuerySet[WebhookEndpoint]:
    """Return the endpoints that receive events of ``kind`` now.

    Active endpoints subscribed to ``kind`` whose owner is active and may read the tracker:
    the rule of :func:`core.roles.can_read` (an administrator, or a member of the
    viewers or editors), as one query.
    """
    may_read = Q(owner__is_superuser=True) | Q(owner__groups__name__in=[VIEWERS, EDITORS])
    return WebhookEndpoint.objects.filter(
        may_read, active=True, owner__is_active=True, **{KIND_FIELDS[EventKind(kind)]: True}
    )


def record_field_changes(changes: Sequence[FieldChange], at: dt.datetime) -> None:
    """Write the status and due-date events of ``changes`` (a :mod:`hooks` change listener)."""
    for field, kind in FIELD_KINDS.items():
        rows = [change for change in changes if change.field == field]
        if rows:
            events_write_changes(kind=kind, changes=rows, at=at)


def record_revision(revision: DeadlineRevised, at: dt.datetime) -> None:
    """Write the ``deadline_revised`` event of ``revision`` (a :mod:`hooks` revision listener)."""
    events_write_revision(revision=revision, at=at)


def record_flags(state: str, now: dt.datetime, commitment_ids: Sequence[int] | None) -> None:
    """Write the overdue events of a scan at ``now`` (a :mod:`hooks` flag listener)."""
    if state == DeadlineState.OVERDUE:
        events_write_overdue(now=now, commitment_ids=commitment_ids)


@transaction.atomic
def events_write_changes(*, kind: str, changes: Sequence[FieldChange], at: dt.datetime) -> int:
    """Write one ``kind`` event per change with its old and new value; return deliveries made.

    The changes are given to the database as a small derived table (commitment id, old, new)
    joined to the commitments, so that a recompute of many due dates stays one statement.
    """
    if not changes or not subscribers(kind).exists():
        return 0
    row = "SELECT CAST(%s AS bigint) AS commitment_id, CAST(%s AS text) AS old_value,"
    row += " CAST(%s AS text) AS new_value"
    values: list[Any] = []
    for change in changes:
        values += [change.commitment_id, _text(change.old), _text(change.new)]
    field = next(name for name, field_kind in FIELD_KINDS.items() if field_kind == kind)
    join = f" JOIN ({' UNION ALL '.join([row] * len(changes))}) ch ON ch.commitment_id = c.id"
    ids = sorted({change.commitment_id for change in changes})
    return _write(
        kind=kind,
        at=at,
        join=join,
        join_params=values,
        where="1 = 1",
        where_params=[],
        changed_field=field,
        commitment_ids=ids,
    )


@transaction.atomic
def events_write_revision(*, revision: DeadlineRevised, at: dt.datetime) -> int:
    """Write the ``deadline_revised`` event of ``revision``; return the deliveries made.

    The payload holds the commitment as it stands after the revision and a ``revision``
    object: its kind, date, old and new due dates, the new date's precision and the reason.
    """
    kind = EventKind.DEADLINE_REVISED
    if not subscribers(kind).exists():
        return 0
    ids = [revision.commitment_id]
    return _write(
        kind=kind,
        at=at,
        join="",
        join_params=[],
        where="c.id = %s",
        where_params=ids,
        changed_field=None,
        commitment_ids=ids,
        revision=revision,
    )


@transaction.atomic
def events_write_overdue(*, now: dt.datetime, commitment_ids: Sequence[int] | None) -> int:
    """Write an overdue event for each commitment the flagging at ``now`` just moved to overdue.

    Return the deliveries made. The rows are ``Commitment.objects.flagged(OVERDUE, now)``:
    the domain's own rule, whose filters the partial index ``commitment_open_state_due``
    serves.
    """
    kind = EventKind.OVERDUE
    if not subscribers(kind).exists():
        return 0
    rows = Commitment.objects.flagged(DeadlineState.OVERDUE, now)
    ids = sorted(commitment_ids) if commitment_ids is not None else None
    if ids is not None:
        if not ids:
            return 0
        rows = rows.filter(pk__in=ids)
    flagged, params = rows.order_by().values("pk").query.sql_with_params()
    return _write(
        kind=kind,
        at=now,
        join="",
        join_params=[],
        where=f"c.id IN ({flagged})",
        where_params=list(params),
        changed_field=None,
        commitment_ids=ids,
    )


def _write(
    *,
    kind: str,
    at: dt.datetime,
    join: str,
    join_params: list[Any],
    where: str,
    where_params: list[Any],
    changed_field: str | None,
    commitment_ids: Sequence[int] | None,
    revision: DeadlineRevised | None = None,
) -> int:
    """Insert the events of ``kind`` at ``at``, then their deliveries; return deliveries made."""
    qn = connection.ops.quote_name
    tables = {
        "event": qn(WebhookEvent._meta.db_table),
        "commitment": qn(Commitment._meta.db_table),
        "delivery": qn(WebhookDelivery._meta.db_table),
        "endpoint": qn(WebhookEndpoint._meta.db_table),
    }
    payload, payload_params = _payload_sql(changed_field, revision)
    instant = _instant(at)
    with connection.cursor() as cursor:
        cursor.execute(
            _EVENTS_INSERT.format(payload=payload, join=join, where=where, **tables),
            [kind, *payload_params, instant, *join_params, *where_params],
        )
        events = max(cursor.rowcount, 0)
        if not events:
            return 0
        endpoints_sql, endpoints_params = (
            subscribers(kind).order_by().values("pk").query.sql_with_params()
        )
        restriction, restriction_params = "", []
        if commitment_ids is not None:
            restriction = f" AND ev.commitment_id IN ({_placeholders(commitment_ids)})"
            restriction_params = list(commitment_ids)
        cursor.execute(
            _DELIVERIES_INSERT.format(subscribers=endpoints_sql, restriction=restriction, **tables),
            [
                DeliveryState.PENDING,
                instant,
                *endpoints_params,
                kind,
                instant,
                *restriction_params,
            ],
        )
        deliveries = max(cursor.rowcount, 0)
    logger.info("Webhook events: %d %s, %d deliveries queued", events, kind, deliveries)
    if deliveries:
        _send_soon_from_a_worker()
    return deliveries


#: Every party a commitment binds (alias ``c``): the obligor, then the other obligors by name,
#: as the pages list them; ``obligors`` in the payload, beside ``obligor``.
_BOUND_PARTIES = (
    "SELECT c.obligor_id AS party, 0 AS rank, '' AS name, 0 AS tie UNION ALL "
    "SELECT co.party_id, 1, p.name, p.id FROM {co_obligors} co "
    "JOIN {party} p ON p.id = co.party_id WHERE co.commitment_id = c.id"
)
_OBLIGORS_POSTGRESQL = "(SELECT jsonb_agg(b.party ORDER BY b.rank, b.name, b.tie) FROM ({bound}) b)"
#: SQLite's aggregate keeps its input's order; ``json()`` keeps the array an array in the object.
_OBLIGORS_SQLITE = (
    "json((SELECT json_group_array(b.party) FROM "
    "(SELECT * FROM ({bound}) ORDER BY rank, name, tie) b))"
)


def _payload_sql(
    changed_field: str | None, revision: DeadlineRevised | None = None
) -> tuple[str, list[Any]]:
    """Return the SQL expression of an event's payload (alias ``c``, changes ``ch``).

    ``{"commitment": {...}, "changes": {field: {"old": ..., "new": ...}}}``, the second key only
    for a change; a revision's event has ``"revision": {"kind": ..., "revised_on": ...,
    "old_due_date": ..., "new_due_date": ..., "new_precision": ..., "reason": ...}`` instead.
    Only the function names and the instant's formatting differ between the engines, so
    both write the same document: ids as numbers, dates as ``YYYY-MM-DD``,
    ``due_at`` as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC.
    """
    # Table names come from the models' metadata, never from input.
    qn = connection.ops.quote_name
    bound = _BOUND_PARTIES.format(
        co_obligors=qn(Commitment.co_obligors.through._meta.db_table),
        party=qn(Party._meta.db_table),
    )
    if connection.vendor == "postgresql":
        build = "jsonb_build_object"
        due_at = "to_char(c.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        obligors = _OBLIGORS_POSTGRESQL.format(bound=bound)
    else:
        build = "json_object"
        due_at = "strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', c.due_at)"
        obligors = _OBLIGORS_SQLITE.format(bound=bound)

    def obj(*pairs: tuple[str, str]) -> str:
        # Keys are constants of this function, never input: they are written as literals.
        return build + "(" + ", ".join(f"'{key}', {value}" for key, value in pairs) + ")"

    api_head, api_tail = _url_parts("api:commitment-detail")
    page_head, page_tail = _url_parts("dashboard:commitment")
    commitment = obj(
        ("id", "c.id"),
        ("key", "c.key"),
        ("title", "c.title"),
        ("agreement", "c.agreement_id"),
        ("obligor", "c.obligor_id"),
        ("obligors", obligors),
        ("status", "c.status"),
        ("due_date", "c.due_date"),
        ("due_at", due_at),
        ("deadline_state", "c.deadline_state"),
        ("url", "%s || CAST(c.id AS text) || %s"),
        ("web_url", "%s || CAST(c.id AS text) || %s"),
    )
    params: list[Any] = [api_head, api_tail, page_head, page_tail]
    if revision is not None:
        text = "CAST(%s AS text)"
        revision_obj = obj(
            ("kind", text),
            ("revised_on", text),
            ("old_due_date", text),
            ("new_due_date", text),
            ("new_precision", text),
            ("reason", text),
        )
        params = [
            *params,
            revision.kind,
            _text(revision.revised_on),
            _text(revision.old_due_date),
            _text(revision.new_due_date),
            revision.new_precision,
            revision.reason,
        ]
        return obj(("commitment", commitment), ("revision", revision_obj)), params
    if changed_field is None:
        return obj(("commitment", commitment)), params
    change = obj((changed_field, obj(("old", "ch.old_value"), ("new", "ch.new_value"))))
    return obj(("commitment", commitment), ("changes", change)), params


def _url_parts(view_name: str) -> tuple[str, str]:
    """Return the absolute URL of ``view_name`` for a commitment, split around its id."""
    path = reverse(view_name, args=[_PLACEHOLDER_PK])
    head, _, tail = path.partition(str(_PLACEHOLDER_PK))
    return settings.SITE_URL.rstrip("/") + head, tail


def _text(value: Any) -> str | None:
    """Return a changed value as the payload carries it: a date in ISO 8601, a status as is."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _instant(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _placeholders(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def _send_soon_from_a_worker() -> None:
    """Have the sender run once this transaction commits, but only inside a Celery worker.

    A web request never enqueues: with the broker down each enqueue stalls for seconds (see
    the alerts' history), and the per-minute send picks its deliveries up. A worker (the
    periodic scan) is where an enqueue costs nobody a wait.
    """
    from celery import current_task

    if current_task and not current_task.request.called_directly:
        from webhooks.tasks import send_webhooks_on_commit

        send_webhooks_on_commit()
