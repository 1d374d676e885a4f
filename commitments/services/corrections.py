"""Corrections: a change to published content, made with a public note saying why.

:func:`correction_record` is the one way to correct: it applies the change through the
agreement and commitment services (so due dates and what hangs on them recompute) and writes
one :class:`Correction` per field whose value really changed, with the value as a reader
read it before and reads it now. A change to a draft is an edit, not a correction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.roles import can_write

from ..models import Agreement, Commitment, Correction
from ..visibility import is_public
from .commitments import agreement_update, commitment_update

User = Any


def reader_value(instance: models.Model, name: str) -> str:
    """Return a field's value as a reader reads it: a choice's label, a date in ISO, a name.

    Stored in English, whatever the editor's language, so the log reads the same tomorrow.
    """
    field = instance._meta.get_field(name)
    value = getattr(instance, name)
    if value is None or value == "":
        return ""
    choices = getattr(field, "flatchoices", None)
    if choices:
        return str(dict(choices).get(value, value))
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _reader_values(instance: models.Model, names: Iterable[str]) -> dict[str, str]:
    with translation.override("en"):
        return {name: reader_value(instance, name) for name in names}


def _parsed(instance: models.Model, changes: dict[str, Any]) -> dict[str, Any]:
    """Return ``changes`` as the fields store them; raise naming each field refused.

    Values from JSON ("90", "2026-03-31") are parsed here, so that the rules the services
    check next see numbers and dates, whatever interface sent them.
    """
    fields = {f.name: f for f in instance._meta.get_fields()}
    parsed: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for name, value in sorted(changes.items()):
        field = fields.get(name)
        if field is None:
            errors[name] = _("There is no such field to correct.")
        elif field.is_relation:
            if isinstance(value, models.Model):
                parsed[name] = value
            else:
                errors[name] = _("This field cannot be corrected here: change it in the admin.")
        else:
            try:
                parsed[name] = field.to_python(value)  # type: ignore[union-attr]
            except ValidationError as exc:
                errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return parsed


def correction_refusal(*, agreement: Agreement, user: User) -> str | None:
    """Return why ``user`` may not correct ``agreement`` now, or None if they may."""
    if user is None or not can_write(user):
        return _("Only an editor may correct what is published.")
    if not is_public(agreement):
        return _(
            "This agreement is not published: a change to a draft is an edit, not a "
            "correction. Change it without a public note."
        )
    return None


@transaction.atomic
def correction_record(
    *,
    target: Agreement | Commitment,
    changes: dict[str, Any],
    note: str,
    user: User,
    now: dt.datetime | None = None,
) -> list[Correction]:
    """Correct ``target``'s fields to ``changes``, saying why in ``note`` (shown publicly).

    Raise ``PermissionDenied`` for a user who is not an editor, and ``ValidationError``
    naming the field for: no note (``note``); an agreement not published (``agreement``);
    nothing to change or nothing that changes (``changes``); a value the services refuse
    (that field). Nothing is written unless everything is. Return the corrections written.
    """
    now = now or timezone.now()
    agreement: Agreement
    if isinstance(target, Commitment):
        commitment = Commitment.objects.select_for_update().get(pk=target.pk)
        target, agreement = commitment, commitment.agreement
    else:
        agreement = Agreement.objects.select_for_update().get(pk=target.pk)
        target = agreement
    if user is None or not can_write(user):
        raise PermissionDenied(_("Only an editor may correct what is published."))
    errors: dict[str, str] = {}
    refusal = correction_refusal(agreement=agreement, user=user)
    if refusal:
        errors["agreement"] = refusal
    note = (note or "").strip()
    if not note:
        errors["note"] = _("Say why: a correction is shown to the public with its note.")
    if not changes:
        errors["changes"] = _("Say what is corrected: at least one field and its value.")
    if errors:
        raise ValidationError(errors)
    changes = _parsed(target, changes)
    before = _reader_values(target, changes)
    if isinstance(target, Commitment):
        commitment_update(commitment=target, user=user, **changes)
    else:
        agreement_update(agreement=target, user=user, **changes)
    after = _reader_values(target, changes)
    moved = [name for name in changes if before[name] != after[name]]
    if not moved:
        raise ValidationError(
            {"changes": _("These values are the ones published: nothing is corrected.")}
        )
    return Correction.objects.bulk_create(
        Correction(
            agreement=agreement,
            commitment=target if isinstance(target, Commitment) else None,
            field=name,
            old_value=before[name],
            new_value=after[name],
            note=note,
            corrected_at=now,
            author=user,
        )
        for name in moved
    )

