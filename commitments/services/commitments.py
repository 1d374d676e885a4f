"""Create and change agreements and commitments, keeping due dates computed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commitments.choices import EVIDENCE_REQUIRED, FULFILMENT, Status
from commitments.models import Agreement, Citation, Commitment, Party, ProgressUpdate, Source
from commitments.services import hooks
from commitments.services.deadlines import commitment_apply_rule, due_dates_recompute

User = AbstractBaseUser | AnonymousUser | None

#: Fields a caller may set on a commitment; the rest are computed or written by services.
COMMITMENT_INPUT_FIELDS = frozenset(
    {
        "agreement",
        "key",
        "title",
        "description",
        "obligor",
        "category",
        "target_amount",
        "target_unit",
        "effective_from",
        "deadline_kind",
        "deadline_date",
        "offset_amount",
        "offset_unit",
        "anchor_kind",
        "anchor_commitment",
        "period_unit",
        "period_number",
        "period_year",
        "deadline_phrase",
        "owner",
    }
)
AGREEMENT_INPUT_FIELDS = frozenset(
    {"key", "title", "kind", "date", "place", "time_zone", "summary"}
)


def _attach_user(instance: Any, user: User) -> None:
    """Record ``user`` as the author of the history row the next save writes."""
    if user is not None and getattr(user, "is_authenticated", False):
        instance._history_user = user


def _set_fields(instance: Any, data: dict[str, Any], allowed: frozenset[str]) -> list[str]:
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(
            {name: "This field cannot be set here." for name in sorted(unknown)}
        )
    changed = []
    for name, value in data.items():
        field = instance._meta.get_field(name)
        if field.many_to_one:
            current = getattr(instance, field.attname)
            new = value.pk if value is not None else None
        else:
            current, new = getattr(instance, name), value
        if current != new:
            setattr(instance, name, value)
            changed.append(name)
    return changed


@transaction.atomic
def commitment_save(
    *,
    commitment: Commitment,
    user: User = None,
    beneficiaries: Iterable[Party] | None = None,
    changed_fields: Iterable[str] | None = None,
) -> Commitment:
    """Validate and save a commitment whose input fields are already set, then its dependents.

    Computes its due date and saves it: all fields for a new row, ``changed_fields`` plus the
    computed ones for an existing row. Commitments anchored on this one count from its
    fulfilment, which only :func:`commitment_change_status` moves.
    """
    creating = commitment.pk is None
    commitment.full_clean()
    computed = commitment_apply_rule(commitment=commitment)
    _attach_user(commitment, user)
    if creating:
        commitment.save()
    else:
        fields = set(changed_fields) if changed_fields is not None else None
        if fields is None:
            commitment.save()
        elif fields or computed:
            commitment.save(update_fields=sorted({*fields, *computed, "updated"}))
    if beneficiaries is not None:
        commitment.beneficiaries.set(beneficiaries)
    if creating or computed:
        hooks.deadline_inputs_changed(commitment_ids=[commitment.pk])
    return commitment


def commitment_create(
    *, user: User = None, beneficiaries: Iterable[Party] = (), **data: Any
) -> Commitment:
    """Create a commitment from input fields; raise ``ValidationError`` naming bad fields."""
    commitment = Commitment()
    _set_fields(commitment, data, COMMITMENT_INPUT_FIELDS)
    return commitment_save(commitment=commitment, user=user, beneficiaries=beneficiaries)


def commitment_update(
    *,
    commitment: Commitment,
    user: User = None,
    beneficiaries: Iterable[Party] | None = None,
    **data: Any,
) -> Commitment:
    """Change a commitment's input fields; raise ``ValidationError`` naming bad fields."""
    changed = _set_fields(commitment, data, COMMITMENT_INPUT_FIELDS)
    return commitment_save(
        commitment=commitment, user=user, beneficiaries=beneficiaries, changed_fields=changed
    )


@transaction.atomic
def agreement_save(
    *,
    agreement: Agreement,
    user: User = None,
    parties: Iterable[Party] | None = None,
    changed_fields: Iterable[str] | None = None,
) -> Agreement:
    """Validate and save an agreement; recompute its commitments if its date or zone changed.

    Commitments whose fixed deadline would fall before a moved agreement date make the whole
    save fail with an error on ``date``.
    """
    creating = agreement.pk is None
    agreement.full_clean()
    _attach_user(agreement, user)
    fields = set(changed_fields) if changed_fields is not None else None
    if creating or fields is None:
        agreement.save()
    elif fields:
        agreement.save(update_fields=sorted({*fields, "updated"}))
    if parties is not None:
        agreement.parties.set(parties)
    if not creating and (fields is None or fields & {"date", "time_zone"}):
        commitments = list(
            agreement.commitments.select_related("agreement", "anchor_commitment").order_by("pk")
        )
        for commitment in commitments:
            commitment.agreement = agreement
            try:
                commitment.clean()
            except ValidationError as exc:
                raise ValidationError(
                    {
                        "date": _first_errors(
                            exc, prefix=f"Commitment {commitment.key!r} would break: "
                        )
                    }
                ) from exc
        due_dates_recompute(commitments=commitments)
    return agreement


def _first_errors(exc: ValidationError, *, prefix: str) -> list[str]:
    return [prefix + message for message in exc.messages]


def agreement_create(
    *, user: User = None, parties: Iterable[Party] = (), **data: Any
) -> Agreement:
    """Create an agreement; raise ``ValidationError`` naming bad fields."""
    agreement = Agreement()
    _set_fields(agreement, data, AGREEMENT_INPUT_FIELDS)
    return agreement_save(agreement=agreement, user=user, parties=parties)


def agreement_update(
    *, agreement: Agreement, user: User = None, parties: Iterable[Party] | None = None, **data: Any
) -> Agreement:
    """Change an agreement; recompute dependent due dates in the same transaction."""
    changed = _set_fields(agreement, data, AGREEMENT_INPUT_FIELDS)
    return agreement_save(agreement=agreement, user=user, parties=parties, changed_fields=changed)


@transaction.atomic
def commitment_change_status(
    *,
    commitment: Commitment,
    status: str,
    user: User = None,
    occurred_on: dt.date | None = None,
    note: str = "",
    measured_value: Any = None,
    evidence: Citation | None = None,
    evidence_source: Source | None = None,
    evidence_quote: str = "",
    evidence_translation: str = "",
    evidence_locator: str = "",
) -> ProgressUpdate:
    """Record a progress update that may change the commitment's status.

    Moving to fulfilled, partially fulfilled or missed needs evidence: an existing citation of
    this commitment, or a source and a quote from which one is made. Fulfilment sets
    ``fulfilled_on`` and recomputes the commitments anchored on it. Nothing is written if any
    check fails.
    """
    commitment = Commitment.objects.select_for_update().select_related("agreement").get(
        pk=commitment.pk
    )
    if status not in Status.values:
        raise ValidationError({"status": f"{status!r} is not a status."})
    occurred_on = occurred_on or timezone.localdate()
    if evidence is None and (evidence_source is not None or evidence_quote):
        if evidence_source is None:
            raise ValidationError({"evidence_source": "A quote needs the source it comes from."})
        evidence = Citation(
            source=evidence_source,
            commitment=commitment,
            quote=evidence_quote,
            translation=evidence_translation,
            locator=evidence_locator,
        )
        try:
            evidence.full_clean()
        except ValidationError as exc:
            raise ValidationError(
                {f"evidence_{name}": errs for name, errs in exc.message_dict.items()}
            ) from exc
        _attach_user(evidence, user)
        evidence.save()
    elif evidence is not None and evidence.commitment_id != commitment.pk:
        raise ValidationError({"evidence": "The evidence must be a citation of this commitment."})
    if status in EVIDENCE_REQUIRED and evidence is None:
        raise ValidationError(
            {
                "evidence": (
                    f"Moving to {Status(status).label} needs an evidence citation: "
                    "a source and a quote."
                )
            }
        )
    if occurred_on < commitment.agreement.date:
        raise ValidationError({"occurred_on": "The update is dated before the agreement."})
    status_changed = status != commitment.status
    update = ProgressUpdate(
        commitment=commitment,
        occurred_on=occurred_on,
        status_from=commitment.status if status_changed else "",
        status_to=status if status_changed else "",
        note=note,
        measured_value=measured_value,
        evidence=evidence,
        author=user if getattr(user, "is_authenticated", False) else None,  # type: ignore[misc]
    )
    update.full_clean()
    _attach_user(update, user)
    update.save()
    if status_changed:
        commitment.status = status
        commitment.status_changed_at = timezone.now()
        fulfilled_on = occurred_on if status in FULFILMENT else None
        fields = ["status", "status_changed_at", "updated"]
        if commitment.fulfilled_on != fulfilled_on:
            commitment.fulfilled_on = fulfilled_on
            fields.append("fulfilled_on")
        _attach_user(commitment, user)
        commitment.save(update_fields=fields)
        hooks.deadline_inputs_changed(commitment_ids=[commitment.pk])
        if "fulfilled_on" in fields:
            due_dates_recompute(
                commitments=Commitment.objects.select_related("agreement", "anchor_commitment")
                .filter(anchor_commitment=commitment)
                .order_by("pk")
            )
    return update
