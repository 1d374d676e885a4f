"""The API of compliance as of a date and of frozen reports (issue 13, items 5 and 6).

Thin views: the query string and bodies are parsed by the domain's forms
(:class:`~commitments.forms.ComplianceDateForm`, :class:`~commitments.forms.ReportFreezeForm`,
:class:`~commitments.forms.ReportCorrectionForm`), the tables read by the selectors, the files
made by :mod:`commitments.report_files`; the serializers below only describe and shape them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from commitments.assessment import Rating, Tally
from commitments.choices import rating_label
from commitments.forms import ComplianceDateForm, ReportCorrectionForm, ReportFreezeForm
from commitments.models import Agreement, Report
from commitments.report_files import report_csv, report_filename, report_pdf
from commitments.selectors import (
    AssessmentBrief,
    ComplianceTable,
    ReportReading,
    compliance_changes,
    compliance_table,
    report_list,
    report_reading,
)
from commitments.services.reports import agreement_today
from commitments.visibility import public_agreements, visible_to
from core.rest.exceptions import to_drf_validation_error
from core.rest.serializers import refuse_unknown_keys
from core.rest.views import ApiViewSet

# Shapes of the answers, for the schema ------------------------------------------------------


class CommitmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()


class PartyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    name = serializers.CharField()


class SourceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.URLField()
    published_on = serializers.DateField(allow_null=True)


class EvidenceOutSerializer(serializers.Serializer):
    quote = serializers.CharField()
    locator = serializers.CharField()
    source = SourceRefSerializer()  # type: ignore[assignment]  # a field, not Field.source


class TallySerializer(serializers.Serializer):
    average = serializers.DecimalField(
        max_digits=4, decimal_places=2, allow_null=True, help_text="Mean of the scored rows."
    )
    percent = serializers.IntegerField(allow_null=True, help_text="The average on 0-100 (G7).")
    scored = serializers.IntegerField()
    unscored = serializers.IntegerField(help_text="Rows counted apart: not in the average.")
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Rows per rating.")


class ComplianceRowSerializer(serializers.Serializer):
    commitment = CommitmentRefSerializer()
    rating = serializers.ChoiceField(choices=[r.value for r in Rating])
    rating_label = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)
    justification = serializers.CharField()
    evidence = EvidenceOutSerializer(allow_null=True)
    assessed_on = serializers.DateField(allow_null=True)


class PartyComplianceSerializer(TallySerializer):
    party = PartyRefSerializer()
    rows = ComplianceRowSerializer(many=True)


class ComplianceChangeSerializer(serializers.Serializer):
    commitment = CommitmentRefSerializer()
    party = PartyRefSerializer()
    rating_from = serializers.CharField()
    rating_to = serializers.CharField()
    justification = serializers.CharField(help_text="Why: the later rating's justification.")
    evidence = EvidenceOutSerializer(allow_null=True)
    assessed_on = serializers.DateField(allow_null=True)


class ComplianceSerializer(serializers.Serializer):
    agreement = CommitmentRefSerializer()
    as_of = serializers.DateField()
    since = serializers.DateField(allow_null=True)
    parties = PartyComplianceSerializer(many=True)
    totals = TallySerializer()
    changes = ComplianceChangeSerializer(many=True, required=False)


def _tally(tally: Tally) -> dict[str, Any]:
    return {
        "average": None if tally.average is None else str(tally.average),
        "percent": None if tally.percent is None else int(tally.percent),
        "scored": tally.scored,
        "unscored": tally.unscored,
        "counts": {rating.value: n for rating, n in tally.counts.items()},
    }


def _evidence(assessment: AssessmentBrief | None) -> dict[str, Any] | None:
    citation = assessment.evidence if assessment else None
    if citation is None:
        return None
    source = citation.source
    return {
        "quote": citation.quote,
        "locator": citation.locator,
        "source": {
            "id": source.pk,
            "title": source.title,
            "url": source.url,
            "published_on": source.published_on,
        },
    }


def _ref(obj: Any, *names: str) -> dict[str, Any]:
    return {"id": obj.pk, **{name: getattr(obj, name) for name in names}}


def compliance_body(
    table: ComplianceTable, *, as_of: dt.date, since: dt.date | None
) -> dict[str, Any]:
    """Return the compliance table (and its changes since ``since``) as the API answers it."""
    body: dict[str, Any] = {
        "agreement": _ref(table.agreement, "key", "title"),
        "as_of": as_of,
        "since": since,
        "parties": [
            {
                "party": _ref(entry.party, "key", "name"),
                **_tally(entry.tally),
                "rows": [
                    {
                        "commitment": _ref(row.commitment, "key", "title"),
                        "rating": row.rating,
                        "rating_label": rating_label(row.rating),
                        "score": row.score,
                        "justification": row.assessment.justification if row.assessment else "",
                        "evidence": _evidence(row.assessment),
                        "assessed_on": row.assessment.assessed_on if row.assessment else None,
                    }
                    for row in entry.rows
                ],
            }
            for entry in table.parties
        ],
        "totals": _tally(table.tally),
    }
    if since is not None:
        body["changes"] = [
            {
                "commitment": _ref(change.commitment, "key", "title"),
                "party": _ref(change.party, "key", "name"),
                "rating_from": change.rating_before,
                "rating_to": change.rating_after,
                "justification": change.after.justification if change.after else "",
                "evidence": _evidence(change.after),
                "assessed_on": change.after.assessed_on if change.after else None,
            }
            for change in compliance_changes(table=table, since=since)
        ]
    return body


def _form_errors(form: Any) -> Any:
    return to_drf_validation_error(DjangoValidationError(form.errors.as_data()))


def _agreement(request: Request, pk: str | None) -> Agreement:
    """Return the agreement ``pk`` names; an anonymous caller finds only a published one."""
    rows = visible_to(request.user, Agreement.objects.all(), public_agreements())
    return get_object_or_404(rows, pk=pk if (pk or "").isdecimal() else None)


DATE_PARAMETERS = [
    OpenApiParameter(
        "as_of",
        OpenApiTypes.DATE,
        description="The table as it stood at the end of this day (YYYY-MM-DD); today if "
        "left out. Not before the agreement, not in the future.",
    ),
    OpenApiParameter(
        "since",
        OpenApiTypes.DATE,
        description="Also list the rows whose rating changed after the end of this day.",
    ),
]


class ComplianceViewSet(ApiViewSet):
    """An agreement's compliance table as of a date, reproduced from the history of ratings."""

    queryset = Agreement.objects.none()
    serializer_class = ComplianceSerializer
    filter_backends: list[Any] = []
    pagination_class = None

    @extend_schema(
        summary="Show an agreement's compliance as of a date",
        description=(
            "Per party: each commitment it is bound by with the rating that stood at the end "
            "of `as_of` (latest rating dated on or before it), the score, justification and "
            "evidence; the average and G7 percentage over scored rows, and every rating's "
            "count (not yet rated, not verifiable and cancelled are counted apart). With "
            "`since`, `changes` lists the rows whose rating differs between the two dates. "
            "A bad date is a 400 naming `as_of` or `since`."
        ),
        parameters=DATE_PARAMETERS,
        responses={200: ComplianceSerializer},
    )
    def list(self, request: Request, agreement_pk: str | None = None) -> Response:
        agreement = _agreement(self.request, agreement_pk)
        form = ComplianceDateForm(request.query_params, agreement=agreement)
        if not form.is_valid():
            raise _form_errors(form)
        as_of, since = form.cleaned_data.get("as_of"), form.cleaned_data.get("since")
        table = compliance_table(agreement=agreement, as_of=as_of)
        end = as_of or agreement_today(agreement, timezone.now())
        return Response(compliance_body(table, as_of=end, since=since))


# Reports ------------------------------------------------------------------------------------


class ReportCorrectionOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    row = serializers.IntegerField(allow_null=True)
    field = serializers.CharField()
    corrected_on = serializers.DateField()
    old_value = serializers.CharField(help_text="What the report said: kept, never erased.")
    new_value = serializers.CharField()
    note = serializers.CharField()


class ReportRowOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    commitment = CommitmentRefSerializer()
    party = serializers.CharField()
    rating = serializers.CharField(help_text="The rating that stands, corrections applied.")
    score = serializers.IntegerField(allow_null=True)
    justification = serializers.CharField()
    evidence_quote = serializers.CharField()
    frozen = serializers.DictField(help_text="The row's text as frozen at the cut-off.")
    corrected = serializers.BooleanField()
    corrections = ReportCorrectionOutSerializer(many=True)


class ReportSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    cutoff = serializers.DateField()
    created = serializers.DateTimeField()
    corrections = serializers.IntegerField()
    url = serializers.URLField()
    csv = serializers.URLField()
    pdf = serializers.URLField()


class ReportDetailSerializer(ReportSummarySerializer):
    method = serializers.ListField(child=serializers.DictField(), help_text="The scale as used.")
    totals = TallySerializer()
    parties = serializers.ListField(child=serializers.DictField())
    rows = ReportRowOutSerializer(many=True)
    sources = serializers.ListField(child=serializers.DictField())
    correction_log = ReportCorrectionOutSerializer(many=True)


class ReportFreezeSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    cutoff = serializers.DateField(help_text="YYYY-MM-DD: not before the agreement, not future.")


class ReportCorrectionInSerializer(serializers.Serializer):
    row = serializers.IntegerField(required=False, allow_null=True, help_text="A row's id.")
    field = serializers.ChoiceField(choices=["rating", "justification", "evidence", "report"])
    new_value = serializers.CharField(allow_blank=True)
    note = serializers.CharField(help_text="Why: required.")
    corrected_on = serializers.DateField(required=False, help_text="Today if left out.")


def _correction(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "row": c.row_id,
        "field": c.field,
        "corrected_on": c.corrected_on,
        "old_value": c.old_value,
        "new_value": c.new_value,
        "note": c.note,
    }


class FileRenderer(BaseRenderer):
    """Accept a request for a file's type; the view answers with the file's bytes itself."""

    charset = None

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> Any:
        return data


class CSVRenderer(FileRenderer):
    media_type = "text/csv"
    format = "csv"


class PDFRenderer(FileRenderer):
    media_type = "application/pdf"
    format = "pdf"


def _parse(form_class: type, data: Any, serializer: serializers.Serializer, **kwargs: Any) -> Any:
    """Fill a domain form from a JSON body; raise its errors as a 400."""
    if not isinstance(data, Mapping):
        raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    refuse_unknown_keys(serializer, data)
    values = {
        k: ("" if v is None else v if isinstance(v, str) else str(v)) for k, v in data.items()
    }
    form = form_class(values, **kwargs)
    if not form.is_valid():
        raise _form_errors(form)
    return form


class ReportViewSet(ApiViewSet):
    """An agreement's frozen reports: list, freeze, read, download, correct."""

    queryset = Report.objects.none()
    serializer_class = ReportSummarySerializer
    filter_backends: list[Any] = []
    lookup_value_regex = r"\d+"

    def handle_exception(self, exc: Exception) -> Response:
        """Answer every error in JSON, also where a file (CSV, PDF) was asked for."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response

    def _report(self, agreement_pk: str | None, pk: str | None) -> Report:
        return get_object_or_404(
            Report.objects.select_related("agreement", "created_by"),
            pk=pk,
            agreement_id=_agreement(self.request, agreement_pk).pk,
        )

    def _summary(self, report: Report, corrections: int) -> dict[str, Any]:
        kwargs = {"agreement_pk": report.agreement_id, "pk": report.pk}
        link = self.request.build_absolute_uri
        return {
            "id": report.pk,
            "title": report.title,
            "cutoff": report.cutoff,
            "created": report.created,
            "corrections": corrections,
            "url": link(reverse("api:report-detail", kwargs=kwargs)),
            "csv": link(reverse("api:report-csv", kwargs=kwargs)),
            "pdf": link(reverse("api:report-pdf", kwargs=kwargs)),
        }

    def _detail(self, reading: ReportReading) -> dict[str, Any]:
        report = reading.report
        return {
            **self._summary(report, len(reading.corrections)),
            "method": report.method,
            "totals": _tally(reading.tally),
            "parties": [{"party": p.party_name, **_tally(p.tally)} for p in reading.parties],
            "rows": [
                {
                    "id": line.row.pk,
                    "commitment": {
                        "id": line.row.commitment_id,
                        "key": line.row.commitment_key,
                        "title": line.row.commitment_title,
                    },
                    "party": line.row.party_name,
                    "rating": line.rating,
                    "score": line.score,
                    "justification": line.justification,
                    "evidence_quote": line.evidence,
                    "frozen": {
                        "rating": line.row.rating or Rating.NOT_RATED.value,
                        "score": line.row.score,
                        "justification": line.row.justification,
                        "assessed_on": line.row.assessed_on,
                        "reviewed_on": line.row.reviewed_on,
                        "evidence_quote": line.row.evidence_quote,
                        "evidence_locator": line.row.evidence_locator,
                        "source_title": line.row.source_title,
                        "source_url": line.row.source_url,
                        "source_published_on": line.row.source_published_on,
                    },
                    "corrected": line.corrected,
                    "corrections": [_correction(c) for c in line.corrections],
                }
                for line in reading.lines
            ],
            "sources": [
                {"title": title, "url": url, "published_on": published}
                for title, url, published in reading.sources
            ],
            "correction_log": [_correction(c) for c in reading.corrections],
        }

    @extend_schema(
        summary="List an agreement's reports", responses=ReportSummarySerializer(many=True)
    )
    def list(self, request: Request, agreement_pk: str | None = None) -> Response:
        reports = report_list(agreement=_agreement(self.request, agreement_pk))
        page = self.paginate_queryset(reports)
        rows = [
            self._summary(r, r.correction_count)  # type: ignore[attr-defined]
            for r in (page if page is not None else reports)
        ]
        return self.get_paginated_response(rows) if page is not None else Response(rows)

    @extend_schema(
        summary="Freeze a report (editors)",
        description="Copies the compliance table as it stood at the end of `cutoff`. A blank "
        "or used `title`, a `cutoff` before the agreement or in the future: 400, nothing "
        "written.",
        request=ReportFreezeSerializer,
        responses={201: ReportDetailSerializer},
    )
    def create(self, request: Request, agreement_pk: str | None = None) -> Response:
        agreement = _agreement(self.request, agreement_pk)
        form = _parse(ReportFreezeForm, request.data, ReportFreezeSerializer(), agreement=agreement)
        report = form.save(user=request.user)
        if report is None:
            raise _form_errors(form)
        body = self._detail(report_reading(report=report))
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})

    @extend_schema(summary="Show a report, corrections applied", responses=ReportDetailSerializer)
    def retrieve(
        self, request: Request, agreement_pk: str | None = None, pk: str | None = None
    ) -> Response:
        return Response(self._detail(report_reading(report=self._report(agreement_pk, pk))))

    def _file(self, agreement_pk: str | None, pk: str | None, extension: str) -> HttpResponse:
        reading = report_reading(report=self._report(agreement_pk, pk))
        if extension == "csv":
            body, content_type = report_csv(reading), "text/csv; charset=utf-8"
        else:
            body, content_type = report_pdf(reading), "application/pdf"
        response = HttpResponse(body, content_type=content_type)
        name = report_filename(reading, extension)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @extend_schema(
        summary="Download a report as CSV",
        description="UTF-8 with a byte-order mark; one row per commitment and party, corrected "
        "values, and a `corrected` column.",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"], renderer_classes=[CSVRenderer, JSONRenderer])
    def csv(
        self, request: Request, agreement_pk: str | None = None, pk: str | None = None
    ) -> HttpResponse:
        return self._file(agreement_pk, pk, "csv")

    @extend_schema(
        summary="Download a report as PDF",
        description="Title page, tables per party, sources, corrections and the methodology, "
        "in the request's language.",
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"], renderer_classes=[PDFRenderer, JSONRenderer])
    def pdf(
        self, request: Request, agreement_pk: str | None = None, pk: str | None = None
    ) -> HttpResponse:
        return self._file(agreement_pk, pk, "pdf")

    @extend_schema(
        summary="Correct a report (editors)",
        description="A dated correction of one row's rating, justification or evidence (or, "
        "with no `row`, of the report as a whole), with its reason. The old text is kept. "
        "Answers 201 with the report.",
        request=ReportCorrectionInSerializer,
        responses={201: ReportDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def corrections(
        self, request: Request, agreement_pk: str | None = None, pk: str | None = None
    ) -> Response:
        report = self._report(agreement_pk, pk)
        form = _parse(
            ReportCorrectionForm, request.data, ReportCorrectionInSerializer(), report=report
        )
        if form.save(user=request.user) is None:
            raise _form_errors(form)
        return Response(self._detail(report_reading(report=report)), status=status.HTTP_201_CREATED)
