"""Reviews due: the owner of a commitment hears, once per rating and review cycle, that a
rating has gone unreviewed too long.

The domain flags the ratings (:func:`commitments.services.assessments.review_due_flag`, run by
the deadline scan); this module writes the alert outbox rows for the flagged ones, in one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` like the deadline alerts. The key (owner,
rating, last review) makes each alert exist once: a second scan writes nothing, a review moves
the rating's ``reviewed_on`` and so re-arms it, and a new rating is a new row with its own key.
The delivery, retries and digests are the deadline alerts' (:mod:`alerts.services.delivery`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    DateField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from alerts.models import (
    SKIPPED_NO_ADDRESS,
    Alert,
    AlertKind,
    AlertState,
    DeliveryMode,
    Subscription,
)
from alerts.models import SubscriptionScope as Scope
from commitments.models import Assessment
from core.statements import Batch, batches_run, statement_compiled

#: The outbox columns the statement fills, in the order of the SELECT's annotations.
_COLUMNS = (
    ("user_id", "r_user"),
    ("email", "r_email"),
    ("commitment_id", "r_commitment"),
    ("due_date", "r_due_date"),
    ("threshold", "r_threshold"),
    ("digest", "r_digest"),
    ("state", "r_state"),
    ("attempts", "r_attempts"),
    ("last_error", "r_last_error"),
    ("next_attempt_at", "r_next_attempt_at"),
    ("created", "r_created"),
    ("kind", "r_kind"),
    ("assessment_id", "r_assessment"),
    ("reviewed_on", "r_reviewed_on"),
)


def _owner_wants_digest() -> Exists:
    """Return whether the owner watches the rated commitment through a digest subscription.

    An owner who chose the daily digest for the agreement, the rated party, the commitment or
    everything gets their review reminders in it too; otherwise one mail per alert.
    """
    return Exists(
        Subscription.objects.filter(
            user_id=OuterRef("commitment__owner_id"), mode=DeliveryMode.DIGEST
        ).filter(
            Q(scope=Scope.ALL)
            | Q(scope=Scope.AGREEMENT, agreement_id=OuterRef("commitment__agreement_id"))
            | Q(scope=Scope.COMMITMENT, commitment_id=OuterRef("commitment_id"))
            | Q(scope=Scope.PARTY, party_id=OuterRef("party_id"))
        )
    )


def review_alerts_write(*, now: dt.datetime, today: dt.date) -> int:
    """Write one alert to its commitment's owner per rating flagged "review due"; count them.

    Only current, flagged ratings of commitments with an active owner; an owner without an
    e-mail address gets a row recorded as skipped, as the deadline alerts do. Rows go in
    in key order so that concurrent scans meet on the unique index in the same order.
    """
    [written] = batches_run(review_alerts_batch(now=now, today=today))
    return written


def review_alerts_batch(*, now: dt.datetime, today: dt.date) -> Batch[int]:
    """Return the statement of :func:`review_alerts_write`, to send with others (the scan's);
    the batch's result is the alerts written."""
    statement = statement_compiled(
        ("review alerts", today), lambda now: _review_alerts_insert(now=now, today=today), now=now
    )
    return Batch(statements=[statement], result=lambda ran: max(ran[0].rowcount, 0))


def _review_alerts_insert(*, now: dt.datetime, today: dt.date) -> tuple[str, list[Any]]:
    """Return the statement of :func:`review_alerts_write`, compiled from the ORM.

    The scan runs it every few minutes, alike but for ``now``: it is compiled once per
    process and day (:mod:`core.statements`).
    """
    email = Coalesce(F("commitment__owner__email"), Value(""))
    has_address = ~Q(commitment__owner__email="") & Q(commitment__owner__email__isnull=False)
    rows = (
        Assessment.objects.filter(
            current=True,
            review_due=True,
            commitment__owner__isnull=False,
            commitment__owner__is_active=True,
        )
        .annotate(
            r_user=F("commitment__owner_id"),
            r_email=email,
            r_commitment=F("commitment_id"),
            r_due_date=Value(today, output_field=DateField()),
            r_threshold=Value(0, output_field=IntegerField()),
            r_digest=_owner_wants_digest(),
            r_state=Case(
                When(has_address, then=Value(AlertState.PENDING.value)),
                default=Value(AlertState.SKIPPED.value),
                output_field=CharField(),
            ),
            r_attempts=Value(0, output_field=IntegerField()),
            r_last_error=Case(
                When(has_address, then=Value("")),
                default=Value(SKIPPED_NO_ADDRESS),
                output_field=CharField(),
            ),
            r_next_attempt_at=Case(
                When(has_address, then=Value(now, output_field=DateTimeField())),
                default=None,
                output_field=DateTimeField(),
            ),
            r_created=Value(now, output_field=DateTimeField()),
            r_kind=Value(AlertKind.REVIEW_DUE.value, output_field=CharField()),
            r_assessment=F("pk"),
            r_reviewed_on=F("reviewed_on"),
        )
        .order_by("commitment__owner_id", "pk")
        .values_list(*(alias for _column, alias in _COLUMNS))
    )
    select, params = rows.query.sql_with_params()
    columns = ", ".join(connection.ops.quote_name(column) for column, _alias in _COLUMNS)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(Alert._meta.db_table)} ({columns})"
        f" {select} ON CONFLICT DO NOTHING"
    )
    return sql, list(params)
