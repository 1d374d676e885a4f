"""Keep stored due dates equal to what each commitment's rule gives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments import deadlines
from commitments.assessment import pace
from commitments.choices import RecurrenceKind
from commitments.deadlines import recurrence
from commitments.models import DUE_DATE_RELATIONS, Commitment, anchored_on_q
from commitments.querysets import TERMINAL_VALUES
from commitments.services import hooks

#: Who makes a change: recorded as the history row's author when authenticated.
User = AbstractBaseUser | AnonymousUser | None


def attach_user(instance: object, user: User) -> None:
    """Record ``user`` as the author of the history row the next save of ``instance`` writes."""
    if user is not None and user.is_authenticated:
        instance._history_user = user  # type: ignore[attr-defined]


def commitment_due_date(*, commitment: Commitment) -> dt.date | None:
    """Return the due date the commitment's rule gives now, changing nothing.

    Raise ``ValidationError`` on the rule's field if it gives no date in the accepted range.
    """
    try:
        return deadlines.compute_due_date(commitment.rule, commitment.anchor_date())
    except deadlines.RuleError as exc:
        raise ValidationError({exc.field: exc.translated()}) from exc


def commitment_revisions(*, commitment: Commitment) -> list[deadlines.Revision]:
    """Return the commitment's deadline revisions, in order, as the engine folds them."""
    if commitment.pk is None:
        return []
    return [
        deadlines.Revision(
            kind, new_due_date, deadlines.Precision(new_precision) if new_precision else None
        )
        for kind, new_due_date, new_precision in commitment.revisions.order_by(
            "revised_on", "pk"
        ).values_list("kind", "new_due_date", "new_precision")
    ]


def commitment_deadline(*, commitment: Commitment) -> tuple[deadlines.Deadline, deadlines.Deadline]:
    """Return the deadline the commitment's rule gives (the original) and the one in force.

    The one in force is the original after the commitment's revisions, in their order. Raise
    ``ValidationError`` on the rule's field if it gives no date in the accepted range.
    """
    due_date = commitment_due_date(commitment=commitment)
    original = deadlines.Deadline(
        due_date, deadlines.rule_precision(commitment.rule) if due_date else None
    )
    return original, deadlines.revise(original, commitment_revisions(commitment=commitment))


def commitment_apply_rule(*, commitment: Commitment) -> list[str]:
    """Set the original and current due dates from the rule and the revisions.

    Sets ``original_due_date`` and its precision from the rule, ``due_date``, ``due_at``,
    ``due_precision`` and ``deadline_suspended`` from the rule after the revisions, and the
    fulfilment's timeliness against both (so it follows a deadline that moves after the
    fulfilment); returns the names of the fields that changed. A recurring commitment's
    rule (after revisions) gives its first occurrence; its ``due_date`` and ``due_at``
    mirror its next open occurrence (the earliest not fulfilled, missed or cancelled; none
    once all are), so lists, sorting, filters and the scan of commitments keep working on
    the commitment row.
    """
    original, current = commitment_deadline(commitment=commitment)
    due_date = current.due_date
    series = commitment.recurrence_rule
    if series.recurs and due_date is not None:
        due_date = _next_open_occurrence(commitment=commitment, first=due_date, series=series)
    due_at = deadlines.due_instant(due_date, commitment.agreement.time_zone) if due_date else None
    # Timeliness judges a fulfilment against the commitment's own deadline, original and
    # revised; a recurring commitment's deadlines are its occurrences', so it has none.
    timing = (
        None
        if series.recurs
        else deadlines.fulfilment_timing(
            commitment.fulfilled_on, original.due_date, current.due_date
        )
    )
    values = {
        "original_due_date": original.due_date,
        "original_due_precision": original.precision or "",
        "due_date": due_date,
        "due_at": due_at,
        "due_precision": current.precision or "",
        "deadline_suspended": current.suspended,
        "fulfilment_timing": timing or "",
        **_pace_values(commitment, due_date),
    }
    changed = []
    for name, value in values.items():
        if getattr(commitment, name) != value:
            setattr(commitment, name, value)
            changed.append(name)
    return changed


def _pace_values(commitment: Commitment, due_date: dt.date | None) -> dict[str, Any]:
    """Return the stored pace band of the commitment's latest measurement against its target.

    The line runs from the effective date (else the agreement's) to the current due date.
    """
    band = pace.pace_band(
        measured=commitment.progress_measured,
        target=commitment.target_amount,
        start=commitment.pace_start,
        due=due_date,
    )
    return {
        "pace_ahead_until": band.ahead_until if band else None,
        "pace_behind_after": band.behind_after if band else None,
    }


def _next_open_occurrence(
    *, commitment: Commitment, first: dt.date, series: recurrence.Recurrence
) -> dt.date | None:
    """Return the earliest date of the series whose occurrence is not in a terminal status."""
    closed = (
        set(
            commitment.occurrences.filter(status__in=TERMINAL_VALUES).values_list(
                "due_date", flat=True
            )
        )
        if commitment.pk is not None
        else set()
    )
    return next((day for day in recurrence.iter_dates(first, series) if day not in closed), None)


def _occurrences_sync(*, commitment: Commitment, cause: str) -> None:
    """Rewrite a recomputed commitment's occurrences; a refusal is named on ``cause``."""
    # Imported here: the occurrence service builds on this module's deadline fold.
    from commitments.services.occurrences import occurrences_sync

    try:
        occurrences_sync(commitment=commitment)
    except ValidationError as exc:
        raise ValidationError(
            {
                cause: [
                    _("Commitment %(key)r would break: %(reason)s")
                    % {"key": commitment.key, "reason": message}
                    for message in exc.messages
                ]
            }
        ) from exc


def _anchored_on(ids: Iterable[int]) -> list[Commitment]:
    return list(
        Commitment.objects.select_related(*DUE_DATE_RELATIONS)
        .filter(anchored_on_q(list(ids)))
        .order_by("pk")
    )


@transaction.atomic
def due_dates_recompute(
    *, commitments: Iterable[Commitment], user: User = None, cause: str = NON_FIELD_ERRORS
) -> list[int]:
    """Recompute ``commitments`` and, transitively, every commitment anchored on them.

    Returns the ids whose due date changed. Saves use ``update_fields`` and are recorded in
    history as made by ``user``. A cycle cannot loop forever: each commitment is visited once.
    A commitment whose rule then gives no date is refused on ``cause``, the field of the
    change that moved it, naming that commitment: the caller did not send its rule.
    """
    changed_ids: list[int] = []
    due_date_changes: list[hooks.FieldChange] = []
    visited: set[int] = set()
    frontier = list(commitments)
    while frontier:
        for commitment in frontier:
            visited.add(commitment.pk)
            old_due_date = commitment.due_date
            try:
                fields = commitment_apply_rule(commitment=commitment)
            except ValidationError as exc:
                raise ValidationError(
                    {
                        cause: [
                            _("Commitment %(key)r would break: %(reason)s")
                            % {"key": commitment.key, "reason": message}
                            for message in exc.messages
                        ]
                    }
                ) from exc
            if fields:
                attach_user(commitment, user)
                commitment.save(update_fields=[*fields, "updated"])
                changed_ids.append(commitment.pk)
            if commitment.recurrence != RecurrenceKind.NONE:
                _occurrences_sync(commitment=commitment, cause=cause)
            if "due_date" in fields:
                due_date_changes.append(
                    hooks.FieldChange(commitment.pk, "due_date", old_due_date, commitment.due_date)
                )
        frontier = [c for c in _anchored_on(c.pk for c in frontier) if c.pk not in visited]
    if changed_ids:
        hooks.deadline_inputs_changed(commitment_ids=changed_ids)
        hooks.fields_changed(changes=due_date_changes, at=timezone.now())
    return changed_ids
