"""Reads behind the review pages: counts, deadlines, timelines and compliance scores.

Every function runs a fixed number of queries whatever the number of commitments, and takes
``now`` as a parameter. "Overdue" and "due within N days" are the domain's
(:mod:`commitments.querysets`): they compare the due instant with ``now``, not the due date
with a server-side "today".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet

from commitments.choices import Status
from commitments.models import Agreement, Assessment, Commitment, Party, ProgressUpdate
from commitments.querysets import due_within_q, overdue_q
from commitments.selectors import obligors_prefetch, revisions_prefetch

#: G7 Research Group style compliance scores.
SCORE_FULL, SCORE_PARTIAL, SCORE_NONE = 1, 0, -1


def _tally(*, now: dt.datetime) -> dict[str, Count]:
    """Return the conditional counts the overview shows for a set of commitments."""
    return {
        "total": Count("id"),
        "overdue": Count("id", filter=overdue_q(now=now)),
        "due_7": Count("id", filter=due_within_q(now=now, days=7)),
        "due_30": Count("id", filter=due_within_q(now=now, days=30)),
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


def _tallies_by(field: str, *, now: dt.datetime) -> dict[int, Tally]:
    """Return the counts of commitments grouped by one foreign key, in a single query."""
    rows = Commitment.objects.order_by().values(field).annotate(**_tally(now=now))
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


def overview(*, now: dt.datetime, today: dt.date, limit: int = 10) -> Overview:
    """Return the overview's counts and lists as of ``now`` (``today`` is its local date)."""
    counts = Commitment.objects.aggregate(**_tally(now=now))
    party_tallies = _tallies_by("obligor", now=now)
    by_party = [
        (party, party_tallies[party.pk])
        for party in Party.objects.filter(pk__in=party_tallies).order_by("name", "id")
    ]
    agreement_tallies = _tallies_by("agreement", now=now)
    by_agreement = [
        (agreement, agreement_tallies.get(agreement.pk, Tally()))
        for agreement in Agreement.objects.order_by("-date", "id")
    ]
    rows = Commitment.objects.select_related("agreement", "obligor")
    upcoming = list(rows.upcoming(now).order_by("due_date", "id")[:limit])
    overdue = list(rows.overdue(now).order_by("due_date", "id")[:limit])
    recent = list(
        ProgressUpdate.objects.select_related("commitment", "author").order_by("-created", "-id")[
            :limit
        ]
    )
    return Overview(today, counts, by_party, by_agreement, upcoming, overdue, recent)


def reviews_due_count() -> int:
    """Return how many current ratings the scan has flagged "review due" (one query)."""
    return Assessment.objects.filter(current=True, review_due=True).count()


def compliance_score(commitment: Commitment) -> int | None:
    """Return +1 fulfilled, -1 missed or overdue, 0 under way; ``None`` if cancelled.

    ``commitment`` comes annotated by ``Commitment.objects.with_overdue(now)``.
    """
    if commitment.status == Status.CANCELLED:
        return None
    if commitment.status == Status.FULFILLED:
        return SCORE_FULL
    overdue = commitment.is_overdue  # type: ignore[attr-defined]  # the annotation
    if commitment.status == Status.MISSED or overdue:
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
    """Group an agreement's commitments by obligor, each with its score.

    A shared commitment counts for each party it binds (the G7 method: one row per member).
    """
    table: dict[int, PartyCompliance] = {}
    for commitment in commitments:
        for party in commitment.obligor_list:
            entry = table.setdefault(party.pk, PartyCompliance(party))
            entry.rows.append((commitment, compliance_score(commitment)))
    return sorted(table.values(), key=lambda entry: entry.party.name)


def agreement_detail(*, pk: int, now: dt.datetime) -> tuple[Agreement, list[Commitment]]:
    """Return an agreement with its parties, citations and commitments (overdue at ``now``)."""
    agreement = Agreement.objects.prefetch_related("parties", "citations__source").get(pk=pk)
    commitments = list(
        Commitment.objects.filter(agreement=agreement)
        .with_overdue(now)
        .select_related("obligor", "owner")
        .prefetch_related("beneficiaries", obligors_prefetch())
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
            "progress_updates__occurrence",
            revisions_prefetch(),
            obligors_prefetch(),  # Ratings (issue 13).
        )
        .get(pk=pk)
    )


def commitment_page(queryset: QuerySet[Commitment]) -> QuerySet[Commitment]:
    """Return ``queryset`` with what a list row shows loaded."""
    return queryset.select_related("agreement", "obligor").prefetch_related(obligors_prefetch())
