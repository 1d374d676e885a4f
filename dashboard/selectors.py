"""Reads behind the review pages: counts, deadlines and timelines.

Every function runs a fixed number of queries whatever the number of commitments, and takes
``now`` as a parameter. "Overdue" and "due within N days" are the domain's
(:mod:`commitments.querysets`): they compare the due instant with ``now``, not the due date
with a server-side "today".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, prefetch_related_objects

from commitments.choices import Status
from commitments.models import (
    Agreement,
    Assessment,
    Commitment,
    Party,
    ProgressUpdate,
    Source,
)
from commitments.querysets import due_within_q, overdue_q
from commitments.selectors import (
    fulfilment_timing_tally,
    obligors_prefetch,
    revisions_prefetch,
)
from core.instances import InstancesRead


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

    def add(self, counts: dict[str, int]) -> None:
        """Add the counts of one group of commitments (a row of the ``_tally`` aggregate)."""
        for name, count in counts.items():
            setattr(self, name, getattr(self, name) + count)


#: The fulfilment timings' counts ride along in the overview's one scan, under these names.
_TIMING = "timing_"


@dataclass
class _Tallies:
    """Every count of the overview, from one scan grouped by (obligor, agreement)."""

    counts: Tally
    timing: dict[str, int]
    by_obligor: dict[int, Tally]
    by_agreement: dict[int, Tally]


def _tallies(*, now: dt.datetime) -> _Tallies:
    """Count every commitment once, grouped by its (obligor, agreement) pair; add up the rows
    into the totals, the counts per obligor and per agreement in Python.

    One sequential scan instead of one per grouping: the pairs are few (an agreement binds a
    handful of parties), the commitments many.
    """
    timing = {_TIMING + name: count for name, count in fulfilment_timing_tally().items()}
    rows = (
        Commitment.objects.order_by()
        .values("obligor", "agreement")
        .annotate(**_tally(now=now), **timing)
    )
    tallies = _Tallies(Tally(), dict.fromkeys((n[len(_TIMING) :] for n in timing), 0), {}, {})
    for row in rows:
        obligor, agreement = row.pop("obligor"), row.pop("agreement")
        for name in timing:
            tallies.timing[name[len(_TIMING) :]] += row.pop(name)
        tallies.counts.add(row)
        tallies.by_obligor.setdefault(obligor, Tally()).add(row)
        tallies.by_agreement.setdefault(agreement, Tally()).add(row)
    return tallies


def _add_co_obligors(tallies: dict[int, Tally], *, now: dt.datetime) -> dict[int, Tally]:
    """Add to the counts per obligor each party's shared commitments, in one query.

    A shared commitment counts once for each party it binds, as the list's ``obligor`` filter
    that each figure links to matches it.
    """
    shared = (
        Commitment.objects.filter(co_obligors__isnull=False)
        .order_by()
        .values("co_obligors")
        .annotate(**_tally(now=now))
    )
    for row in shared:
        tallies.setdefault(row.pop("co_obligors"), Tally()).add(row)
    return tallies


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
    #: How many fulfilled commitments were on time, after an extension, late (issue 12).
    timing: dict[str, int]


#: What the overview shows of each agreement, of each commitment of its two lists (with its
#: obligor), and of each recent progress update (with its commitment's title).
_AGREEMENT_ROW = ("title", "title_fr", "machine_translations", "date")
_COMMITMENT_ROW = (
    "title",
    "title_fr",
    "machine_translations",
    "due_date",
    "due_precision",
    "obligor",
)
_UPDATE_ROW = (
    "occurred_on",
    "status_to",
    "note",
    "commitment__title",
    "commitment__title_fr",
    "commitment__machine_translations",
)


def overview(*, now: dt.datetime, today: dt.date, limit: int = 10) -> Overview:
    """Return the overview's counts and lists as of ``now`` (``today`` is its local date)."""
    tallies = _tallies(now=now)
    party_tallies = _add_co_obligors(tallies.by_obligor, now=now)
    by_party = [
        (party, party_tallies[party.pk])
        for party in Party.objects.filter(pk__in=party_tallies).order_by("name", "id")
    ]
    # Each row reads what the page shows of it, not every column (an agreement's summary, a
    # commitment's fifty fields): a row's columns cost the reading and the model instance.
    by_agreement = [
        (agreement, tallies.by_agreement.get(agreement.pk, Tally()))
        for agreement in Agreement.objects.only(*_AGREEMENT_ROW).order_by("-date", "id")
    ]
    rows = Commitment.objects.select_related("obligor").only(*_COMMITMENT_ROW)
    upcoming = list(rows.upcoming(now).order_by("due_date", "id")[:limit])
    overdue = list(rows.overdue(now).order_by("due_date", "id")[:limit])
    # Both lists' other obligors in one query, whichever of them has rows.
    prefetch_related_objects([*upcoming, *overdue], obligors_prefetch())
    recent = list(
        ProgressUpdate.objects.select_related("commitment")
        .only(*_UPDATE_ROW)
        .order_by("-created", "-id")[:limit]
    )
    counts = vars(tallies.counts).copy()
    return Overview(
        today, counts, by_party, by_agreement, upcoming, overdue, recent, tallies.timing
    )


def reviews_due_count() -> int:
    """Return how many current ratings the scan has flagged "review due" (one query)."""
    return Assessment.objects.filter(current=True, review_due=True).count()


#: What the agreement page's facts and sources show besides the agreement's own fields.
AGREEMENT_FACTS = ("parties", "citations__source")


def agreement_detail(*, pk: int) -> Agreement:
    """Return an agreement, for its page; the page's sections read the rest (its parties and
    citations: :data:`AGREEMENT_FACTS`; its commitments, as briefs:
    :func:`commitments.selectors.compliance_briefs`) when they are not kept rendered.
    """
    return Agreement.objects.get(pk=pk)


def agreement_commitment_sources(*, agreement: Agreement) -> list[Source]:
    """Return the sources the agreement's commitments cite, once each, newest first, with
    how many of their citations each holds (``commitment_citations``); one query."""
    return list(
        Source.objects.filter(citations__commitment__agreement=agreement)
        .annotate(commitment_citations=Count("citations"))
        .order_by("-published_on", "title", "id")
    )


#: The commitment page's commitment and the rows it shows of its relations.
COMMITMENT_PAGE_RELATED = ("agreement", "obligor", "owner", "anchor_commitment__agreement")

#: Its statement, compiled once (a fifth of the page's CPU was compiling it again).
_COMMITMENT_PAGE = InstancesRead(
    lambda ids: Commitment.objects.select_related(*COMMITMENT_PAGE_RELATED).filter(pk__in=ids)
)


def commitment_detail(*, pk: int) -> Commitment:
    """Return a commitment with everything its page shows loaded; raise
    ``Commitment.DoesNotExist`` if there is none."""
    found = _COMMITMENT_PAGE([pk])
    if not found:
        raise Commitment.DoesNotExist(f"No commitment {pk}.")
    prefetch_related_objects(
        found,
        "beneficiaries",
        "citations__source",
        "progress_updates__evidence__source",
        "progress_updates__author",
        "progress_updates__occurrence",
        revisions_prefetch(),
        obligors_prefetch(),  # Ratings (issue 13).
    )
    return found[0]


def commitment_page(queryset: QuerySet[Commitment]) -> QuerySet[Commitment]:
    """Return ``queryset`` with what a list row shows loaded."""
    return queryset.select_related("agreement", "obligor").prefetch_related(obligors_prefetch())
