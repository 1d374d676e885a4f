"""Rate an obligor's compliance with a commitment, review ratings, and flag reviews due.

:func:`assessment_record` is the one writer of ratings: the admin, the dashboard, the API,
the seed loader and the backup go through it. Ratings are appended (the history is the
rows); the previous current rating of the same obligor stops being current.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments.assessment import JUDGED, RECORDABLE, RULES, Rating
from commitments.models import Agreement, Assessment, Citation, Commitment, Party, Source
from commitments.services.commitments import commitment_lock, evidence_resolve
from commitments.services.deadlines import User, attach_user
from commitments.services.sources import originals_discarded_on_error
from core.dates import local_date
from core.statements import Batch, batches_run, statement_compiled, update_sql


def review_after_days() -> int:
    """Return how many days a rating may go unreviewed before it is flagged "review due"."""
    return int(settings.TRACKER_REVIEW_AFTER_DAYS)


def review_due_before(today: dt.date) -> dt.date:
    """Return the day before which a last review is too old on ``today``: the one rule."""
    return today - dt.timedelta(days=review_after_days())


def obligor_ids(commitment: Commitment) -> list[int]:
    """Return the ids of the parties the commitment binds: its obligor, then the others."""
    return [commitment.obligor_id, *commitment.co_obligors.values_list("pk", flat=True)]


def _local_today(commitment: Commitment, now: dt.datetime) -> dt.date:
    return local_date(now, commitment.agreement.time_zone)


@originals_discarded_on_error()
@transaction.atomic
def assessment_record(
    *,
    commitment: Commitment,
    party: Party,
    rating: str,
    justification: str,
    justification_fr: str = "",
    assessed_on: dt.date | None = None,
    user: User = None,
    now: dt.datetime | None = None,
    evidence: Citation | None = None,
    evidence_source: Source | None = None,
    evidence_quote: str = "",
    evidence_translation: str = "",
    evidence_locator: str = "",
    evidence_new_source: dict[str, Any] | None = None,
) -> Assessment:
    """Record a rating of ``party``'s compliance with ``commitment``, from ``assessed_on``.

    Checks, each refused with the field named and nothing written: the rating is on the
    scale; the party is one of the commitment's obligors; the justification is not blank;
    the date (default: today in the agreement's time zone) is neither before the agreement,
    nor in the future, nor before this obligor's current rating (history is appended in
    order); a judged rating (kept, compromise, broken) has evidence, an existing citation of
    the commitment or a source and a quote that become one.
    """
    now = now or timezone.now()
    commitment = commitment_lock(commitment=commitment)
    errors: dict[str, str] = {}
    if rating not in RECORDABLE:
        errors["rating"] = _("%(rating)r is not a rating on the scale.") % {"rating": rating}
    if party.pk not in obligor_ids(commitment):
        errors["party"] = _("%(party)s is not an obligor of this commitment.") % {"party": party}
    justification = (justification or "").strip()
    if not justification:
        errors["justification"] = _("Say why: every rating needs a justification.")
    today = _local_today(commitment, now)
    assessed_on = assessed_on or today
    current = (
        Assessment.objects.select_for_update()
        .filter(commitment=commitment, party=party, current=True)
        .first()
    )
    if assessed_on > today:
        errors["assessed_on"] = _("A rating cannot be dated in the future.")
    elif assessed_on < commitment.agreement.date:
        errors["assessed_on"] = _("The rating is dated before the agreement.")
    elif current is not None and assessed_on < current.assessed_on:
        errors["assessed_on"] = _(
            "This obligor's current rating is dated %(date)s: a new rating cannot be dated "
            "before it."
        ) % {"date": current.assessed_on.isoformat()}
    if errors:
        raise ValidationError(errors)
    citation = evidence_resolve(
        commitment=commitment,
        user=user,
        evidence=evidence,
        source=evidence_source,
        quote=evidence_quote,
        translation=evidence_translation,
        locator=evidence_locator,
        new_source=evidence_new_source,
    )
    if rating in JUDGED and citation is None:
        raise ValidationError(
            {
                "evidence": _(
                    "Rating it %(rating)s states a finding: it needs evidence, a source and a "
                    "quote."
                )
                % {"rating": _(RULES[Rating(rating)].label)}
            }
        )
    if current is not None:
        current.current = False
        current.review_due = False
        attach_user(current, user)
        current.save(update_fields=["current", "review_due"])
    assessment = Assessment(
        commitment=commitment,
        party=party,
        rating=rating,
        assessed_on=assessed_on,
        justification=justification,
        justification_fr=(justification_fr or "").strip(),
        evidence=citation,
        author=user if user is not None and user.is_authenticated else None,  # type: ignore[misc]
        current=True,
        reviewed_on=assessed_on,
        review_due=assessed_on < review_due_before(today),
    )
    assessment.full_clean()
    attach_user(assessment, user)
    assessment.save()
    return assessment


@transaction.atomic
def assessment_review(
    *,
    assessment: Assessment,
    reviewed_on: dt.date | None = None,
    user: User = None,
    now: dt.datetime | None = None,
) -> Assessment:
    """Confirm that a current rating still holds on ``reviewed_on`` (default: today).

    Only the current rating of an obligor can be reviewed; a changed judgement is a new
    rating (:func:`assessment_record`).
    """
    now = now or timezone.now()
    commitment = commitment_lock(commitment=assessment.commitment)
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    today = _local_today(commitment, now)
    reviewed_on = reviewed_on or today
    if not assessment.current:
        raise ValidationError(
            {"assessment": _("Only the current rating can be reviewed: record a new rating.")}
        )
    if reviewed_on > today:
        raise ValidationError({"reviewed_on": _("A review cannot be dated in the future.")})
    if reviewed_on < assessment.reviewed_on:
        raise ValidationError(
            {
                "reviewed_on": _("The rating was last reviewed on %(date)s, after this date.")
                % {"date": assessment.reviewed_on.isoformat()}
            }
        )
    assessment.reviewed_on = reviewed_on
    assessment.review_due = reviewed_on < review_due_before(today)
    attach_user(assessment, user)
    assessment.save(update_fields=["reviewed_on", "review_due"])
    return assessment


def review_zones() -> QuerySet[Agreement, str]:
    """Return the time zones :func:`review_due_flag` reads (each once), as a queryset."""
    return Agreement.objects.order_by().values_list("time_zone", flat=True).distinct()


@transaction.atomic(savepoint=False)
def review_due_flag(*, now: dt.datetime, zones: Sequence[str] | None = None) -> dict[str, int]:
    """Flag the current ratings whose last review is too old; clear the others.

    "Too old" counts from today in each rating's agreement's time zone, as recording and
    reviewing a rating do, so the scan never flips a flag they set. Two set-based
    ``UPDATE`` statements (each zone with its own boundary), sent together, that touch only
    rows whose flag is wrong, like the deadline flags: a second run at the same instant
    changes nothing. ``zones`` is what :func:`review_zones` returns, if the caller has read
    it already. Returns the rows flagged and cleared.
    """
    if zones is None:
        zones = list(review_zones())
    [flagged] = batches_run(review_due_batch(now=now, zones=zones))
    return flagged


def review_due_batch(*, now: dt.datetime, zones: Sequence[str]) -> Batch[dict[str, int]]:
    """Return the statements of :func:`review_due_flag`, to send with others (the scan's).

    Run, they flag and clear; the batch's result is the rows flagged and cleared.
    """
    boundaries = tuple((zone, review_due_before(local_date(now, zone))) for zone in sorted(zones))
    if not boundaries:
        # No agreement: no rating, no statement.
        return Batch(statements=[], result=lambda ran: {"flagged": 0, "cleared": 0})
    # The statements change only when a zone's day does: compiled once per process and
    # boundaries (:mod:`core.statements`), as the scan runs them every few minutes.
    return Batch(
        statements=[_review_due_write(boundaries, review_due=due) for due in (True, False)],
        result=lambda ran: {"flagged": ran[0].rowcount, "cleared": ran[1].rowcount},
    )


def _review_due_write(
    boundaries: tuple[tuple[str, dt.date], ...], *, review_due: bool
) -> tuple[str, list[Any]]:
    """Return the ``UPDATE`` setting ``review_due`` on the current ratings where it is wrong.

    One statement for all the zones (each with its own boundary), not two per zone: a scan
    with nothing to change is a few round trips, whatever the number of zones.
    """

    def build() -> tuple[str, Sequence[Any]]:
        wrong = Q(pk__in=[])
        for zone, before in boundaries:
            reviewed = Q(reviewed_on__lt=before) if review_due else Q(reviewed_on__gte=before)
            wrong |= Q(commitment__agreement__time_zone=zone) & reviewed
        rows = Assessment.objects.filter(wrong, current=True, review_due=not review_due)
        return update_sql(rows, review_due=review_due)

    return statement_compiled(("review due", boundaries, review_due), build)
