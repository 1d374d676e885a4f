"""Create and change agreements and commitments, keeping due dates computed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments import deadlines
from commitments.choices import (
    EVIDENCE_REQUIRED,
    FULFILMENT,
    PublicationState,
    RecurrenceKind,
    Status,
)
from commitments.deadlines import recurrence
from commitments.models import (
    DUE_DATE_RELATIONS,
    Agreement,
    Citation,
    Commitment,
    Occurrence,
    Party,
    ProgressUpdate,
    Source,
)
from commitments.services import hooks
from commitments.services.deadlines import (
    User,
    attach_user,
    commitment_apply_rule,
    commitment_due_date,
    due_dates_recompute,
)
from commitments.services.occurrences import occurrences_sync
from commitments.services.sources import (
    citation_place,
    evidence_source_create,
    originals_discarded_on_error,
)
from commitments.stages import STAGE_FIELDS
from core.constraints import full_clean_many
from core.dates import local_date

#: Fields a caller may set on a commitment; the rest are computed or written by services.
COMMITMENT_INPUT_FIELDS = frozenset(
    {
        "agreement",
        "key",
        "title",
        "description",
        "title_fr",
        "description_fr",
        "machine_translations",
        "obligor",
        "category",
        "target_amount",
        "target_unit",
        "effective_from",
        *deadlines.RULE_FIELD_NAMES,
        *recurrence.FIELD_NAMES,
        "owner",
        *STAGE_FIELDS,
    }
)
AGREEMENT_INPUT_FIELDS = frozenset(
    {
        "key",
        "title",
        "kind",
        "date",
        "place",
        "time_zone",
        "summary",
        "title_fr",
        "summary_fr",
        "machine_translations",
    }
)


def _set_fields(instance: models.Model, data: dict[str, Any], allowed: frozenset[str]) -> list[str]:
    """Set ``data`` on ``instance``; return the names whose value really changed.

    Raise ``ValidationError`` naming every field that is not in ``allowed``.
    """
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), _("This field cannot be set here.")))
    changed = []
    for name, value in data.items():
        field = instance._meta.get_field(name)
        if _field_value(instance, field) != _comparable(field, value):
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _field_value(instance: models.Model, field: Any) -> Any:
    return getattr(instance, field.attname if field.many_to_one else field.name)


def _comparable(field: Any, value: Any) -> Any:
    """Return ``value`` as the field stores it ("15" as 15 for a number), or as given."""
    if field.many_to_one:
        return value.pk if isinstance(value, models.Model) else value
    try:
        return field.to_python(value)
    except ValidationError:
        return value


@transaction.atomic
def commitment_save(
    *,
    commitment: Commitment,
    user: User = None,
    beneficiaries: Iterable[Party] | None = None,
    co_obligors: Iterable[Party] | None = None,
    changed_fields: Iterable[str] | None = None,
) -> Commitment:
    """Validate and save a commitment whose input fields are already set.

    Computes its due date and saves it: all fields for a new row, ``changed_fields`` plus the
    computed ones for an existing row (nothing if both are empty). Commitments anchored on
    this one count from its fulfilment, which only :func:`commitment_change_status` moves.
    """
    creating = commitment.pk is None
    if not creating and (changed_fields is None or "agreement" in changed_fields):
        _agreement_move_check(commitment)
    co_obligors = _co_obligors_check(commitment, co_obligors)
    if _recurrence_interval_default(commitment) and changed_fields is not None:
        changed_fields = [*changed_fields, "recurrence_interval"]
    commitment.full_clean()
    if changed_fields is not None and "effective_from_precision" in changed_fields:
        # The clean moved the date to its period's first day: saved with its precision.
        changed_fields = [*changed_fields, "effective_from"]
    old_due_date = commitment.due_date
    computed = commitment_apply_rule(commitment=commitment)
    attach_user(commitment, user)
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
    if co_obligors is not None:
        commitment.co_obligors.set(co_obligors)
    moved = changed_fields is None or "obligor" in changed_fields
    if not creating and (moved or co_obligors is not None):
        # Unless the obligors changed, the parties bound are those every rating was made of.
        _rated_parties_kept(commitment, field="obligor" if moved else "co_obligors")
    occurrences_changed = occurrences_sync(commitment=commitment)
    if creating or computed or occurrences_changed:
        commitment_deadline_reflag(commitment)
    if not creating and "due_date" in computed:
        change = hooks.FieldChange(commitment.pk, "due_date", old_due_date, commitment.due_date)
        hooks.fields_changed(changes=[change], at=timezone.now())
    return commitment


def _recurrence_interval_default(commitment: Commitment) -> bool:
    """Give a recurrence without an interval the interval 1; return whether it was set.

    Period-end recurrences repeat every period unless told otherwise.
    """
    if commitment.recurrence != RecurrenceKind.NONE and commitment.recurrence_interval is None:
        commitment.recurrence_interval = 1
        return True
    return False


@dataclass
class NewCommitment:
    """A commitment to create, its input fields set, with its party lists."""

    commitment: Commitment
    beneficiaries: list[Party] = field(default_factory=list)
    co_obligors: list[Party] = field(default_factory=list)


def commitments_create_many(
    *, new: Sequence[NewCommitment], user: User = None
) -> dict[int, ValidationError]:
    """Create many commitments as :func:`commitment_save` creates one; return the refusals.

    Each row is judged by the very checks a single creation runs, in the same order (the
    other obligors, the recurrence's default interval, ``full_clean``, the computed due
    date), with the queries gathered per batch (:func:`core.constraints.full_clean_many`).
    The rows without an error are written with one insert per table, their history as
    django-simple-history writes it for :func:`commitment_save` (the insert, then one
    version per party list set, each with its lists), and the listeners are told of them
    once. The answer maps the index of each refused row to its ``ValidationError``; the
    caller decides whether the others stay (the import rolls every row back).
    """
    refused: dict[int, ValidationError] = {}
    checked: list[int] = []
    for number, row in enumerate(new):
        try:
            _co_obligors_check(row.commitment, row.co_obligors)
        except ValidationError as exc:
            refused[number] = exc
            continue
        _recurrence_interval_default(row.commitment)
        checked.append(number)
    found = full_clean_many([new[number].commitment for number in checked])
    valid: list[int] = []
    for number, error in zip(checked, found, strict=True):
        if error is not None:
            refused[number] = error
            continue
        try:
            commitment_apply_rule(commitment=new[number].commitment)
        except ValidationError as exc:
            refused[number] = exc
            continue
        valid.append(number)
    rows = [new[number] for number in valid]
    if rows:
        _commitments_write(rows=rows, user=user)
    return refused


def _commitments_write(*, rows: Sequence[NewCommitment], user: User) -> None:
    """Insert validated new commitments, their party lists and their history; tell once."""
    commitments = [row.commitment for row in rows]
    for commitment in commitments:
        attach_user(commitment, user)
    history = Commitment.history  # type: ignore[attr-defined]
    Commitment.objects.bulk_create(commitments)
    history.bulk_history_create(commitments, default_change_reason=None)
    # commitment_save sets the beneficiaries, then the other obligors: each non-empty list
    # set adds a version ("~") holding every list as it then stands.
    lists: dict[str, dict[int, list[Party]]] = {"beneficiaries": {}, "co_obligors": {}}
    through_rows: dict[str, list[Any]] = {}
    for name in ("beneficiaries", "co_obligors"):
        through = getattr(Commitment, name).through
        added = [
            through(commitment_id=row.commitment.pk, party_id=party.pk)
            for row in rows
            for party in getattr(row, name)
        ]
        through_rows[name] = through.objects.bulk_create(added)
        for row in rows:
            lists[name][row.commitment.pk] = getattr(row, name)
        changed = [row.commitment for row in rows if getattr(row, name)]
        if not changed:
            continue
        versions = history.bulk_history_create(changed, update=True, default_change_reason=None)
        _history_lists_write(versions=versions, through_rows=through_rows)
    for commitment in commitments:
        if commitment.recurrence_rule.recurs:
            occurrences_sync(commitment=commitment)
    ids = [commitment.pk for commitment in commitments]
    hooks.deadline_inputs_changed(commitment_ids=ids)
    if not hooks.batching():
        states = Commitment.objects.filter(pk__in=ids).values_list(
            "pk", "deadline_state", "flagged_at"
        )
        by_pk = {pk: (state, at) for pk, state, at in states}
        for commitment in commitments:
            commitment.deadline_state, commitment.flagged_at = by_pk[commitment.pk]


def _history_lists_write(*, versions: Sequence[Any], through_rows: dict[str, list[Any]]) -> None:
    """Write the party lists of each history version, as django-simple-history copies them."""
    model = Commitment.history.model  # type: ignore[attr-defined]
    by_commitment = {version.id: version for version in versions}
    for name, rows in through_rows.items():
        copy = getattr(model, name).model
        copy.objects.bulk_create(
            [
                copy(
                    history=by_commitment[row.commitment_id],
                    id=row.id,
                    commitment_id=row.commitment_id,
                    party_id=row.party_id,
                )
                for row in rows
                if row.commitment_id in by_commitment
            ]
        )


def _agreement_move_check(commitment: Commitment) -> None:
    """Refuse moving a commitment out of, or into, a published agreement.

    Its public page, history and corrections belong to its agreement; moving one in would
    publish it without the agreement's review, moving one out would leave its corrections
    and history under an agreement it is no longer part of.
    """
    before = (
        Commitment.objects.filter(pk=commitment.pk)
        .values_list("agreement_id", "agreement__publication_state")
        .first()
    )
    if before is None or before[0] == commitment.agreement_id:
        return
    published = PublicationState.PUBLISHED
    if before[1] == published or commitment.agreement.publication_state == published:
        raise ValidationError(
            {
                "agreement": _(
                    "A commitment of a published agreement stays in it, and none moves into "
                    "one: unpublish the agreement first, or record a new commitment."
                )
            }
        )


def _co_obligors_check(
    commitment: Commitment, co_obligors: Iterable[Party] | None
) -> list[Party] | None:
    """Return the other obligors as a list; refuse the obligor itself among them."""
    if co_obligors is None:
        return None
    parties = list(co_obligors)
    if any(party.pk == commitment.obligor_id for party in parties):
        raise ValidationError(
            {"co_obligors": _("The obligor is already bound: list only the other parties.")}
        )
    return parties


def _rated_parties_kept(commitment: Commitment, *, field: str) -> None:
    """Refuse a change of obligors that would leave a rated party unbound.

    Its ratings would lose their obligor: the editor rates it "cancelled or superseded"
    instead, which keeps the history. Raised inside the save's transaction: nothing is kept.
    """
    bound = [commitment.obligor_id, *commitment.co_obligors.values_list("pk", flat=True)]
    stray = commitment.assessments.exclude(party_id__in=bound).select_related("party").first()
    if stray is not None:
        raise ValidationError(
            {
                field: _(
                    "%(party)s has been rated on this commitment and cannot be removed from "
                    "its obligors: rate it cancelled or superseded instead."
                )
                % {"party": stray.party}
            }
        )


def commitment_deadline_reflag(commitment: Commitment) -> None:
    """Tell the listeners, then read back the deadline state they may have flagged.

    The caller answers with this instance (the API's 200 after a PATCH, the admin's page), so
    it must show the state the re-evaluation just stored, not the one read before it. Within
    :func:`hooks.batched` (the import) the re-evaluation comes at the batch's end: nothing to
    read back yet.
    """
    hooks.deadline_inputs_changed(commitment_ids=[commitment.pk])
    if not hooks.batching():
        commitment.refresh_from_db(fields=["deadline_state", "flagged_at"])


def commitment_deadline_refresh(*, commitment: Commitment, user: User, now: dt.datetime) -> None:
    """Recompute a commitment's deadline after its revisions or occurrences moved, and tell.

    Saves what moved (the folded revisions, the next open occurrence), re-flags the deadline
    (a new due date re-arms its alerts) and tells the listeners of a due-date change: what
    a revision and an occurrence's status change both do once their own row is written.
    """
    old_due_date = commitment.due_date
    fields = commitment_apply_rule(commitment=commitment)
    if fields:
        attach_user(commitment, user)
        commitment.save(update_fields=[*fields, "updated"])
    commitment_deadline_reflag(commitment)
    if "due_date" in fields:
        change = hooks.FieldChange(commitment.pk, "due_date", old_due_date, commitment.due_date)
        hooks.fields_changed(changes=[change], at=now)


def commitment_create(
    *,
    user: User = None,
    beneficiaries: Iterable[Party] = (),
    co_obligors: Iterable[Party] = (),
    **data: Any,
) -> Commitment:
    """Create a commitment from input fields; raise ``ValidationError`` naming bad fields."""
    commitment = Commitment()
    _set_fields(commitment, data, COMMITMENT_INPUT_FIELDS)
    return commitment_save(
        commitment=commitment, user=user, beneficiaries=beneficiaries, co_obligors=co_obligors
    )


def commitment_update(
    *,
    commitment: Commitment,
    user: User = None,
    beneficiaries: Iterable[Party] | None = None,
    co_obligors: Iterable[Party] | None = None,
    **data: Any,
) -> Commitment:
    """Change a commitment's input fields; raise ``ValidationError`` naming bad fields."""
    changed = _set_fields(commitment, data, COMMITMENT_INPUT_FIELDS)
    return commitment_save(
        commitment=commitment,
        user=user,
        beneficiaries=beneficiaries,
        co_obligors=co_obligors,
        changed_fields=changed,
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
    attach_user(agreement, user)
    fields = set(changed_fields) if changed_fields is not None else None
    if creating or fields is None:
        agreement.save()
    elif fields:
        agreement.save(update_fields=sorted({*fields, "updated"}))
    if parties is not None:
        agreement.parties.set(parties)
    if not creating and (fields is None or fields & {"date", "time_zone"}):
        _agreement_commitments_recompute(agreement=agreement, user=user)
    return agreement


def _agreement_commitments_recompute(*, agreement: Agreement, user: User) -> None:
    """Check every commitment against the agreement's new date, then recompute their dates."""
    commitments = list(agreement.commitments.select_related(*DUE_DATE_RELATIONS).order_by("pk"))
    for commitment in commitments:
        commitment.agreement = agreement
        try:
            commitment.clean()
            commitment_due_date(commitment=commitment)
        except ValidationError as exc:
            raise ValidationError(
                {
                    "date": [
                        _("Commitment %(key)r would break: %(reason)s")
                        % {"key": commitment.key, "reason": message}
                        for message in exc.messages
                    ]
                }
            ) from exc
    due_dates_recompute(commitments=commitments, user=user)


def agreement_create(*, user: User = None, parties: Iterable[Party] = (), **data: Any) -> Agreement:
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


@originals_discarded_on_error()
@transaction.atomic
def commitment_change_status(
    *,
    commitment: Commitment,
    status: str,
    user: User = None,
    now: dt.datetime | None = None,
    occurred_on: dt.date | None = None,
    note: str = "",
    measured_value: Any = None,
    evidence: Citation | None = None,
    evidence_source: Source | None = None,
    evidence_quote: str = "",
    evidence_translation: str = "",
    evidence_locator: str = "",
    evidence_new_source: dict[str, Any] | None = None,
    occurrence: Occurrence | None = None,
) -> ProgressUpdate:
    """Record a progress update that may change the commitment's status.

    Moving to fulfilled, partially fulfilled or missed needs evidence: an existing citation of
    this commitment, or a source and a quote from which one is made. Fulfilment sets
    ``fulfilled_on`` and recomputes the commitments anchored on it. ``occurred_on`` defaults
    to ``now``'s date in the agreement's time zone. Nothing is written if any check fails.

    With ``occurrence`` (one of a recurring commitment's), the update is about that
    occurrence and moves its status instead, with the same evidence rules; the commitment's
    mirrored due date then moves to its next open occurrence, re-arming its alerts.
    """
    now = now or timezone.now()
    commitment = commitment_lock(commitment=commitment)
    if status not in Status.values:
        raise ValidationError({"status": _("%(status)r is not a status.") % {"status": status}})
    if occurrence is not None:
        occurrence = _occurrence_lock(commitment=commitment, occurrence=occurrence)
    today = local_date(now, commitment.agreement.time_zone)
    if occurred_on is None:
        occurred_on = today
    elif occurred_on < commitment.agreement.date:
        raise ValidationError({"occurred_on": _("The update is dated before the agreement.")})
    elif occurred_on > today:
        # A future date would sort to the top of the history as the latest news.
        raise ValidationError(
            {
                "occurred_on": _(
                    "The update is dated in the future (today is %(today)s where the "
                    "agreement was made); record it on or after the day it happens."
                )
                % {"today": today.isoformat()}
            }
        )
    if measured_value is not None and _is_negative(measured_value):
        raise ValidationError(
            {"measured_value": _("A measured value cannot be negative; it counts progress.")}
        )
    current_status = occurrence.status if occurrence is not None else commitment.status
    status_changed = status != current_status
    evidence = evidence_resolve(
        commitment=commitment,
        user=user,
        evidence=evidence,
        source=evidence_source,
        quote=evidence_quote,
        translation=evidence_translation,
        locator=evidence_locator,
        new_source=evidence_new_source,
    )
    if status_changed and status in EVIDENCE_REQUIRED and evidence is None:
        raise ValidationError(
            {
                "evidence": _(
                    "Moving to %(status)s needs an evidence citation: a source and a quote."
                )
                % {"status": Status(status).label}
            }
        )
    update = ProgressUpdate(
        commitment=commitment,
        occurrence=occurrence,
        occurred_on=occurred_on,
        status_from=current_status if status_changed else "",
        status_to=status if status_changed else "",
        note=note,
        measured_value=measured_value,
        evidence=evidence,
        author=user if user is not None and user.is_authenticated else None,  # type: ignore[misc]
    )
    update.full_clean()
    attach_user(update, user)
    update.save()
    if update.measured_value is not None and occurrence is None:
        # An occurrence's measurement is that period's, not the commitment's progress (the
        # migration and the backup's older documents read it the same way).
        _progress_measure(commitment=commitment, update=update, user=user)
    if status_changed and occurrence is not None:
        _occurrence_status_apply(
            commitment=commitment,
            occurrence=occurrence,
            status=Status(status),
            update=update,
            now=now,
            user=user,
        )
    elif status_changed:
        _status_apply(
            commitment=commitment, status=Status(status), update=update, now=now, user=user
        )
    return update


def _is_negative(value: Any) -> bool:
    """Return whether ``value`` is a number below zero; other values are the model's to judge."""
    try:
        return Decimal(str(value)) < 0
    except (InvalidOperation, ValueError):
        return False


def _progress_measure(*, commitment: Commitment, update: ProgressUpdate, user: User) -> None:
    """Keep the commitment's latest measurement (by date) and its pace band up to date."""
    latest_on = commitment.progress_measured_on
    if latest_on is not None and update.occurred_on < latest_on:
        return  # an older measurement, entered late: history, not the latest figure
    commitment.progress_measured = update.measured_value
    commitment.progress_measured_on = update.occurred_on
    fields = {
        "progress_measured",
        "progress_measured_on",
        *commitment_apply_rule(commitment=commitment),
    }
    attach_user(commitment, user)
    commitment.save(update_fields=[*sorted(fields), "updated"])


def commitment_lock(*, commitment: Commitment) -> Commitment:
    """Lock the commitment's agreement, then the commitment; return it as now stored.

    Every change of a commitment's status or deadline takes these locks in this order.
    """
    # The agreement, then the commitment, each FOR NO KEY UPDATE. The agreement first, as
    # an agreement change takes them: a change of its date or zone recomputes this
    # commitment's dependents, and must not interleave with this change doing the same.
    # NO KEY: other writers of these rows wait, but a concurrent full scan's commit can check
    # its alerts' foreign keys to the commitment (FOR KEY SHARE); FOR UPDATE would block that
    # check while this change waits on the scan's alerts, a deadlock (tests/alerts/test_scan.py).
    Agreement.objects.select_for_update(no_key=True).filter(pk=commitment.agreement_id).get()
    return (
        Commitment.objects.select_for_update(no_key=True, of=("self",))
        .select_related("agreement")
        .get(pk=commitment.pk)
    )


def evidence_resolve(
    *,
    commitment: Commitment,
    user: User,
    evidence: Citation | None,
    source: Source | None,
    quote: str,
    translation: str = "",
    locator: str = "",
    new_source: dict[str, Any] | None = None,
) -> Citation | None:
    """Return the evidence of a change: an existing citation of ``commitment``, or a new one.

    A new citation is saved from ``source`` and ``quote``; errors on it are named
    ``evidence_*``. Giving both an existing citation and a new quote is refused on
    ``evidence``, as is a citation of another commitment. ``None`` if nothing was given.

    ``new_source`` (the fields of :func:`evidence_source_create`) adds the source the quote
    comes from, in the caller's transaction; choosing an existing source as well is refused.
    """
    if new_source:
        if source is not None:
            raise ValidationError(
                {"evidence_source": _("Choose an existing source or add a new one, not both.")}
            )
        if evidence is None and not quote:
            raise ValidationError(
                {"evidence_quote": _("This field is required: a new source needs its quote.")}
            )
        source = evidence_source_create(user=user, fields=new_source)
    if evidence is not None and (source is not None or quote):
        # Keeping one and dropping the other would lose what the editor typed.
        raise ValidationError(
            {"evidence": _("Choose an existing citation or give a new source and quote, not both.")}
        )
    if evidence is None and (source is not None or quote):
        return _evidence_cite(
            commitment=commitment,
            user=user,
            source=source,
            quote=quote,
            translation=translation,
            locator=locator,
        )
    if evidence is not None and evidence.commitment_id != commitment.pk:
        raise ValidationError(
            {"evidence": _("The evidence must be a citation of this commitment.")}
        )
    return evidence


def _occurrence_lock(*, commitment: Commitment, occurrence: Occurrence) -> Occurrence:
    """Return ``occurrence`` read again under a row lock; refuse one of another commitment."""
    locked = (
        Occurrence.objects.select_for_update(no_key=True)
        .filter(pk=occurrence.pk, commitment_id=commitment.pk)
        .first()
    )
    if locked is None:
        raise ValidationError(
            {"occurrence": _("The occurrence must be one of this commitment's occurrences.")}
        )
    return locked


def _occurrence_status_apply(
    *,
    commitment: Commitment,
    occurrence: Occurrence,
    status: Status,
    update: ProgressUpdate,
    now: dt.datetime,
    user: User,
) -> None:
    """Move ``occurrence`` to ``status``; the commitment then mirrors its next open occurrence."""
    occurrence.status = status
    occurrence.status_changed_at = now
    occurrence.fulfilled_on = update.occurred_on if status in FULFILMENT else None
    attach_user(occurrence, user)
    occurrence.save(update_fields=["status", "status_changed_at", "fulfilled_on", "updated"])
    commitment_deadline_refresh(commitment=commitment, user=user, now=now)


def _evidence_cite(
    *,
    commitment: Commitment,
    user: User,
    source: Source | None,
    quote: str,
    translation: str,
    locator: str,
) -> Citation:
    """Save a citation of ``commitment`` from ``source``; errors are named ``evidence_*``.

    The quote is placed with ``required=True``: evidence is picked or pasted from the
    source, and a source with its archived text must hold the quote, so that the evidence
    stays checkable against it.
    """
    if source is None:
        raise ValidationError({"evidence_source": _("A quote needs the source it comes from.")})
    citation = Citation(
        source=source, commitment=commitment, quote=quote, translation=translation, locator=locator
    )
    citation_place(citation, required=True, field="evidence_quote")
    try:
        citation.full_clean()
    except ValidationError as exc:
        raise ValidationError(
            {f"evidence_{name}": errors for name, errors in exc.message_dict.items()}
        ) from exc
    attach_user(citation, user)
    citation.save()
    return citation


def _status_apply(
    *, commitment: Commitment, status: Status, update: ProgressUpdate, now: dt.datetime, user: User
) -> None:
    """Move ``commitment`` to ``status``; recompute its dependents if its fulfilment moved."""
    old_status = commitment.status
    commitment.status = status
    commitment.status_changed_at = now
    fulfilled_on = update.occurred_on if status in FULFILMENT else None
    fields = ["status", "status_changed_at", "updated"]
    if commitment.fulfilled_on != fulfilled_on:
        commitment.fulfilled_on = fulfilled_on
        fields.append("fulfilled_on")
    # The timeliness of the fulfilment (or none without one): the rule's, computed with the
    # deadline itself.
    fields += [name for name in commitment_apply_rule(commitment=commitment) if name not in fields]
    attach_user(commitment, user)
    commitment.save(update_fields=fields)
    commitment_deadline_reflag(commitment)
    hooks.fields_changed(
        changes=[hooks.FieldChange(commitment.pk, "status", old_status, str(status))], at=now
    )
    if "fulfilled_on" in fields:
        due_dates_recompute(
            commitments=commitment.anchored_commitments.select_related(
                *DUE_DATE_RELATIONS
            ).order_by("pk"),
            user=user,
            cause="occurred_on",
        )
