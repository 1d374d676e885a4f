"""The public pages' reads: every one starts from :mod:`commitments.visibility`.

Each returns what one page shows, in a number of queries that does not grow with the rows
(the overview with its agreements, the agreement page with its commitments).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Count, F, Prefetch, Q, QuerySet

from commitments.assessment import Tally
from commitments.choices import Status
from commitments.models import Agreement, Citation, Commitment, Party, Report, Source
from commitments.selectors import (
    CommitmentBrief,
    ComplianceTable,
    compliance_table,
    current_assessments_prefetch,
    obligors_prefetch,
    revisions_prefetch,
)
from commitments.visibility import (
    public_agreements,
    public_assessments,
    public_citations,
    public_commitments,
    public_reports,
    public_sources,
)


@dataclass(frozen=True)
class StatusCount:
    """How many of an agreement's commitments have one status."""

    status: str
    label: str
    count: int
    share: float
    #: Where its segment of the meter starts, in percent (the shares before it).
    offset: float = 0.0


@dataclass
class AgreementSummary:
    """An agreement as the overview lists it: its counts by status and its compliance."""

    agreement: Agreement
    statuses: list[StatusCount] = field(default_factory=list)
    ratings: list[str | None] = field(default_factory=list)

    @property
    def commitment_count(self) -> int:
        return sum(item.count for item in self.statuses)

    @property
    def tally(self) -> Tally:
        return Tally.of(self.ratings)


def status_counts(counts: dict[str, int]) -> list[StatusCount]:
    """Return the non-zero counts by status, in the statuses' order, with their meter shares."""
    total = sum(counts.values()) or 1
    items, offset = [], 0.0
    for status, label in Status.choices:
        if counts.get(status):
            share = round(100 * counts[status] / total, 2)
            items.append(StatusCount(status, str(label), counts[status], share, offset))
            offset += share
    return items


def overview_agreements() -> list[AgreementSummary]:
    """Return the published agreements, newest first, with status counts and compliance.

    Five queries whatever the number of agreements: the agreements, their parties, the
    counts by status, the obligor rows (commitment × obligor) and the current ratings.
    """
    agreements = list(
        public_agreements()
        .prefetch_related(Prefetch("parties", queryset=Party.objects.order_by("name", "id")))
        .order_by("-date", "-id")
    )
    summaries = {a.pk: AgreementSummary(a) for a in agreements}
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        public_commitments().values("agreement_id", "status").annotate(n=Count("id")).order_by()
    ):
        counts[row["agreement_id"]][row["status"]] = row["n"]
    for pk, summary in summaries.items():
        summary.statuses = status_counts(counts[pk])
    ratings = {
        (row["commitment_id"], row["party_id"]): row["rating"]
        for row in public_assessments()
        .filter(current=True)
        .values("commitment_id", "party_id", "rating")
    }
    bound = public_commitments().values_list("agreement_id", "id", "obligor_id")
    co_bound = Commitment.co_obligors.through.objects.filter(
        commitment__in=public_commitments()
    ).exclude(party_id=F("commitment__obligor_id"))
    rows = list(bound) + [
        (agreement_id, commitment_id, party_id)
        for agreement_id, commitment_id, party_id in co_bound.values_list(
            "commitment__agreement_id", "commitment_id", "party_id"
        )
    ]
    for agreement_id, commitment_id, party_id in rows:
        if agreement_id in summaries:
            summaries[agreement_id].ratings.append(ratings.get((commitment_id, party_id)))
    return list(summaries.values())


def public_agreement_queryset() -> QuerySet[Agreement]:
    """Return the published agreements with their parties loaded, by name."""
    return public_agreements().prefetch_related(
        Prefetch("parties", queryset=Party.objects.order_by("name", "id"))
    )


@dataclass
class CommitmentLine:
    """A commitment of the agreement page: the commitment and each obligor's rating."""

    commitment: CommitmentBrief
    ratings: list[tuple[Party, str]]


@dataclass
class AgreementPage:
    """Everything the agreement page shows beside the agreement itself."""

    compliance: ComplianceTable
    lines: list[CommitmentLine]
    citations: list[Citation]
    commitment_sources: Sequence[Source]


def agreement_page(*, agreement: Agreement) -> AgreementPage:
    """Return the agreement's commitments with their ratings, its compliance and sources.

    The commitments come from the compliance table (three queries, with their obligors and
    current ratings); the citations and the sources cited by its commitments, one query each.
    """
    table = compliance_table(agreement=agreement)
    lines: dict[int, CommitmentLine] = {}
    for row in table.rows:
        line = lines.setdefault(row.commitment.pk, CommitmentLine(row.commitment, []))
        line.ratings.append((row.party, row.rating))
    citations = list(
        public_citations()
        .filter(agreement=agreement)
        .select_related("source")
        .order_by("source__published_on", "id")
    )
    sources = list(
        public_sources()
        .filter(citations__commitment__agreement=agreement)
        .annotate(commitment_citations=Count("citations"))
        .order_by("-published_on", "title", "id")
    )
    return AgreementPage(table, list(lines.values()), citations, sources)


def public_commitment_queryset() -> QuerySet[Commitment]:
    """Return the public commitments with everything the commitment page shows loaded."""
    return (
        public_commitments()
        .select_related("agreement", "obligor", "anchor_commitment__agreement", "replaced_by")
        .prefetch_related(
            "beneficiaries",
            obligors_prefetch(),
            revisions_prefetch(),
            current_assessments_prefetch(),
            Prefetch(
                "citations",
                queryset=Citation.objects.select_related("source").order_by(
                    "source__published_on", "id"
                ),
            ),
        )
    )


@dataclass
class PartyLine:
    """One commitment binding a party, with the party's current rating of it."""

    commitment: Commitment
    rating: str | None
    co_obligor: bool


def party_commitments(*, party: Party) -> list[PartyLine]:
    """Return the public commitments binding ``party`` (obligor or co-obligor), with its
    current rating of each, newest agreement first; three queries."""
    commitments = list(
        public_commitments()
        .filter(Q(obligor=party) | Q(co_obligors=party))
        .distinct()
        .select_related("agreement", "obligor")
        .order_by("-agreement__date", "-agreement_id", F("due_date").asc(nulls_last=True), "id")
    )
    ratings = dict(
        public_assessments()
        .filter(party=party, current=True, commitment__in=[c.pk for c in commitments])
        .values_list("commitment_id", "rating")
    )
    return [PartyLine(c, ratings.get(c.pk), c.obligor_id != party.pk) for c in commitments]


def source_citations(*, source: Source) -> list[Citation]:
    """Return the public citations of ``source``, with what they cite."""
    return list(
        public_citations()
        .filter(source=source)
        .select_related("commitment__agreement", "agreement")
        .order_by("id")
    )


def agreement_reports(*, agreement: Agreement) -> QuerySet[Report]:
    """Return the agreement's frozen reports, latest cut-off first, with correction counts."""
    return (
        public_reports()
        .filter(agreement=agreement)
        .annotate(correction_count=Count("corrections"))
        .order_by("-cutoff", "-id")
    )


def last_change(*dates: dt.datetime | None) -> dt.datetime | None:
    """Return the latest of ``dates`` (the ones known), for ``dateModified``."""
    known = [d for d in dates if d is not None]
    return max(known) if known else None
