"""Move an agreement between draft, review and published: the one home of the workflow.

* submit: draft → in review;
* publish: draft or in review → published. Where ``TRACKER_PUBLISH_REVIEW_REQUIRED`` is on,
  only from review, and never by the editor who submitted it or made its latest change
  (to the agreement or one of its commitments): a second pair of eyes;
* unpublish: published → draft, with a reason (it is taken off the public site at once);
* return: in review → draft.

Each step is a :class:`PublicationEvent` with who, when and why, written in the same
transaction as the state. The agreement's own history records the state too.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments.choices import PublicationAction, PublicationState
from commitments.models import (
    Agreement,
    Assessment,
    Citation,
    Commitment,
    DeadlineRevision,
    ProgressUpdate,
    PublicationEvent,
)
from commitments.services.deadlines import User, attach_user
from core.roles import can_write

State = PublicationState
Action = PublicationAction

#: Each action: the states it starts from and the state it leads to.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    Action.SUBMIT: (frozenset({State.DRAFT}), State.REVIEW),
    Action.PUBLISH: (frozenset({State.DRAFT, State.REVIEW}), State.PUBLISHED),
    Action.UNPUBLISH: (frozenset({State.PUBLISHED}), State.DRAFT),
    Action.RETURN: (frozenset({State.REVIEW}), State.DRAFT),
}


def review_required() -> bool:
    """Say whether the site requires a second editor to publish."""
    return bool(getattr(settings, "TRACKER_PUBLISH_REVIEW_REQUIRED", False))


def publication_steps(agreement: Agreement) -> list[str]:
    """Return the actions that lead on from the agreement's state, in the workflow's order."""
    return [
        action
        for action, (sources, _target) in TRANSITIONS.items()
        if agreement.publication_state in sources
    ]


def latest_editor_id(agreement: Agreement) -> int | None:
    """Return who made the latest recorded change to the agreement or what hangs off it.

    Read from the history of the agreement, its commitments, their citations, status
    changes, deadline revisions and ratings: whoever changed any of them last made the
    change a second editor must review.
    """
    commitment_ids = list(
        Commitment.history.filter(agreement_id=agreement.pk).values_list("id", flat=True).distinct()
    )
    histories = [
        Agreement.history.filter(id=agreement.pk),
        Commitment.history.filter(agreement_id=agreement.pk),
        Citation.history.filter(Q(agreement_id=agreement.pk) | Q(commitment_id__in=commitment_ids)),
        ProgressUpdate.history.filter(commitment_id__in=commitment_ids),
        DeadlineRevision.history.filter(commitment_id__in=commitment_ids),
        Assessment.history.filter(commitment_id__in=commitment_ids),
    ]
    latest = [
        row
        for row in (
            history.exclude(history_user=None)
            .order_by("-history_date")
            .values("history_date", "history_user_id")
            .first()
            for history in histories
        )
        if row is not None
    ]
    if not latest:
        return None
    return max(latest, key=lambda row: row["history_date"])["history_user_id"]


def _submitter_id(agreement: Agreement) -> int | None:
    event = agreement.publication_events.filter(action=Action.SUBMIT).order_by("-at", "-id").first()
    return event.user_id if event else None


def publication_refusal(*, agreement: Agreement, action: str, user: User) -> str | None:
    """Return why ``user`` may not do ``action`` to ``agreement`` now, or None if they may."""
    if action not in TRANSITIONS:
        return _("Unknown publishing action %(action)r.") % {"action": action}
    if user is None or not can_write(user):
        return _("Only an editor may change what is published.")
    sources, _target = TRANSITIONS[action]
    state = agreement.publication_state
    if state == TRANSITIONS[action][1]:
        return _("This agreement is already %(state)s.") % {"state": State(state).label.lower()}
    if state not in sources:
        return _("An agreement that is %(state)s cannot be %(action)s.") % {
            "state": State(state).label.lower(),
            "action": Action(action).label.lower(),
        }
    if action == Action.PUBLISH and review_required():
        if state != State.REVIEW:
            return _(
                "This site requires a review before publishing: submit the agreement for "
                "review, and another editor publishes it."
            )
        if user.pk in {_submitter_id(agreement), latest_editor_id(agreement)}:
            return _(
                "This site requires a second reviewer: another editor must publish a change "
                "you submitted or made."
            )
    return None


@transaction.atomic
def publication_change(
    *,
    agreement: Agreement,
    action: str,
    user: User,
    note: str = "",
    now: dt.datetime | None = None,
) -> PublicationEvent:
    """Do ``action`` to ``agreement`` as ``user``; record who, when and why.

    Raise ``PermissionDenied`` for a user who may not write and ``ValidationError`` (on
    ``action``, or on ``note`` for an unpublish without a reason) for a refused step.
    """
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if user is None or not can_write(user):
        raise PermissionDenied(_("Only an editor may change what is published."))
    refusal = publication_refusal(agreement=agreement, action=action, user=user)
    if refusal:
        raise ValidationError({"action": refusal})
    note = (note or "").strip()
    if action == Action.UNPUBLISH and not note:
        raise ValidationError({"note": _("Say why the agreement is taken off the public site.")})
    now = now or timezone.now()
    state_from = agreement.publication_state
    state_to = TRANSITIONS[action][1]
    agreement.publication_state = state_to
    fields = ["publication_state", "updated"]
    if action == Action.PUBLISH:
        agreement.published_at = now
        agreement.published_by = user  # type: ignore[assignment]
        fields += ["published_at", "published_by"]
    attach_user(agreement, user)
    agreement.save(update_fields=fields)
    return PublicationEvent.objects.create(
        agreement=agreement,
        action=action,
        state_from=state_from,
        state_to=state_to,
        note=note,
        user=user,  # type: ignore[misc]
        at=now,
    )


def agreement_publish_unreviewed(*, agreement: Agreement, now: dt.datetime | None = None) -> None:
    """Publish an agreement with no editor, as the seeds are: recorded, with no reviewer."""
    if agreement.publication_state == State.PUBLISHED:
        return
    now = now or timezone.now()
    state_from = agreement.publication_state
    agreement.publication_state = State.PUBLISHED
    agreement.published_at = now
    agreement.save(update_fields=["publication_state", "published_at", "updated"])
    PublicationEvent.objects.create(
        agreement=agreement,
        action=Action.PUBLISH,
        state_from=state_from,
        state_to=State.PUBLISHED,
        note=_("Loaded published from the seeds."),
        at=now,
    )
