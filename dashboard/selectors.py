"""Reads behind the review pages: counts, deadlines, timelines and compliance scores.

Every function runs a fixed number of queries whatever the number of commitments, and takes
``today`` or ``now`` as a parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet

from commitments.choices import TERMINAL, DeadlineState, Status
from commitments.models import Agreement, Commitment, Party, ProgressUpdate

OPEN_STATUSES = [s.value for s in Status if s not in TERMINAL]
OPEN = Q(status__in=OPEN_STATUSES)

#: G7 Research Group style compliance scores.
SCORE_FULL, SCORE_PARTIAL, SCORE_NONE = 1, 0, -1


def _tally(*, today: dt.date) -> dict[str, Count]:
    """Return the conditional counts the overview shows for a set of commitments."""
    week, month = today + dt.timedelta(7), today + dt.timedelta(30)
    return {
        "total": Count("id"),
        "overdue": Count("id", filter=Q(deadline_state=DeadlineState.OVERDUE)),
        "due_7": Count("id", filter=OPEN & Q(due_date__gte=today, due_date__lte=week)),
        "due_30": Count("id", filter=OPEN & Q(due_date__gte=today, due_date__lte=month)),
        "fulfilled": Count("id", filter=Q(status=Status.FULFILLED)),
    }


@dataclass
class Tally:
    """The overview's counts for one party or agreement."""

    total: int = 0
    overdue: int = 0
    due_7: int = 0
    due_30: int = 0
    fulfilled: int = 0


def _tallies_by(field: str, *, today: dt.date) -> dict[int, Tally]:
    """Return the counts of commitments grouped by one foreign key, in a single query."""
    rows = Commitment.objects.order_by().values(field).annotate(**_tally(today=today))
    return {row.pop(field): Tally(**row) for row in rows}


@dataclass
class Overview:
    """What the overview page shows."""

    today: dt.date
    counts: dict[str, int]
    by_party: list[tuple[Party, Tally]]
    by_agreement: list[tuple[Agreement, Tally]]
    upcoming: list[Commitment]
    overdue: list[Commitment]
    recent_updates: list[ProgressUpdate]


def overview(*, today: dt.date, limit: int = 10) -> Overview:
    """Return the overview's counts and lists as of ``today``."""
    counts = Commitment.objects.aggregate(**_tally(today=today))
    party_tallies = _tallies_by("obligor", today=today)
    by_party = [
        (party, party_tallies[party.pk])
        for party in Party.objects.filter(pk__in=party_tallies).order_by("name", "id")
    ]
    agreement_tallies = _tallies_by("agreement", today=today)
    by_agreement = [
        (agreement, agreement_tallies.get(agreement.pk, Tally()))
        for agreement in Agreement.objects.order_by("-date", "id")
    ]
    rows = Commitment.objects.select_related("agreement", "obligor")
    upcoming = list(rows.filter(OPEN, due_date__gte=today).order_by("due_date", "id")[:limit])
    overdue = list(
        rows.filter(deadline_state=DeadlineState.OVERDUE).order_by("due_date", "id")[:limit]
    )
    recent = list(
        ProgressUpdate.objects.select_related("commitment", "author").order_by("-created", "-id")[
            :limit
        ]
    )
    return Overview(today, counts, by_party, by_agreement, upcoming, overdue, recent)


def compliance_score(commitment: Commitment) -> int | None:
    """Return +1 fulfilled, -1 missed or overdue, 0 under way; ``None`` if cancelled."""
    if commitment.status == Status.CANCELLED:
        return None
    if commitment.status == Status.FULFILLED:
        return SCORE_FULL
    if commitment.status == Status.MISSED or commitment.deadline_state == DeadlineState.OVERDUE:
        return SCORE_NONE
    return SCORE_PARTIAL


@dataclass
class PartyCompliance:
    """One party's row of an agreement's compliance table."""

    party: Party
    rows: list[tuple[Commitment, int | None]] = field(default_factory=list)

    @property
    def average(self) -> Decimal | None:
        """Return the mean score of the scored commitments, to two places."""
        scores = [score for _c, score in self.rows if score is not None]
        if not scores:
            return None
        return (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01"))


def agreement_compliance(commitments: list[Commitment]) -> list[PartyCompliance]:
    """Group an agreement's commitments by obligor, each with its score."""
    table: dict[int, PartyCompliance] = {}
    for commitment in commitments:
        entry = table.setdefault(commitment.obligor_id, PartyCompliance(commitment.obligor))
        entry.rows.append((commitment, compliance_score(commitment)))
    return sorted(table.values(), key=lambda entry: entry.party.name)


def agreement_detail(*, pk: int) -> tuple[Agreement, list[Commitment]]:
    """Return an agreement with its parties, citations and commitments loaded."""
    agreement = Agreement.objects.prefetch_related("parties", "citations__source").get(pk=pk)
    commitments = list(
        agreement.commitments.select_related("obligor", "owner")
        .prefetch_related("beneficiaries")
        .order_by(F("due_date").asc(nulls_last=True), "id")
    )
    return agreement, commitments


def commitment_detail(*, pk: int) -> Commitment:
    """Return a commitment with everything its page shows loaded."""
    return (
        Commitment.objects.select_related(
            "agreement", "obligor", "owner", "anchor_commitment__agreement"
        )
        .prefetch_related(
            "beneficiaries",
            "citations__source",
            "progress_updates__evidence__source",
            "progress_updates__author",
        )
        .get(pk=pk)
    )


def commitment_page(queryset: QuerySet[Commitment]) -> QuerySet[Commitment]:
    """Return ``queryset`` with what a list row shows loaded."""
    return queryset.select_related("agreement", "obligor")
