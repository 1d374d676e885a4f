"""``POST /api/v1/parse/``: what the text parser proposes for a passage (issue 14, item 2).

A thin view: the request is checked by :func:`commitments.parsing.requests.read_request` (the
rule the ``parse_commitment_text`` command applies too), the text read by
:func:`commitments.parsing.propose`; nothing is written. The serializers below check the
body's shape and describe the answer for the schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from commitments import deadlines
from commitments.parsing import LANGUAGES, MAX_TEXT_LENGTH, propose
from commitments.parsing.requests import RequestError, read_request
from commitments.parsing.targets import UNITS
from core.rest.serializers import StrictMixin
from core.rest.views import ApiViewSet


class ParseSerializer(StrictMixin, serializers.Serializer):
    """The request: a text, its language, the agreement's date (schema: ``ParseRequest``)."""

    text = serializers.CharField(
        max_length=MAX_TEXT_LENGTH,
        trim_whitespace=False,
        help_text=f"The passage to read, at most {MAX_TEXT_LENGTH:,} characters.",
    )
    lang = serializers.ChoiceField(
        choices=LANGUAGES, help_text="The text's language; the parser reads English and French."
    )
    anchor = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="The agreement's date: relative rules and periods without a year count "
        "from it. Without it, such a rule is proposed with no due date.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            request = read_request(attrs["text"], attrs["lang"], attrs.get("anchor"))
        except RequestError as exc:
            raise serializers.ValidationError({exc.field: [exc.message]}) from None
        return {"text": request.text, "lang": request.lang, "anchor": request.anchor}


def _span(*, allow_null: bool = False) -> serializers.ListField:
    return serializers.ListField(
        allow_null=allow_null,
        child=serializers.IntegerField(min_value=0),
        min_length=2,
        max_length=2,
        help_text="[start, end] offsets into the text: text[start:end] is the phrase.",
    )


class DeadlineProposalSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[kind.value for kind in deadlines.RuleKind])
    due_date = serializers.DateField(
        allow_null=True, help_text="Null where the rule needs the agreement's date (anchor)."
    )
    precision = serializers.ChoiceField(
        choices=[p.value for p in deadlines.Precision],
        help_text="How precisely the due date is known.",
    )
    phrase = serializers.CharField(help_text="The words the rule was read from.")
    span = _span()
    source_phrase = serializers.CharField(help_text="The phrase, as the rule stores it.")
    date = serializers.DateField(allow_null=True, help_text="A fixed rule's date.")
    offset_amount = serializers.IntegerField(allow_null=True)
    offset_unit = serializers.CharField(allow_blank=True)
    anchor_kind = serializers.CharField(
        allow_blank=True, help_text='"agreement" for a relative rule, else empty.'
    )
    anchor_commitment = serializers.IntegerField(allow_null=True)
    period_unit = serializers.CharField(allow_blank=True)
    period_number = serializers.IntegerField(allow_null=True)
    period_year = serializers.IntegerField(allow_null=True)


class TargetProposalSerializer(serializers.Serializer):
    amount = serializers.CharField(help_text='The amount in plain digits, e.g. "550000000000".')
    unit = serializers.ChoiceField(choices=UNITS)
    phrase = serializers.CharField()
    span = _span()


class ParseAnswerSerializer(serializers.Serializer):
    deadline = DeadlineProposalSerializer(allow_null=True)
    effective_from = serializers.DateField(allow_null=True)
    effective_from_precision = serializers.ChoiceField(
        choices=[deadlines.Precision.DAY.value, deadlines.Precision.MONTH.value],
        allow_null=True,
        help_text="A date known to the month is its first day.",
    )
    effective_from_phrase = serializers.CharField(allow_null=True)
    effective_from_span = _span(allow_null=True)
    target = TargetProposalSerializer(allow_null=True)


class ParseViewSet(ApiViewSet):
    """Proposals read from a passage of a source; nothing is stored."""

    serializer_class = ParseSerializer

    @extend_schema(
        summary="Read a deadline rule, an effective date and a target from a text (editors)",
        description="The parser proposes each part, or null where it is unsure (two "
        "different readings, a vague phrase such as 'by mid-2026', an unknown unit, or a "
        "language other than English or French). Nothing is written. A text over "
        f"{MAX_TEXT_LENGTH:,} characters, an unknown `lang` or a malformed `anchor`: 400 "
        "naming the field.",
        request=ParseSerializer,
        responses={200: ParseAnswerSerializer},
        examples=[
            OpenApiExample(
                "A French passage",
                request_only=True,
                value={
                    "text": "le Japon augmentera ses dépenses militaires à 2 % du PIB d’ici mars",
                    "lang": "fr",
                    "anchor": "2025-10-28",
                },
            )
        ],
    )
    def create(self, request: Request) -> Response:
        serializer = ParseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        proposals = propose(data["text"], lang=data["lang"], anchor=data["anchor"])
        return Response(proposals.as_json())
