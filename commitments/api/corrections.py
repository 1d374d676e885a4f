"""Corrections through the API: ``POST /api/v1/{agreements|commitments}/{id}/corrections/``.

A thin interface over :func:`commitments.services.corrections.correction_record`: the body
names the fields and their corrected values and the public note; the answer lists the
corrections written. The service's refusals come back as 400s naming the field.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from commitments.models import Correction
from commitments.services.corrections import correction_record
from core.rest.serializers import StrictMixin


class CorrectionCreateSerializer(StrictMixin, serializers.Serializer):
    """A correction: the fields and their new values, and why (shown to the public)."""

    changes = serializers.DictField(
        child=serializers.JSONField(),
        help_text='The fields to correct and their corrected values: {"title": "…"}.',
    )
    note = serializers.CharField(
        allow_blank=True, help_text="Why: shown with the correction in the public log."
    )


class CorrectionSerializer(serializers.ModelSerializer):
    """A correction as written: the field, what it said, what it says now, why, when."""

    class Meta:
        model = Correction
        fields = ["id", "field", "old_value", "new_value", "note", "corrected_at"]
        read_only_fields = fields


class CorrectionActionMixin:
    """The ``corrections`` action of the agreement and commitment endpoints (editors)."""

    get_object: Any

    @extend_schema(
        summary="Correct published content with a public note (editors)",
        description=(
            "Applies the corrected values through the same checks as an edit (due dates are "
            "recomputed) and writes one public correction per field whose value changed. "
            "Refused with the field named, nothing written: no note, an agreement that is not "
            "published (change a draft by editing it), a value that is refused or changes "
            "nothing, a field that cannot be corrected."
        ),
        request=CorrectionCreateSerializer,
        responses={status.HTTP_201_CREATED: CorrectionSerializer(many=True)},
    )
    @action(detail=True, methods=["post"], url_path="corrections", filterset_class=None)
    def corrections(self, request: Request, pk: str | None = None) -> Response:
        """Record the correction through the service; answer with the corrections written."""
        body = CorrectionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        written = correction_record(
            target=self.get_object(),
            changes=body.validated_data["changes"],
            note=body.validated_data["note"],
            user=request.user,
        )
        return Response(
            CorrectionSerializer(written, many=True).data, status=status.HTTP_201_CREATED
        )
