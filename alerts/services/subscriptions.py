"""Create, change and delete subscriptions: who watches what, with which lead times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils.translation import gettext as _

from alerts.models import (
    MAX_LEAD_DAYS,
    OVERDUE_LEAD,
    DeliveryMode,
    Subscription,
    SubscriptionLead,
    SubscriptionScope,
)
from commitments.models import Agreement, Commitment, Party

#: The fields that say what a subscription watches; fixed once it is made.
TARGET_FIELDS = ("scope", "agreement", "party", "commitment")

M = TypeVar("M", bound=models.Model)


def _resolve(field: str, model: type[M], value: M | int | None) -> M | None:
    """Return the row ``value`` names (an instance or a primary key), or raise on ``field``."""
    if value is None:
        return None
    pk = value.pk if isinstance(value, models.Model) else value
    row = model._default_manager.filter(pk=pk).first() if pk is not None else None
    if row is None:
        raise ValidationError(
            {field: _("There is no %(field)s with id %(pk)r.") % {"field": field, "pk": pk}}
        )
    return row


def subscription_check_recipient(*, user: Any) -> None:
    """Raise ``ValidationError`` on ``email`` unless ``user`` has an address that parses."""
    address = (getattr(user, "email", "") or "").strip()
    if not address:
        raise ValidationError(
            {"email": _("Your account has no e-mail address: add one before subscribing.")}
        )
    try:
        validate_email(address)
    except ValidationError as exc:
        raise ValidationError(
            {
                "email": _("The account's e-mail address %(address)r is not a valid address.")
                % {"address": address}
            }
        ) from exc


def lead_days_normalise(*, lead_days: Iterable[int] | None, notify_overdue: bool) -> list[int]:
    """Return the stored lead values (days before, plus 0 for the overdue notice), validated.

    ``lead_days`` are days before the due instant and must each be between 1 and
    ``MAX_LEAD_DAYS``;
    ``None`` means the defaults (``TRACKER_DEFAULT_LEAD_DAYS``). The day-after notice is not
    a lead time of 0 but ``notify_overdue``.
    """
    values = list(settings.TRACKER_DEFAULT_LEAD_DAYS if lead_days is None else lead_days)
    errors = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(_("%(value)r is not a whole number of days.") % {"value": value})
        elif value < 1:
            errors.append(
                _(
                    "%(value)s is not a lead time: give days before the deadline (1 or more); "
                    "for a notice the day after, choose the notice the day after."
                )
                % {"value": value}
            )
        elif value > MAX_LEAD_DAYS:
            errors.append(
                _("%(value)s days is more than the %(max)s allowed.")
                % {"value": value, "max": MAX_LEAD_DAYS}
            )
    duplicates = sorted({v for v in values if values.count(v) > 1}, key=str)
    if duplicates:
        errors.append(
            _("Each lead time once: %(days)s repeated.") % {"days": ", ".join(map(str, duplicates))}
        )
    if errors:
        raise ValidationError({"lead_days": errors})
    stored = sorted(set(values), reverse=True)
    if notify_overdue:
        stored.append(OVERDUE_LEAD)
    if not stored:
        raise ValidationError(
            {"lead_days": _("Choose at least one lead time or the notice the day after.")}
        )
    return stored


def _check_not_duplicate(subscription: Subscription) -> None:
    same = Subscription.objects.filter(
        user=subscription.user_id,
        scope=subscription.scope,
        agreement=subscription.agreement_id,
        party=subscription.party_id,
        commitment=subscription.commitment_id,
    ).exclude(pk=subscription.pk)
    if same.exists():
        field = subscription.scope if subscription.scope != SubscriptionScope.ALL else "scope"
        raise ValidationError({field: _("This subscription already exists; change it instead.")})


def subscription_validate(*, subscription: Subscription) -> None:
    """Check one subscription row: its target, its recipient and that it is not a duplicate."""
    subscription.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
    subscription_check_recipient(user=subscription.user)
    _check_not_duplicate(subscription)


def _set_leads(subscription: Subscription, leads: Sequence[int]) -> None:
    subscription.leads.exclude(days__in=leads).delete()
    existing = set(subscription.leads.values_list("days", flat=True))
    SubscriptionLead.objects.bulk_create(
        SubscriptionLead(subscription=subscription, days=days)
        for days in leads
        if days not in existing
    )


@transaction.atomic
def subscription_create(
    *,
    user: Any,
    scope: str,
    agreement: Agreement | int | None = None,
    party: Party | int | None = None,
    commitment: Commitment | int | None = None,
    lead_days: Iterable[int] | None = None,
    notify_overdue: bool = True,
    mode: str = DeliveryMode.IMMEDIATE,
) -> Subscription:
    """Create ``user``'s subscription; raise ``ValidationError`` naming the bad field.

    ``lead_days`` are days before the due instant (default ``TRACKER_DEFAULT_LEAD_DAYS``);
    ``notify_overdue`` adds the notice on the day after. Nothing is written on any error.
    """
    leads = lead_days_normalise(lead_days=lead_days, notify_overdue=notify_overdue)
    subscription = Subscription(
        user=user,
        scope=scope,
        agreement=_resolve("agreement", Agreement, agreement),
        party=_resolve("party", Party, party),
        commitment=_resolve("commitment", Commitment, commitment),
        mode=mode,
    )
    subscription_validate(subscription=subscription)
    subscription._history_user = user  # type: ignore[attr-defined]
    subscription.save()
    _set_leads(subscription, leads)
    return subscription


def subscription_check_target(*, subscription: Subscription, target: Mapping[str, Any]) -> None:
    """Refuse a change of what ``subscription`` watches, naming each changed field.

    ``target`` holds any of ``TARGET_FIELDS`` as sent (rows or ids); sending the current
    values again is fine. Watching something else is a new subscription.
    """
    changed = []
    for name in TARGET_FIELDS:
        if name not in target:
            continue
        value = target[name]
        current = getattr(subscription, name if name == "scope" else f"{name}_id")
        sent = value.pk if isinstance(value, models.Model) else value
        if sent != current:
            changed.append(name)
    if changed:
        reason = _("The target cannot change: delete this subscription and make a new one.")
        raise ValidationError({name: [reason] for name in changed})


@transaction.atomic
def subscription_update(
    *,
    subscription: Subscription,
    lead_days: Iterable[int] | None = None,
    notify_overdue: bool | None = None,
    mode: str | None = None,
    target: Mapping[str, Any] | None = None,
) -> Subscription:
    """Change a subscription's lead times, overdue notice or delivery mode.

    Arguments left as ``None`` keep their current value; ``target``, if given, must name what
    the subscription already watches (:func:`subscription_check_target`). Raise
    ``ValidationError`` naming the bad field; nothing is written on any error.
    """
    subscription_check_target(subscription=subscription, target=target or {})
    current = list(subscription.leads.values_list("days", flat=True))
    if lead_days is None:
        lead_days = [days for days in current if days != OVERDUE_LEAD]
    if notify_overdue is None:
        notify_overdue = OVERDUE_LEAD in current
    leads = lead_days_normalise(lead_days=lead_days, notify_overdue=notify_overdue)
    if mode is not None and mode != subscription.mode:
        subscription.mode = mode
        subscription.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
        subscription._history_user = subscription.user  # type: ignore[attr-defined]
        subscription.save(update_fields=["mode"])
    _set_leads(subscription, leads)
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: Subscription) -> None:
    """Delete a subscription and its lead times."""
    subscription._history_user = subscription.user  # type: ignore[attr-defined]
    subscription.delete()
