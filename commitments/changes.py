"""What changed in the public tracker, and why: the one read of its change log.

Four kinds of change are public, each with what changed, from what, to what and why:

* ``status``: a recorded status change (a progress update with a new status; why = its note);
* ``rating``: a new rating of one obligor (from its previous rating, or "Not yet rated";
  why = the justification, in the reader's language);
* ``deadline``: a revision of the deadline (extended, brought forward, suspended…; from the
  old due date to the new one; why = the revision's reason);
* ``correction``: a correction of published content (:class:`Correction`, why = its public
  note) or of a frozen report (:class:`ReportCorrection`).

Only public content is read (:mod:`commitments.visibility`). The feeds, the "what changed
this week" page, the corrections log and the commitment pages all render this list; texts
are made in the active language (or ``language``), so call it inside the reader's language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.text import xml_safe

from .choices import RevisionKind, Status, rating_label
from .deadlines.text import due_in_words
from .models import Agreement, Assessment, Commitment, Party
from .translations import BASE_LANGUAGE, Localized, localized, localized_text
from .visibility import (
    public_assessments,
    public_corrections,
    public_progress,
    public_report_corrections,
    public_revisions,
)

STATUS = "status"
RATING = "rating"
DEADLINE = "deadline"
CORRECTION = "correction"
#: The kinds of change, in the order the filters offer them.
KINDS = (STATUS, RATING, DEADLINE, CORRECTION)


@dataclass(frozen=True)
class Change:
    """One public change: when it was recorded, what it was about, from, to, and why.

    ``at`` is when it was recorded (the feeds' ``updated``); ``on`` the day it happened (a
    status change dated in the past, a rating "from" a day). ``agreement_key`` and
    ``commitment_key`` build the permalinks; ``report_id`` points at a corrected report.
    ``uid`` is stable across readings (a feed entry's id).
    """

    kind: str
    uid: str
    at: dt.datetime
    on: dt.date
    agreement_key: str
    agreement_title: str
    commitment_key: str | None
    commitment_title: str | None
    what: str
    old: str
    new: str
    why: str
    party_key: str | None = None
    report_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The titles with their language and origin, to mark a fallback or a machine translation.
    agreement_title_as: Localized | None = None
    commitment_title_as: Localized | None = None

    def __post_init__(self) -> None:
        # Texts typed by editors may hold control characters no XML feed can carry.
        for name in ("agreement_title", "commitment_title", "what", "old", "new", "why"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, xml_safe(value))

    @property
    def subject(self) -> str:
        """The title of what changed: the commitment, or else the agreement."""
        return self.commitment_title or self.agreement_title

    @property
    def subject_as(self) -> Localized:
        """:attr:`subject` with its language and origin (a frozen report's title: as written)."""
        if self.commitment_title is not None:
            return self.commitment_title_as or Localized(self.commitment_title, BASE_LANGUAGE)
        return self.agreement_title_as or Localized(self.agreement_title, BASE_LANGUAGE)


def _status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else (value or _("none"))


def _scoped(
    rows: QuerySet[Any],
    *,
    prefix: str,
    agreement: Agreement | None,
    party: Party | None,
    commitment: Commitment | None,
) -> QuerySet[Any]:
    """Narrow ``rows`` (whose commitment is reached by ``prefix``) to one scope."""
    if commitment is not None:
        rows = rows.filter(**{f"{prefix}id": commitment.pk})
    if agreement is not None:
        rows = rows.filter(**{f"{prefix}agreement_id": agreement.pk})
    if party is not None:
        rows = rows.filter(
            Q(**{f"{prefix}obligor_id": party.pk}) | Q(**{f"{prefix}co_obligors": party.pk})
        ).distinct()
    return rows


def _dated(rows: QuerySet[Any], name: str, since: Any, until: Any) -> QuerySet[Any]:
    if since is not None:
        rows = rows.filter(**{f"{name}__gte": since})
    if until is not None:
        rows = rows.filter(**{f"{name}__lt": until})
    return rows


def public_changes(
    *,
    agreement: Agreement | None = None,
    party: Party | None = None,
    commitment: Commitment | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    kinds: tuple[str, ...] = KINDS,
    language: str | None = None,
    limit: int | None = None,
) -> list[Change]:
    """Return the public changes in a scope, newest first (at most ``limit``).

    ``since`` and ``until`` bound when a change was recorded (``since <= at < until``). A
    party's changes are those of the commitments it is bound by (obligor or co-obligor).
    Five queries, whatever the number of changes.
    """
    scope = {"agreement": agreement, "party": party, "commitment": commitment}
    with translation.override(language or translation.get_language()):
        changes: list[Change] = []
        if STATUS in kinds:
            changes += _status_changes(scope, since, until, limit)
        if RATING in kinds:
            changes += _rating_changes(scope, since, until, limit)
        if DEADLINE in kinds:
            changes += _deadline_changes(scope, since, until, limit)
        if CORRECTION in kinds:
            changes += _corrections(scope, since, until, limit)
            if party is None and commitment is None:
                changes += _report_corrections(agreement, since, until, limit)
    changes.sort(key=lambda change: (change.at, change.uid), reverse=True)
    return changes[:limit] if limit is not None else changes


def _agreement_fields(agreement: Agreement) -> dict[str, Any]:
    title = localized(agreement, "title")
    return {
        "agreement_key": agreement.key,
        "agreement_title": title.text,
        "agreement_title_as": title,
        "commitment_key": None,
        "commitment_title": None,
    }


def _commitment_fields(commitment: Commitment) -> dict[str, Any]:
    title = localized(commitment, "title")
    return {
        **_agreement_fields(commitment.agreement),
        "commitment_key": commitment.key,
        "commitment_title": title.text,
        "commitment_title_as": title,
    }


_RELATED = ("commitment", "commitment__agreement")


def _status_changes(scope: dict[str, Any], since: Any, until: Any, limit: Any) -> list[Change]:
    rows = _scoped(
        public_progress().exclude(status_to=""), prefix="commitment__", **scope
    ).select_related(*_RELATED)
    rows = _dated(rows, "created", since, until).order_by("-created", "-id")
    return [
        Change(
            kind=STATUS,
            uid=f"status-{row.pk}",
            at=row.created,
            on=row.occurred_on,
            what=_("Status"),
            old=_status_label(row.status_from),
            new=_status_label(row.status_to),
            why=row.note,
            **_commitment_fields(row.commitment),
        )
        for row in rows[:limit]
    ]


def _rating_changes(scope: dict[str, Any], since: Any, until: Any, limit: Any) -> list[Change]:
    # The previous rating of the same obligor on the same commitment (index assessment_as_of).
    previous = (
        Assessment.objects.filter(
            commitment_id=OuterRef("commitment_id"), party_id=OuterRef("party_id")
        )
        .filter(
            Q(assessed_on__lt=OuterRef("assessed_on"))
            | Q(assessed_on=OuterRef("assessed_on"), id__lt=OuterRef("id"))
        )
        .order_by("-assessed_on", "-id")
        .values("rating")[:1]
    )
    rows = (
        _scoped(public_assessments(), prefix="commitment__", **scope)
        .select_related("party", *_RELATED)
        .annotate(previous_rating=Subquery(previous))
    )
    listed = _dated(rows, "created", since, until).order_by("-created", "-id")[:limit]
    return [
        Change(
            kind=RATING,
            uid=f"rating-{row.pk}",
            at=row.created,
            on=row.assessed_on,
            what=_("Rating of %(party)s") % {"party": localized_text(row.party, "name")},
            old=rating_label(row.previous_rating),
            new=rating_label(row.rating),
            why=localized_text(row, "justification"),
            party_key=row.party.key,
            **_commitment_fields(row.commitment),
        )
        for row in listed
    ]


def _deadline_changes(scope: dict[str, Any], since: Any, until: Any, limit: Any) -> list[Change]:
    rows = _scoped(public_revisions(), prefix="commitment__", **scope).select_related(*_RELATED)
    rows = _dated(rows, "created", since, until).order_by("-created", "-id")
    changes = []
    for row in rows[:limit]:
        new = (
            _("suspended")
            if row.kind == RevisionKind.SUSPENDED
            else due_in_words(row.new_due_date, row.new_precision)
        )
        changes.append(
            Change(
                kind=DEADLINE,
                uid=f"deadline-{row.pk}",
                at=row.created,
                on=row.revised_on,
                what=_("Deadline (%(kind)s)") % {"kind": row.get_kind_display().lower()},
                old=due_in_words(row.old_due_date, row.old_precision) or _("none"),
                new=new or _("none"),
                why=row.reason,
                **_commitment_fields(row.commitment),
            )
        )
    return changes


def _corrections(scope: dict[str, Any], since: Any, until: Any, limit: Any) -> list[Change]:
    rows = public_corrections().select_related("agreement", *_RELATED)
    if scope["commitment"] is not None:
        rows = rows.filter(commitment_id=scope["commitment"].pk)
    if scope["agreement"] is not None:
        agreement = scope["agreement"].pk
        rows = rows.filter(
            Q(commitment__isnull=True, agreement_id=agreement)
            | Q(commitment__agreement_id=agreement)
        )
    if scope["party"] is not None:
        party = scope["party"].pk
        rows = rows.filter(
            Q(commitment__obligor_id=party) | Q(commitment__co_obligors=party)
        ).distinct()
    rows = _dated(rows, "corrected_at", since, until).order_by("-corrected_at", "-id")
    changes = []
    for row in rows[:limit]:
        subject = (
            _commitment_fields(row.commitment)
            if row.commitment is not None
            else _agreement_fields(row.agreement)
        )
        changes.append(
            Change(
                kind=CORRECTION,
                uid=f"correction-{row.pk}",
                at=row.corrected_at,
                on=timezone.localdate(row.corrected_at),
                what=_("Correction: %(field)s") % {"field": _field_label(row)},
                old=row.old_value,
                new=row.new_value,
                why=row.note,
                **subject,
            )
        )
    return changes


def _field_label(row: Any) -> str:
    """The corrected field as a reader reads it (its verbose name), or as stored."""
    model = Commitment if row.commitment_id else Agreement
    try:
        return str(getattr(model._meta.get_field(row.field), "verbose_name", row.field))
    except FieldDoesNotExist:  # a field since renamed: show the stored name
        return str(row.field)


def _report_corrections(
    agreement: Agreement | None, since: Any, until: Any, limit: Any
) -> list[Change]:
    rows = public_report_corrections().select_related("report", "report__agreement", "row")
    if agreement is not None:
        rows = rows.filter(report__agreement_id=agreement.pk)
    rows = _dated(rows, "created", since, until).order_by("-created", "-id")
    changes = []
    for row in rows[:limit]:
        report = row.report
        subject = _agreement_fields(report.agreement)
        if row.row is not None:  # the commitment as the frozen report names it
            subject.update(
                commitment_key=row.row.commitment_key, commitment_title=row.row.commitment_title
            )
        changes.append(
            Change(
                kind=CORRECTION,
                uid=f"report-correction-{row.pk}",
                at=row.created,
                on=row.corrected_on,
                **subject,
                what=_("Correction of the report “%(report)s”: %(field)s")
                % {"report": report.title, "field": row.get_field_display()},
                old=row.old_value,
                new=row.new_value,
                why=row.note,
                report_id=report.pk,
            )
        )
    return changes
