"""The domain's API v1 endpoints: thin views that check access, call selectors and services, answer.

Every successful GET carries an ``ETag`` of its body; a client that sends it back in
``If-None-Match`` gets a 304 with no body while nothing it sees has changed.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from commitments import selectors, visibility
from commitments.filtersets import (
    AgreementFilterSet,
    CommitmentFilterSet,
    PartyFilterSet,
    ProgressUpdateFilterSet,
    SourceFilterSet,
)
from commitments.models import Agreement, Commitment
from commitments.source_files import source_download
from core.rest.pagination import CursorOrPageNumberPagination
from core.rest.parsers import JsonBodyParser
from core.rest.views import ApiViewSet
from core.roles import can_read

from . import readers, serializers
from .corrections import CorrectionActionMixin


class PublicReadingMixin:
    """Anonymous reads (``API_PUBLIC_READ``) run as the public reads: no draft is named in the
    texts a representation makes (a deadline counting from a draft commitment)."""

    _public_reading: Token[bool] | None = None

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        public = not request.user.is_authenticated
        self._public_reading = visibility.public_reading_begin(public)

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        token = getattr(self, "_public_reading", None)
        anonymous = not request.user.is_authenticated
        try:
            if anonymous and isinstance(response, Response):
                _redact(response.data, visibility.NOT_PUBLIC_FIELDS | self.not_public_fields)
            response = super().finalize_response(  # type: ignore[misc]
                request, response, *args, **kwargs
            )
            if anonymous and token is not None and isinstance(response, Response):
                # Rendered now, while reading in public: the list's rows are read lazily.
                response.render()
        finally:
            if token is not None:
                visibility.public_reading_end(token)
                self._public_reading = None
        return response

    #: More fields this resource keeps from anonymous readers (a source's archived text).
    not_public_fields: frozenset[str] = frozenset()


def _redact(data: Any, names: frozenset[str]) -> None:
    """Blank, in place, every value under one of ``names`` in a representation."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key in list(value):
                if key in names:
                    value[key] = None
                else:
                    stack.append(value[key])
        elif isinstance(value, list):
            stack.extend(value)


@extend_schema_view(
    list=extend_schema(summary="List parties"),
    retrieve=extend_schema(summary="Show a party"),
)
class PartyViewSet(
    PublicReadingMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, ApiViewSet
):
    """States, organisations and companies that make or receive commitments."""

    serializer_class = serializers.PartySerializer
    filterset_class = PartyFilterSet

    def get_queryset(self) -> QuerySet:
        return visibility.visible_to(
            self.request.user, selectors.party_list(), visibility.public_parties()
        )


@extend_schema_view(
    list=extend_schema(summary="List sources"),
    retrieve=extend_schema(summary="Show a source, with its archived text"),
    create=extend_schema(
        summary="Add a source with its archived copy (editors)",
        description=(
            "JSON with the pasted `text`, or multipart/form-data with the `original` file (a "
            "PDF with a text layer, a saved web page, a UTF-8 text file; judged on its bytes, "
            "at most TRACKER_SOURCE_MAX_BYTES). A key left out is made from the title. An "
            "empty, oversized, unreadable or text-less copy is a 400 naming the field."
        ),
        request={
            "application/json": serializers.SourceCreateSerializer,
            "multipart/form-data": serializers.SourceCreateSerializer,
        },
        responses={201: serializers.SourceDetailSerializer},
    ),
)
class SourceViewSet(
    PublicReadingMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    ApiViewSet,
):
    """Documents the agreements and commitments are drawn from, with their archived copies."""

    serializer_class = serializers.SourceSerializer
    filterset_class = SourceFilterSet
    parser_classes = [JsonBodyParser, MultiPartParser]
    # The archived copy is the editors' (its file is for readers with a login only).
    not_public_fields = frozenset({"text"})

    def get_queryset(self) -> QuerySet:
        rows = visibility.visible_to(
            self.request.user, selectors.source_list(), visibility.public_sources()
        )
        # A list's rows leave out the archived text, which only a source's own page carries.
        return rows.defer("text") if self.action == "list" else rows

    def get_serializer_class(self) -> type[Serializer]:
        if self.action == "create":
            return serializers.SourceCreateSerializer
        if self.action == "retrieve":
            return serializers.SourceDetailSerializer
        return serializers.SourceSerializer

    @extend_schema(
        summary="Download a source's archived original",
        description=(
            "The original as an attachment: a PDF as application/pdf, a saved web page or a "
            "text as text/plain (never as HTML), with nosniff and a sandboxing CSP. Readers "
            "with a login only, even when the API is publicly readable."
        ),
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "text/plain"): OpenApiTypes.STR,
            404: OpenApiResponse(description="No such source, or it has no archived copy."),
        },
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="original", filter_backends=[])
    def original(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        if not (request.user and request.user.is_authenticated and can_read(request.user)):
            raise NotAuthenticated() if not request.user.is_authenticated else PermissionDenied()
        return source_download(self.get_object())


@extend_schema_view(
    list=extend_schema(summary="List agreements"),
    retrieve=extend_schema(summary="Show an agreement"),
    create=extend_schema(summary="Create an agreement (editors)"),
    update=extend_schema(summary="Replace an agreement (editors)"),
    partial_update=extend_schema(
        summary="Change an agreement (editors)",
        description="A new date or time zone recomputes the due dates of its commitments.",
    ),
)
class AgreementViewSet(
    PublicReadingMixin,
    CorrectionActionMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    ApiViewSet,
):
    """Agreements and their parties; writes go through the agreement services."""

    serializer_class = serializers.AgreementSerializer
    filterset_class = AgreementFilterSet

    def get_queryset(self) -> QuerySet:
        return visibility.visible_to(
            self.request.user, selectors.agreement_list(), visibility.public_agreements()
        )

    @extend_schema(
        summary="Submit, publish, unpublish or return an agreement (editors)",
        description=(
            "One step of the editorial workflow: `submit` (draft to in review), `publish` "
            "(to the public site), `unpublish` (back to draft; a `note` saying why is "
            "required) or `return` (in review to draft). Where the site requires a second "
            "reviewer, only an agreement in review can be published, and not by the editor "
            "who submitted it or made its latest change. A refused step is a 400 naming "
            "`action` or `note`, nothing written; readers get a 403. Answers the agreement."
        ),
        request=serializers.PublicationChangeSerializer,
        responses={status.HTTP_200_OK: serializers.AgreementSerializer},
    )
    @action(detail=True, methods=["post"], url_path="publication", filterset_class=None)
    def publication(self, request: Request, pk: str | None = None) -> Response:
        """Take the step through the publishing service; answer the agreement as it now is."""
        agreement: Agreement = self.get_object()
        serializer = serializers.PublicationChangeSerializer(
            data=request.data, context={**self.get_serializer_context(), "agreement": agreement}
        )
        serializer.is_valid(raise_exception=True)
        serializer.save()
        updated = self.get_queryset().get(pk=agreement.pk)
        context = self.get_serializer_context()
        return Response(serializers.AgreementSerializer(updated, context=context).data)


@extend_schema_view(
    list=extend_schema(summary="List commitments"),
    retrieve=extend_schema(summary="Show a commitment"),
    create=extend_schema(summary="Create a commitment (editors)"),
    update=extend_schema(summary="Replace a commitment (editors)"),
    partial_update=extend_schema(
        summary="Change a commitment (editors)",
        description="Sending deadline_rule replaces the whole rule; the due date is recomputed.",
    ),
)
class CommitmentViewSet(
    PublicReadingMixin,
    CorrectionActionMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    ApiViewSet,
):
    """Commitments with computed deadlines; status changes are a separate action."""

    serializer_class = serializers.CommitmentSerializer
    filterset_class = CommitmentFilterSet
    # Deep walks (exports, sync) by keyset: ``?cursor=`` (issue 16).
    pagination_class = CursorOrPageNumberPagination

    #: Actions whose answer is not the commitment read here: the status change answers its
    #: progress update, a change the commitment read again once written (:meth:`update`).
    #: Their commitment is read without the nested rows a representation shows.
    _ANSWERED_OTHERWISE = frozenset({"update", "partial_update", "change_status"})

    def get_queryset(self) -> QuerySet:
        rows = selectors.commitment_list()
        if self.action in self._ANSWERED_OTHERWISE:
            rows = rows.prefetch_related(None)
        return visibility.visible_to(self.request.user, rows, visibility.public_commitments)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Answer a page read as plain rows (:mod:`commitments.api.readers`), not serialized.

        The filters, the ordering and the pagination (count, bounds, links, 404 past the
        last page) are the generic list's; only the rows of the page are read another way.
        """
        rows = readers.RepresentedCommitments(
            self.filter_queryset(self.get_queryset()), request=request, format=self.format_kwarg
        )
        # The paginator only counts, slices and checks the order: what the rows offer.
        page = self.paginate_queryset(cast(QuerySet, rows))
        if page is None:
            return Response(rows[:])
        return self.get_paginated_response(page)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Answer the commitment read as the list reads a page's rows: one statement.

        Found as the generic detail finds it: the filters, then the key in the URL; a 404 for
        no row or a key that is not one. The serializer read the same representation with
        eight queries and its nested serializers' fields built afresh each time (issue 16).
        :class:`~core.rest.permissions.RolePermission` has no rule per object to check.
        """
        lookup = self.lookup_url_kwarg or self.lookup_field
        try:
            found = self.filter_queryset(self.get_queryset()).filter(
                **{self.lookup_field: self.kwargs[lookup]}
            )
            rows = readers.commitment_representations(
                found, request=request, format=self.format_kwarg
            )
        except (TypeError, ValueError, DjangoValidationError) as refused:
            raise Http404 from refused  # as DRF's get_object_or_404
        if not rows:  # as Django's get_object_or_404, which DRF's calls
            raise Http404(f"No {Commitment._meta.object_name} matches the given query.")
        return Response(rows[0])

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Write as the generic update writes; answer the commitment as stored, read as the
        detail reads it (the generic answer read each nested list again, row by row)."""
        commitment: Commitment = self.get_object()
        serializer = self.get_serializer(
            commitment, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        written = self.get_queryset().filter(pk=commitment.pk)
        rows = readers.commitment_representations(
            written, request=request, format=self.format_kwarg
        )
        return Response(rows[0])

    @extend_schema(
        summary="Record a status change or progress (editors)",
        description=(
            "Moving to fulfilled, partially fulfilled or missed needs evidence: a source and "
            "a quote, which become a citation of the commitment. Nothing is written if any "
            "check fails."
        ),
        request=serializers.StatusChangeSerializer,
        responses={status.HTTP_201_CREATED: serializers.ProgressUpdateSerializer},
    )
    @action(detail=True, methods=["post"], url_path="status", filterset_class=None)
    def change_status(self, request: Request, pk: str | None = None) -> Response:
        """Record the change through the status service and answer with the progress update."""
        return self._record(
            request,
            serializers.StatusChangeSerializer,
            serializers.ProgressUpdateSerializer,
            commitment=self.get_object(),
        )

    # Deadline revisions (issue 12).

    @extend_schema(
        summary="Revise the deadline (editors)",
        description=(
            "Extend (a later date), bring forward (an earlier one), renegotiate (another "
            "date), suspend (the clock stops: not overdue while suspended) or resume (the "
            "clock restarts, optionally at a new date). A reason and evidence (a source and a "
            "quote, which become a citation) are required; the original due date is kept. "
            "Answers 201 with the updated commitment, its URL in Location. Nothing is written "
            "if any check fails. Recurring commitments are refused."
        ),
        request=serializers.RevisionCreateSerializer,
        responses={status.HTTP_201_CREATED: serializers.CommitmentSerializer},
    )
    @action(detail=True, methods=["post"], url_path="revisions", filterset_class=None)
    def revise(self, request: Request, pk: str | None = None) -> Response:
        """Record the revision through the revision service; answer with the commitment."""
        commitment: Commitment = self.get_object()
        serializer = serializers.RevisionCreateSerializer(
            data=request.data, context={**self.get_serializer_context(), "commitment": commitment}
        )
        serializer.is_valid(raise_exception=True)
        serializer.save()
        updated = self.get_queryset().get(pk=commitment.pk)
        body = serializers.CommitmentSerializer(updated, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})

    # Recurrence and occurrences (issue 12, item 3) --------------------------------------

    @extend_schema(
        summary="List a recurring commitment's occurrences",
        description="Every occurrence written so far, by number, paginated; empty if the "
        "commitment does not recur. The commitment's own representation holds the first "
        f"{serializers.OCCURRENCES_SHOWN}.",
        responses=serializers.OccurrenceSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="occurrences", filterset_class=None)
    def occurrences(self, request: Request, pk: str | None = None) -> Response:
        """Answer the commitment's occurrences, a page at a time."""
        commitment: Commitment = self.get_object()
        return self._page(
            selectors.occurrence_list(commitment=commitment), serializers.OccurrenceSerializer
        )

    @extend_schema(
        summary="Record an occurrence's status change or progress (editors)",
        description=(
            "The status action of one occurrence of a recurring commitment, by its number: "
            "the same body, the same evidence rules. The commitment's due date then follows "
            "its next open occurrence."
        ),
        request=serializers.StatusChangeSerializer,
        responses={status.HTTP_201_CREATED: serializers.ProgressUpdateSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"occurrences/(?P<sequence>[0-9]{1,9})/status",
        filterset_class=None,
    )
    def change_occurrence_status(
        self, request: Request, pk: str | None = None, sequence: str | None = None
    ) -> Response:
        """Record the change on one occurrence; 404 for a number the commitment does not have."""
        commitment: Commitment = self.get_object()
        occurrence = get_object_or_404(commitment.occurrences, sequence=int(sequence or 0))
        return self._record(
            request,
            serializers.StatusChangeSerializer,
            serializers.ProgressUpdateSerializer,
            commitment=commitment,
            occurrence=occurrence,
        )

    # End of recurrence and occurrences ---------------------------------------------------

    # Ratings (issue 13) ---------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="List a commitment's rating history",
        description="Every rating of every obligor, newest first (by date, then entry), "
        "paginated; the current ones are marked current.",
        responses=serializers.AssessmentSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Rate an obligor (editors)",
        description=(
            "Records a rating of one obligor's compliance, from a date (today if left out): "
            "a justification is required, and kept, compromise and broken need evidence (a "
            "source and a quote, which become a citation). The obligor's previous rating "
            "stays in the history. Nothing is written if any check fails."
        ),
        request=serializers.AssessmentCreateSerializer,
        responses={status.HTTP_201_CREATED: serializers.AssessmentSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="assessments", filterset_class=None)
    def assessments(self, request: Request, pk: str | None = None) -> Response:
        """Answer the rating history, or record a rating through the assessment service."""
        commitment: Commitment = self.get_object()
        if request.method == "POST":
            return self._record(
                request,
                serializers.AssessmentCreateSerializer,
                serializers.AssessmentSerializer,
                commitment=commitment,
            )
        return self._page(
            selectors.assessment_history(commitment=commitment), serializers.AssessmentSerializer
        )

    @extend_schema(
        summary="Confirm that a rating still holds (editors)",
        description=(
            "Moves the current rating's last-reviewed date (today in the agreement's time "
            "zone if left out) and clears its review-due flag when the date is recent enough. "
            "Only the obligor's current rating can be reviewed; a changed judgement is a new "
            "rating."
        ),
        request=serializers.AssessmentReviewSerializer,
        responses={status.HTTP_200_OK: serializers.AssessmentSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"assessments/(?P<assessment_id>[0-9]{1,18})/review",
        filterset_class=None,
    )
    def review_assessment(
        self, request: Request, pk: str | None = None, assessment_id: str | None = None
    ) -> Response:
        """Record the review; 404 for a rating that is not this commitment's."""
        commitment: Commitment = self.get_object()
        assessment = get_object_or_404(commitment.assessments, pk=int(assessment_id or 0))
        return self._record(
            request,
            serializers.AssessmentReviewSerializer,
            serializers.AssessmentSerializer,
            answer_status=status.HTTP_200_OK,
            assessment=assessment,
        )

    def _record(
        self,
        request: Request,
        write: type[Serializer],
        read: type[Serializer],
        *,
        answer_status: int = status.HTTP_201_CREATED,
        **context: Any,
    ) -> Response:
        """Parse ``request`` with ``write`` (given ``context``: the commitment, an occurrence
        or a rating), record it through its service, and answer the result read by ``read``."""
        serializer = write(data=request.data, context={**self.get_serializer_context(), **context})
        serializer.is_valid(raise_exception=True)
        written = serializer.save()
        return Response(
            read(written, context=self.get_serializer_context()).data, status=answer_status
        )

    def _page(self, rows: QuerySet[Any], read: type[Serializer]) -> Response:
        """Answer ``rows`` read by ``read``, a page at a time."""
        page = self.paginate_queryset(rows)
        body = read(
            page if page is not None else rows, many=True, context=self.get_serializer_context()
        )
        if page is None:
            return Response(body.data)
        return self.get_paginated_response(body.data)

    # End of ratings ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List progress updates"),
    retrieve=extend_schema(summary="Show a progress update"),
)
class ProgressUpdateViewSet(
    PublicReadingMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, ApiViewSet
):
    """Progress updates of every commitment, latest first; written by the status action."""

    serializer_class = serializers.ProgressUpdateSerializer
    filterset_class = ProgressUpdateFilterSet

    def get_queryset(self) -> QuerySet:
        return visibility.visible_to(
            self.request.user, selectors.progress_update_list(), visibility.public_progress()
        )
