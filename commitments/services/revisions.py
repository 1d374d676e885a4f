"""Revise a commitment's deadline: extend it, bring it forward, renegotiate, suspend, resume.

Every revision is kept, in order, with its reason and an evidence citation; the commitment's
``original_due_date`` (what its own rule gives) never moves, its ``due_date`` is the rule's
date after the revisions (:func:`commitments.deadlines.revise`). A recurring commitment's
occurrences are not revised here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments import deadlines
from commitments.choices import TERMINAL, PrecisionChoice, RecurrenceKind, RevisionKind, Status
from commitments.models import Citation, Commitment, DeadlineRevision, Source
from commitments.services import hooks
from commitments.services.commitments import (
    commitment_deadline_refresh,
    commitment_lock,
    evidence_resolve,
)
from commitments.services.deadlines import User, attach_user
from commitments.services.sources import originals_discarded_on_error
from core.dates import date_in_range, local_date

#: The kinds of revision that must give a new due date.
NEW_DATE_REQUIRED = (RevisionKind.EXTENDED, RevisionKind.BROUGHT_FORWARD, RevisionKind.RENEGOTIATED)


@originals_discarded_on_error()
@transaction.atomic
def revision_create(
    *,
    commitment: Commitment,
    kind: str,
    reason: str,
    user: User = None,
    now: dt.datetime | None = None,
    revised_on: dt.date | None = None,
    new_due_date: dt.date | None = None,
    new_precision: str = "",
    evidence: Citation | None = None,
    evidence_source: Source | None = None,
    evidence_quote: str = "",
    evidence_translation: str = "",
    evidence_locator: str = "",
    evidence_new_source: dict[str, Any] | None = None,
) -> DeadlineRevision:
    """Record a revision of the commitment's deadline and apply it; return the revision.

    Needs a reason and evidence (an existing citation of this commitment, or a source and a
    quote from which one is made). Extending needs a later date, bringing forward an earlier
    one, renegotiating a different one; a month, quarter or year ``new_precision`` moves the
    date to the end of that period. Suspending stops the deadline's clock (not overdue while
    suspended); resuming restarts it, optionally at a new date. ``revised_on`` defaults to
    ``now``'s date in the agreement's time zone. Each refusal names its field; nothing is
    written if any check fails. The alerts re-arm for a new date, and listeners hear of the
    due-date change and of the revision.
    """
    now = now or timezone.now()
    commitment = commitment_lock(commitment=commitment)
    _check_revisable(commitment=commitment, kind=kind)
    revised_on = _revised_on(commitment=commitment, revised_on=revised_on, now=now)
    new_due_date, new_precision = _new_deadline(
        commitment=commitment, kind=kind, new_due_date=new_due_date, new_precision=new_precision
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the revision.")})
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
    if evidence is None:
        raise ValidationError(
            {"evidence": _("A revision needs an evidence citation: a source and a quote.")}
        )
    revision = DeadlineRevision(
        commitment=commitment,
        kind=kind,
        revised_on=revised_on,
        old_due_date=commitment.due_date,
        old_precision=commitment.due_precision,
        new_due_date=new_due_date,
        new_precision=new_precision,
        reason=reason,
        evidence=evidence,
        author=user if user is not None and user.is_authenticated else None,  # type: ignore[misc]
    )
    revision.full_clean()
    attach_user(revision, user)
    revision.save()
    _revision_apply(commitment=commitment, revision=revision, user=user, now=now)
    return revision


def revision_refusal(*, commitment: Commitment) -> str | None:
    """Return why ``commitment``'s deadline cannot be revised at all, or ``None`` if it can.

    The pages ask before offering the form, so an analyst is not sent to fill in a revision
    that :func:`revision_create` would refuse whatever its kind (closed, recurring, undated).
    """
    try:
        _check_revisable(commitment=commitment, kind=RevisionKind.EXTENDED)
    except ValidationError as exc:
        return " ".join(str(message) for message in exc.messages)
    return None


def _check_revisable(*, commitment: Commitment, kind: str) -> None:
    """Refuse a revision the commitment cannot take: closed, undated, recurring, bad kind."""
    if kind not in RevisionKind.values:
        raise ValidationError({"kind": _("%(kind)r is not a kind of revision.") % {"kind": kind}})
    if commitment.status in TERMINAL:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: _(
                    "The commitment is %(status)s: a closed commitment's deadline is not revised."
                )
                % {"status": Status(commitment.status).label.lower()}
            }
        )
    if commitment.recurrence != RecurrenceKind.NONE:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: _(
                    "The commitment recurs: the deadlines of its occurrences are not revised here."
                )
            }
        )
    if commitment.due_date is None:
        raise ValidationError(
            {"kind": _("The commitment has no due date to revise: give it a deadline rule.")}
        )
    if kind == RevisionKind.SUSPENDED and commitment.deadline_suspended:
        raise ValidationError({"kind": _("The deadline is already suspended.")})
    if kind == RevisionKind.RESUMED and not commitment.deadline_suspended:
        raise ValidationError({"kind": _("Resuming a deadline that is not suspended.")})


def _revised_on(*, commitment: Commitment, revised_on: dt.date | None, now: dt.datetime) -> dt.date:
    """Return the revision's date, today in the agreement's zone by default; check it."""
    today = local_date(now, commitment.agreement.time_zone)
    if revised_on is None:
        return today
    if not date_in_range(revised_on):
        raise ValidationError({"revised_on": _("The date is out of the accepted range.")})
    if revised_on < commitment.agreement.date:
        raise ValidationError({"revised_on": _("The revision is dated before the agreement.")})
    if revised_on > today:
        raise ValidationError({"revised_on": _("The revision is dated in the future.")})
    last = commitment.revisions.order_by("-revised_on", "-pk").values_list("revised_on", flat=True)[
        :1
    ]
    if last and revised_on < last[0]:
        raise ValidationError(
            {
                "revised_on": _("The revision is dated before the previous one (%(date)s).")
                % {"date": last[0].isoformat()}
            }
        )
    return revised_on


def _new_deadline(
    *, commitment: Commitment, kind: str, new_due_date: dt.date | None, new_precision: str
) -> tuple[dt.date | None, str]:
    """Return the revision's new due date, at the end of its period, and its precision."""
    new_precision = new_precision or PrecisionChoice.DAY
    if new_precision not in PrecisionChoice.values:
        raise ValidationError(
            {"new_precision": _("%(value)r is not a precision.") % {"value": new_precision}}
        )
    if kind == RevisionKind.SUSPENDED:
        if new_due_date is not None:
            raise ValidationError(
                {"new_due_date": _("A suspension keeps the date: give no new date.")}
            )
        return None, ""
    if new_due_date is None:
        if kind in NEW_DATE_REQUIRED:
            raise ValidationError(
                {"new_due_date": _("This field is required: give the new due date.")}
            )
        # Resumed at the date it had: the revision records that date (every revision but a
        # suspension names the date it leaves in force).
        return commitment.due_date, commitment.due_precision or PrecisionChoice.DAY
    new_due_date = deadlines.end_of_period(new_due_date, deadlines.Precision(new_precision))
    if not date_in_range(new_due_date):
        raise ValidationError({"new_due_date": _("The date is out of the accepted range.")})
    if new_due_date < commitment.agreement.date:
        raise ValidationError(
            {"new_due_date": _("The new due date is before the agreement's date.")}
        )
    # _check_revisable refused an undated commitment.
    current = cast(dt.date, commitment.due_date)
    if kind == RevisionKind.EXTENDED and new_due_date <= current:
        raise ValidationError(
            {
                "new_due_date": _(
                    "An extension needs a date after the current due date (%(date)s)."
                )
                % {"date": current.isoformat()}
            }
        )
    if kind == RevisionKind.BROUGHT_FORWARD and new_due_date >= current:
        raise ValidationError(
            {
                "new_due_date": _(
                    "Bringing forward needs a date before the current due date (%(date)s)."
                )
                % {"date": current.isoformat()}
            }
        )
    if kind == RevisionKind.RENEGOTIATED and new_due_date == current:
        raise ValidationError(
            {
                "new_due_date": _(
                    "A renegotiated deadline needs a date other than the current one (%(date)s)."
                )
                % {"date": current.isoformat()}
            }
        )
    return new_due_date, new_precision


def _revision_apply(
    *, commitment: Commitment, revision: DeadlineRevision, user: User, now: dt.datetime
) -> None:
    """Fold the revisions into the commitment's deadline; re-flag it; tell the listeners."""
    # The state moves (suspended, or a new date's) and the alerts re-arm for a new date.
    commitment_deadline_refresh(commitment=commitment, user=user, now=now)
    hooks.deadline_revised(
        revision=hooks.DeadlineRevised(
            commitment_id=commitment.pk,
            revision_id=revision.pk,
            kind=revision.kind,
            revised_on=revision.revised_on,
            old_due_date=revision.old_due_date,
            new_due_date=revision.new_due_date,
            new_precision=revision.new_precision,
            reason=revision.reason,
        ),
        at=now,
    )
