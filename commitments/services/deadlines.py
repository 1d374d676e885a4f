"""Keep stored due dates equal to what each commitment's rule gives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments import deadlines
from commitments.models import DUE_DATE_RELATIONS, Commitment, anchored_on_q
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


def commitment_apply_rule(*, commitment: Commitment) -> list[str]:
    """Set ``due_date`` and ``due_at`` from the rule; return the names of fields that changed."""
    due_date = commitment_due_date(commitment=commitment)
    due_at = (
        deadlines.due_instant(due_date, commitment.agreement.time_zone) if due_date else None
    )
    changed = []
    if commitment.due_date != due_date:
        commitment.due_date = due_date
        changed.append("due_date")
    if commitment.due_at != due_at:
        commitment.due_at = due_at
        changed.append("due_at")
    return changed


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
            if "due_date" in fields:
                due_date_changes.append(
                    hooks.FieldChange(commitment.pk, "due_date", old_due_date, commitment.due_date)
                )
        frontier = [c for c in _anchored_on(c.pk for c in frontier) if c.pk not in visited]
    if changed_ids:
        hooks.deadline_inputs_changed(commitment_ids=changed_ids)
        hooks.fields_changed(changes=due_date_changes, at=timezone.now())
    return changed_ids
