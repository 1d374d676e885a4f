"""Calendar feeds (subscribed without login, by secret URL), their management, and CSV export."""

from __future__ import annotations

import hashlib
from typing import Any, cast

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date
from django.views.decorators.http import require_safe
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from commitments.filtersets import CommitmentFilterSet
from commitments.models import Commitment
from commitments.visibility import public_commitments, visible_to
from core.rest.permissions import OwnDataPermission, RolePermission
from core.rest.schema import ApiAutoSchema
from core.rest.views import ApiViewSet
from feeds import export, ical, selectors, services
from feeds.models import CalendarFeed

from .serializers import CalendarFeedSerializer


@require_safe
def calendar_feed(request: HttpRequest, secret: str) -> HttpResponse:
    """Answer the iCalendar file a secret opens; 404 for a wrong, rotated or revoked secret.

    Calendar apps poll: an unchanged calendar answers 304 to ``If-None-Match``. The ETag
    hashes the body, so it changes whenever anything shown changes (an overdue mark included).
    """
    feed = selectors.calendar_feed_for_secret(secret=secret)
    if feed is None:
        raise Http404("No such calendar.")
    now = timezone.now()
    # Calendar apps rarely send a language: the feed is written in its owner's, where they
    # chose one, else in the request's.
    language = selectors.feed_language(feed=feed, default=translation.get_language())
    with translation.override(language):
        events = selectors.feed_events(feed=feed, now=now)
        body = ical.calendar_build(
            name=selectors.feed_title(feed=feed),
            description=selectors.feed_description(now=now),
            host=selectors.site_host(),
            events=events,
        )
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    last_modified = max((event.last_modified for event in events), default=feed.created)
    # Only the ETag decides a 304: a removed event moves no date, so If-Modified-Since could
    # keep a stale calendar.
    response = get_conditional_response(request, etag=etag) or HttpResponse(
        body, content_type="text/calendar; charset=utf-8"
    )
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(last_modified.timestamp())
    response.headers["Content-Disposition"] = 'inline; filename="deadlines.ics"'
    patch_cache_control(response, private=True, max_age=0, must_revalidate=True)
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@extend_schema_view(
    list=extend_schema(summary="List my calendar feeds"),
    create=extend_schema(
        summary="Make a calendar feed",
        description="Answers the feed with `subscribe_url`, shown this once.",
    ),
    retrieve=extend_schema(summary="Show one of my calendar feeds"),
    destroy=extend_schema(
        summary="Revoke a calendar feed", description="Its URL answers 404 from now on."
    ),
)
class CalendarFeedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """The caller's own calendar feeds: someone else's id is not found (404).

    A feed's ``subscribe_url`` (``/api/v1/calendar/<secret>.ics``) needs no credentials, so
    calendar apps can poll it; it answers ``text/calendar`` (RFC 5545), 404 once the feed is
    revoked or rotated or its user is inactive or loses their role. It shows deadlines due
    from a year ago on and older ones still open (overdue), at most 2000, soonest first.
    """

    serializer_class = CalendarFeedSerializer
    permission_classes = [OwnDataPermission]

    def get_queryset(self) -> QuerySet[CalendarFeed]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return CalendarFeed.objects.none()
        return CalendarFeed.objects.filter(user=self._user()).order_by("-created", "-id")

    def _user(self) -> User:
        # OwnDataPermission has let only authenticated users with a role in.
        return cast(User, self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feed, secret = services.calendar_feed_create(
            user=self._user(), now=timezone.now(), **serializer.validated_data
        )
        return Response(self._with_url(feed, secret), status=status.HTTP_201_CREATED)

    def _with_url(self, feed: CalendarFeed, secret: str) -> Any:
        """Return the feed's representation with its subscription URL, this once."""
        context = {**self.get_serializer_context(), "secret": secret}
        return self.get_serializer(feed, context=context).data

    def perform_destroy(self, instance: CalendarFeed) -> None:
        services.calendar_feed_revoke(feed=instance, now=timezone.now())

    @extend_schema(
        summary="Rotate a calendar feed's secret",
        description="Every URL made with the old secret stops working; a revoked feed "
        "works again under the new one. Answers `subscribe_url`, shown this once.",
        request=None,
    )
    @action(detail=True, methods=["post"])
    def rotate(self, request: Request, pk: str | None = None) -> Response:
        feed = self.get_object()
        secret = services.calendar_feed_rotate(feed=feed, now=timezone.now())
        return Response(self._with_url(feed, secret))


class StreamedExportSchema(ApiAutoSchema):
    """Describe the export without the conditional GET: a stream is sent before it is hashed."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            operation["responses"].pop("304", None)
            operation["responses"]["200"].get("headers", {}).pop("ETag", None)
            operation["parameters"] = [
                parameter
                for parameter in operation.get("parameters", [])
                if parameter.get("name") != "If-None-Match"
            ]
        return operation


@extend_schema(
    summary="Export commitments as CSV",
    description="The same filters, ordering and permissions as the commitments list, without "
    "pagination: every matching row, streamed. Columns: " + ", ".join(export.COLUMNS) + ". "
    "The agreement and the obligor are given by key, instants in UTC (ISO 8601). Text that "
    "starts with = + - @ is prefixed with ' so spreadsheets do not run it.",
    responses={
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file."),
    },
    filters=True,
)
class CommitmentExportView(GenericAPIView):
    """Stream the filtered commitment list as CSV; errors are JSON like the rest of the API."""

    permission_classes = [RolePermission]
    filter_backends = [DjangoFilterBackend]
    filterset_class = CommitmentFilterSet
    pagination_class = None
    schema = StreamedExportSchema()

    def get_queryset(self) -> QuerySet[Commitment]:
        rows = Commitment.objects.order_by("due_date", "id")
        return visible_to(self.request.user, rows, public_commitments())

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The body is CSV whatever the Accept header says; only errors use a renderer (JSON).
        return super().perform_content_negotiation(request, force=True)

    def get(self, request: Request) -> StreamingHttpResponse:
        rows = export.export_rows(self.filter_queryset(self.get_queryset()))
        response = StreamingHttpResponse(
            export.csv_chunks(rows), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response.headers["Content-Disposition"] = f'attachment; filename="commitments-{stamp}.csv"'
        patch_vary_headers(response, ["Authorization", "Cookie"])
        return response
