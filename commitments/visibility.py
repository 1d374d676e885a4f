"""What the public may see: the one home of the rule "only published content is public".

An agreement is public when it is published; what hangs off it (its commitments, their
ratings, revisions, progress, occurrences, its reports and corrections, the citations of
either) is public with it. A party is public when it is a party to a published agreement,
or bound by or benefiting from one of its commitments; a source when a public citation
quotes it. The public site, the feeds, the embeds, the sitemap, the public API and the
public cache all read through these functions, so a draft cannot leak by one of them
forgetting the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
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
    """Return the parties to a published agreement, or bound by or benefiting from one of its
    commitments."""
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
        | Exists(
            Commitment.co_obligors.through.objects.filter(
                party_id=OuterRef("pk"), commitment__agreement__publication_state=PUBLISHED
            )
        )
        | Exists(
            Commitment.beneficiaries.through.objects.filter(
                party_id=OuterRef("pk"), commitment__agreement__publication_state=PUBLISHED
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
    # A commitment's correction follows the commitment's agreement, not the copy it was
    # written with.
    return Correction.objects.filter(
        Q(commitment__isnull=True, agreement__publication_state=PUBLISHED)
        | Q(commitment__agreement__publication_state=PUBLISHED)
    )


def public_report_corrections() -> QuerySet[ReportCorrection]:
    """Return the corrections of public reports."""
    return ReportCorrection.objects.filter(report__agreement__publication_state=PUBLISHED)


def is_public(agreement: Agreement) -> bool:
    """Say whether an agreement, and what hangs off it, is public."""
    return agreement.publication_state == PUBLISHED


def visible_to(
    user: Any, rows: QuerySet[M], public: QuerySet[M] | Callable[[], QuerySet[M]]
) -> QuerySet[M]:
    """Return ``rows`` to a signed-in user; to anyone else, only those among ``public``.

    ``public`` is one of the functions above (``public_agreements()`` for agreements), or the
    function itself, called only for a reader who is not signed in (building the condition
    costs a list page's filters a few milliseconds). The API's anonymous reads go through
    here, so they follow the one rule.
    """
    if user is not None and user.is_authenticated:
        return rows
    if callable(public):
        public = public()
    return rows.filter(pk__in=public.values("pk"))


#: Fields no anonymous reader gets, whatever the row: who on the staff did what.
NOT_PUBLIC_FIELDS = frozenset({"owner", "author", "created_by", "user", "published_by"})


# Reading in public: texts that name other rows (a deadline counting from another
# commitment's fulfilment) must not name a draft's. The public site's views and the API's
# anonymous reads run inside ``public_reading``; ``shown_to_reader`` answers for the rest.
_reading_publicly: ContextVar[bool] = ContextVar("reading_publicly", default=False)


def public_reading_begin(public: bool = True) -> Token[bool]:
    """Start reading as the public (``public``) or not; :func:`public_reading_end` ends it."""
    return _reading_publicly.set(public)


def public_reading_end(token: Token[bool]) -> None:
    """End what :func:`public_reading_begin` started."""
    _reading_publicly.reset(token)


@contextmanager
def public_reading(public: bool = True) -> Iterator[None]:
    """Run a block as the public reads: drafts are not named in any text it makes."""
    token = public_reading_begin(public)
    try:
        yield
    finally:
        public_reading_end(token)


def shown_to_reader(agreement: Agreement) -> bool:
    """Say whether the current reader may see this agreement's content (and its titles):
    always behind a login, in public only when it is published."""
    return not _reading_publicly.get() or is_public(agreement)
