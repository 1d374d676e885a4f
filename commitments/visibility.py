"""What the public may see: the one home of the rule "only published content is public".

An agreement is public when it is published; what hangs off it (its commitments, their
ratings, revisions, progress, occurrences, its reports and corrections, the citations of
either) is public with it. A party is public when it is a party to, or an obligor of, a
published agreement; a source when a public citation quotes it. The public site, the feeds,
the embeds, the sitemap, the public API and the public cache all read through these
functions, so a draft cannot leak by one of them forgetting the rule.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from .choices import PublicationState
from .models import (
    Agreement,
    Assessment,
    Citation,
    Commitment,
    Correction,
    DeadlineRevision,
    Party,
    ProgressUpdate,
    Report,
    ReportCorrection,
    Source,
)

PUBLISHED = PublicationState.PUBLISHED

M = TypeVar("M", bound=Model)


def public_agreements() -> QuerySet[Agreement]:
    """Return the published agreements."""
    return Agreement.objects.published()


def public_commitments() -> QuerySet[Commitment]:
    """Return the commitments of published agreements."""
    return Commitment.objects.published()


def public_parties() -> QuerySet[Party]:
    """Return the parties to, or obligors in, a published agreement."""
    return Party.objects.filter(
        Exists(
            Agreement.parties.through.objects.filter(
                party_id=OuterRef("pk"), agreement__publication_state=PUBLISHED
            )
        )
        | Exists(
            Commitment.objects.filter(
                obligor_id=OuterRef("pk"), agreement__publication_state=PUBLISHED
            )
        )
    )


def public_citations() -> QuerySet[Citation]:
    """Return the citations of published agreements and of their commitments."""
    return Citation.objects.filter(
        Q(agreement__publication_state=PUBLISHED)
        | Q(commitment__agreement__publication_state=PUBLISHED)
    )


def public_sources() -> QuerySet[Source]:
    """Return the sources a public citation quotes."""
    return Source.objects.filter(
        Exists(
            Citation.objects.filter(source_id=OuterRef("pk")).filter(
                Q(agreement__publication_state=PUBLISHED)
                | Q(commitment__agreement__publication_state=PUBLISHED)
            )
        )
    )


def public_assessments() -> QuerySet[Assessment]:
    """Return the ratings of public commitments."""
    return Assessment.objects.filter(commitment__agreement__publication_state=PUBLISHED)


def public_progress() -> QuerySet[ProgressUpdate]:
    """Return the progress updates (status changes among them) of public commitments."""
    return ProgressUpdate.objects.filter(commitment__agreement__publication_state=PUBLISHED)


def public_revisions() -> QuerySet[DeadlineRevision]:
    """Return the deadline revisions of public commitments."""
    return DeadlineRevision.objects.filter(commitment__agreement__publication_state=PUBLISHED)


def public_reports() -> QuerySet[Report]:
    """Return the frozen reports of published agreements."""
    return Report.objects.filter(agreement__publication_state=PUBLISHED)


def public_corrections() -> QuerySet[Correction]:
    """Return the corrections of published agreements and their commitments."""
    return Correction.objects.filter(agreement__publication_state=PUBLISHED)


def public_report_corrections() -> QuerySet[ReportCorrection]:
    """Return the corrections of public reports."""
    return ReportCorrection.objects.filter(report__agreement__publication_state=PUBLISHED)


def is_public(agreement: Agreement) -> bool:
    """Say whether an agreement, and what hangs off it, is public."""
    return agreement.publication_state == PUBLISHED


def visible_to(user: Any, rows: QuerySet[M], public: QuerySet[M]) -> QuerySet[M]:
    """Return ``rows`` to a signed-in user; to anyone else, only those among ``public``.

    ``public`` is one of the functions above (``public_agreements()`` for agreements): the
    API's anonymous reads go through here, so they follow the one rule.
    """
    if user is not None and user.is_authenticated:
        return rows
    return rows.filter(pk__in=public.values("pk"))
