"""Reads of the commitments domain shared by the API and the dashboard.

Each list selector loads what its rows show in a fixed number of queries, whatever the page
size, and orders with ``id`` last so that pages are stable.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from .models import Agreement, Citation, Commitment, Party, ProgressUpdate, Source


def party_list() -> QuerySet[Party]:
    """Return every party, by name."""
    return Party.objects.order_by("name", "id")


def source_list() -> QuerySet[Source]:
    """Return every source, newest first."""
    return Source.objects.order_by("-published_on", "title", "id")


def agreement_list() -> QuerySet[Agreement]:
    """Return every agreement, newest first, with its parties and citations loaded."""
    return Agreement.objects.prefetch_related(
        Prefetch("parties", queryset=Party.objects.order_by("name", "id")),
        Prefetch("citations", queryset=Citation.objects.select_related("source").order_by("id")),
    ).order_by("-date", "title", "id")


def progress_update_list() -> QuerySet[ProgressUpdate]:
    """Return every progress update, latest first, with its evidence and author loaded."""
    return ProgressUpdate.objects.select_related(
        "commitment", "evidence__source", "author"
    ).order_by("-occurred_on", "-id")


def commitment_list() -> QuerySet[Commitment]:
    """Return every commitment by due date, with what a list or detail row shows loaded."""
    prefetches = [
        Prefetch("beneficiaries", queryset=Party.objects.order_by("name", "id")),
        Prefetch("citations", queryset=Citation.objects.select_related("source").order_by("id")),
        Prefetch(
            "progress_updates",
            queryset=ProgressUpdate.objects.select_related("evidence__source", "author").order_by(
                "-occurred_on", "-id"
            ),
        ),
    ]
    return (
        # Rows name their agreement, obligor and anchor by id only: join just the owner.
        Commitment.objects.select_related("owner")
        .prefetch_related(*prefetches)
        .order_by("due_date", "id")
    )
