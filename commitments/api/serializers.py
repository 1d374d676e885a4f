"""Representations of the domain's API v1 resources; writes go through the domain services.

Every writable serializer refuses keys it does not accept (unknown or read-only fields) with a
400 naming them, so a client cannot set computed fields such as ``status`` or ``due_date``.
Creates and updates call the services, which run ``full_clean``; their Django
``ValidationError`` becomes a 400 with the same field names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse as drf_reverse

from commitments import deadlines
from commitments.assessment import Rating, pace
from commitments.assessment import score as assessment_score
from commitments.choices import (
    RATING_SHOWN_CHOICES,
    FulfilmentTiming,
    PaceChoice,
    PrecisionChoice,
    PublicationAction,
    RatingChoice,
    RecurrenceKind,
    RevisionKind,
    SourceKind,
    Status,
    rating_label,
)
from commitments.deadlines import RuleError
from commitments.deadlines.text import commitment_rule_in_words, deadline_explanation
from commitments.forms import (
    AssessmentForm,
    AssessmentReviewForm,
    RevisionForm,
    StatusChangeForm,
    service_error,
)
from commitments.models import (
    Agreement,
    Assessment,
    Citation,
    Commitment,
    DeadlineRevision,
    Occurrence,
    Party,
    ProgressUpdate,
    Source,
)
from commitments.selectors import current_assessments
from commitments.services import commitments as commitment_services
from commitments.services.publishing import publication_change
from commitments.services.sources import source_create, upload_read
from commitments.stages import is_retroactive
from core.rest.exceptions import (
    call_service,
    input_error_register,
    nested_fields_register,
    to_drf_validation_error,
)
from core.rest.serializers import (
    ApiModelSerializer,
    DetailUrlField,
    StrictMixin,
    refuse_unknown_keys,
)

#: The most party ids one list may hold (there are fewer than 200 states).
PARTY_IDS_MAX = 300


@extend_schema_field({"type": "array", "items": {"type": "integer"}, "maxItems": PARTY_IDS_MAX})
class PartyIdsField(serializers.ManyRelatedField):
    """A list of party ids: at most ``MAX_IDS``, all checked in one query, repeats dropped.

    DRF's ``PrimaryKeyRelatedField(many=True)`` looks every id up with its own query and takes
    lists of any length, so one request body could hold hundreds of thousands of lookups.
    """

    MAX_IDS = PARTY_IDS_MAX
    default_error_messages = {
        **serializers.ManyRelatedField.default_error_messages,
        "too_many": "Give at most {max_ids} ids; got {count}.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            child_relation=serializers.PrimaryKeyRelatedField(queryset=Party.objects.all()),
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> list[Party]:
        if isinstance(data, (str, Mapping)) or not isinstance(data, Sequence):
            self.fail("not_a_list", input_type=type(data).__name__)
        if len(data) > self.MAX_IDS:
            self.fail("too_many", max_ids=self.MAX_IDS, count=len(data))
        if not self.allow_empty and not data:
            self.fail("empty")
        child = self.child_relation
        pks: list[int] = []
        for item in data:
            # The child's own rules for a well-formed id (no booleans, no floats, digits only).
            if isinstance(item, bool) or not isinstance(item, (int, str)):
                child.fail("incorrect_type", data_type=type(item).__name__)
            try:
                pks.append(int(item))
            except ValueError:
                child.fail("incorrect_type", data_type=type(item).__name__)
        found = Party.objects.in_bulk(set(pks))
        for pk in pks:
            if pk not in found:
                child.fail("does_not_exist", pk_value=pk)
        return [found[pk] for pk in dict.fromkeys(pks)]


class PartySerializer(ApiModelSerializer):
    """A state, organisation or company."""

    url = DetailUrlField(view_name="api:party-detail")

    class Meta:
        model = Party
        fields = [
            "id",
            "url",
            "key",
            "name",
            "name_fr",
            "machine_translations",
            "kind",
            "country_code",
            "created",
            "updated",
        ]


class SourceSerializer(ApiModelSerializer):
    """A document agreements and commitments are drawn from, and the facts of its archived copy.

    The list leaves the archived ``text`` out (it may run to megabytes); a source's own page
    (:class:`SourceDetailSerializer`) carries it.
    """

    url = DetailUrlField(view_name="api:source-detail")
    link = serializers.URLField(source="url", read_only=True, help_text="The document's URL.")
    original = serializers.SerializerMethodField(
        help_text="Where to download the archived original (or the pasted text); null if none."
    )
    content_type = serializers.CharField(
        read_only=True,
        help_text="The archived original's type: application/pdf, text/html or text/plain; "
        "empty for a source with no archived copy.",
    )

    class Meta:
        model = Source
        fields = [
            "id",
            "url",
            "key",
            "title",
            "publisher",
            "link",
            "language",
            "published_on",
            "kind",
            "retrieved_on",
            "content_type",
            "original_name",
            "sha256",
            "original",
            "created",
            "updated",
        ]

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_original(self, source: Source) -> str | None:
        if not (source.content_type or source.original):
            return None
        request = self.context.get("request")
        return str(drf_reverse("api:source-original", kwargs={"pk": source.pk}, request=request))


class SourceDetailSerializer(SourceSerializer):
    """A source with its archived text, which its citations' ``start`` and ``end`` point into."""

    class Meta(SourceSerializer.Meta):
        fields = [*SourceSerializer.Meta.fields[:-2], "text", "created", "updated"]


def _source_max(name: str) -> int:
    field = Source._meta.get_field(name)
    return int(getattr(field, "max_length", None) or 0)


class SourceFieldsSerializer(StrictMixin, serializers.Serializer):
    """A new source's own facts, as both ways of adding one through the API take them."""

    key = serializers.SlugField(max_length=_source_max("key"), required=False, allow_blank=True)
    title = serializers.CharField(max_length=_source_max("title"))
    publisher = serializers.CharField(max_length=_source_max("publisher"))
    link = serializers.URLField(max_length=_source_max("url"), required=False, allow_blank=True)
    language = serializers.CharField(
        max_length=_source_max("language"), help_text="BCP 47 code, e.g. fr, en, ja."
    )
    published_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=SourceKind.choices)
    retrieved_on = serializers.DateField(
        required=False, allow_null=True, help_text="The day the copy was taken; today if none."
    )


class SourceCreateSerializer(SourceFieldsSerializer):
    """A new source and its archived copy: ``text`` pasted (JSON) or an ``original`` file
    (multipart: a PDF with a text layer, a saved web page or a UTF-8 text file).

    A key left out is made from the title. ``source_create`` reads and checks the copy and
    writes the source, or nothing with the field and the reason.
    """

    text = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="The pasted text."
    )
    original = serializers.FileField(
        required=False, help_text="The file (multipart/form-data): PDF, HTML page or text."
    )

    def create(self, validated_data: dict[str, Any]) -> Source:
        data = dict(validated_data)
        upload = data.pop("original", None)
        if "link" in data:
            data["url"] = data.pop("link")
        if upload is not None:
            data["upload"] = upload_read(upload)
            data["upload_name"] = upload.name or ""
        try:
            return source_create(user=self.request_user(), copy_required=True, **data)
        except DjangoValidationError as exc:
            # The model's ``url`` is the API's ``link``.
            errors = {("link" if k == "url" else k): v for k, v in exc.message_dict.items()}
            raise to_drf_validation_error(DjangoValidationError(errors)) from exc

    def request_user(self) -> Any:
        request = self.context.get("request")
        return request.user if request is not None else None

    def to_representation(self, instance: Source) -> dict[str, Any]:
        return SourceDetailSerializer(instance, context=self.context).data


class CitationSerializer(ApiModelSerializer):
    """A short quote from a source, in the original language, with an optional translation."""

    source_title = serializers.CharField(source="source.title", read_only=True)
    source_publisher = serializers.CharField(source="source.publisher", read_only=True)

    class Meta:
        model = Citation
        fields = [
            "id",
            "source",
            "source_title",
            "source_publisher",
            "quote",
            "translation",
            "translation_language",
            "locator",
            "start",
            "end",
        ]
        read_only_fields = fields


class ProgressUpdateSerializer(ApiModelSerializer):
    """A dated progress record: a note, a measurement and possibly a status change."""

    url = DetailUrlField(view_name="api:progressupdate-detail")
    evidence = CitationSerializer(read_only=True, allow_null=True)
    author: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    # Recurrence (issue 12, item 3).
    occurrence = serializers.IntegerField(
        source="occurrence.sequence",
        read_only=True,
        allow_null=True,
        help_text="For a recurring commitment: the number of the occurrence it is about.",
    )

    class Meta:
        model = ProgressUpdate
        fields = [
            "id",
            "url",
            "commitment",
            "occurrence",
            "occurred_on",
            "status_from",
            "status_to",
            "note",
            "measured_value",
            "evidence",
            "author",
            "created",
        ]
        read_only_fields = fields


# Deadline revisions (issue 12).


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A read-only choice stored as text, empty when there is none: shown as ``null`` then."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return None if value in ("", None) else super().to_representation(value)


class RevisionSerializer(ApiModelSerializer):
    """One revision of a commitment's deadline: what it did, when, why, and its evidence."""

    new_precision = BlankAsNullChoiceField(
        choices=PrecisionChoice.choices,
        help_text="How precisely the new date is known; null when the revision gives none.",
    )
    evidence = CitationSerializer(read_only=True)
    author: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = DeadlineRevision
        fields = [
            "kind",
            "revised_on",
            "old_due_date",
            "new_due_date",
            "new_precision",
            "reason",
            "evidence",
            "author",
        ]
        read_only_fields = fields


def _rule_field_kwargs(field: deadlines.RuleField) -> dict[str, Any]:
    """Return the serializer field options of one part of the rule, from the rule's spec."""
    kwargs: dict[str, Any] = {"required": field is deadlines.KIND_FIELD}
    if field.key != field.name:
        kwargs["source"] = field.name
    if field.key != field.name or field.help_text:
        # The model's label names the stored column; the API's key and text name this part.
        kwargs["label"] = None
    if field.minimum is not None:
        kwargs["min_value"] = field.minimum
    if field.maximum is not None:
        kwargs["max_value"] = field.maximum
    if field.help_text:
        kwargs["help_text"] = field.help_text
    return kwargs


#: The rule's parts in the order the API shows them: the kind, its parameters, the phrase.
API_RULE_FIELDS = (deadlines.KIND_FIELD, *deadlines.PARAMETER_FIELDS, deadlines.PHRASE_FIELD)


class DeadlineRuleSerializer(StrictMixin, ApiModelSerializer):
    """The deadline rule: a kind, the parameters that kind needs, and the phrase it came from.

    A ``fixed`` rule takes a date; a ``relative`` one an offset (an amount and a unit) after
    an anchor (the agreement, or a commitment's fulfilment); a ``period_end`` one a period (a
    unit, a month 1-12 or quarter 1-4, and optionally a year); ``none`` takes nothing.
    Writing the rule replaces all of it: parameters left out are cleared.
    """

    description = serializers.SerializerMethodField(
        help_text="The rule in words, with its anchor and due date, in the request's language."
    )

    class Meta:
        model = Commitment
        fields = [*(field.key for field in API_RULE_FIELDS), "description"]
        extra_kwargs = {field.key: _rule_field_kwargs(field) for field in API_RULE_FIELDS}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Require the kind even in a PATCH: the rule is always replaced as a whole."""
        if deadlines.KIND_FIELD.name not in attrs:
            raise serializers.ValidationError(
                {
                    deadlines.KIND_FIELD.key: [
                        "This field is required: a rule is replaced as a whole."
                    ]
                }
            )
        return attrs

    def get_description(self, commitment: Commitment) -> str:
        return commitment_rule_in_words(commitment)


# Recurrence and occurrences (issue 12, item 3) ------------------------------------------

#: The recurrence's API keys and the commitment fields they stand for.
RECURRENCE_KEYS = {
    "kind": "recurrence",
    "interval": "recurrence_interval",
    "unit": "recurrence_unit",
    "until": "recurrence_until",
    "count": "recurrence_count",
}
#: What a recurrence's parameters are when left out: it is replaced as a whole.
RECURRENCE_EMPTY_VALUES: dict[str, Any] = {
    "recurrence_interval": None,
    "recurrence_unit": "",
    "recurrence_until": None,
    "recurrence_count": None,
}
#: How many occurrences a commitment's representation holds: the first ones, by number.
OCCURRENCES_SHOWN = 24


class RecurrenceSerializer(StrictMixin, ApiModelSerializer):
    """How a commitment recurs after its first due date (the rule's), or null if it does not.

    ``every`` ``interval`` ``unit``s (days, weeks, months, years, counted from the first date:
    31 Jan, 28 Feb, 31 Mar), or the end of every ``interval``-th month, quarter or year
    (``month_end``, ``quarter_end``, ``year_end``; interval 1 if left out); until a date
    (inclusive) and/or for a count (whichever comes first; at most 500 occurrences), or
    open-ended (written two years ahead, topped up as time passes). A target is per
    occurrence: "$8 billion a year" is 8e9 each year. Writing it replaces all of it; null
    stops the recurrence.
    """

    class Meta:
        model = Commitment
        fields = list(RECURRENCE_KEYS)
        extra_kwargs = {
            key: {"source": name, "label": None, "required": key == "kind"}
            for key, name in RECURRENCE_KEYS.items()
        }

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        """Take null as "does not recur"."""
        if data is None:
            return True, {"recurrence": RecurrenceKind.NONE, **RECURRENCE_EMPTY_VALUES}
        return super().validate_empty_values(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Clear the parameters left out: the recurrence is replaced as a whole."""
        return {**RECURRENCE_EMPTY_VALUES, **attrs}

    def to_representation(self, instance: Commitment) -> dict[str, Any]:
        # Null for a commitment that does not recur (the field is declared allow_null).
        if instance.recurrence == RecurrenceKind.NONE:
            return None  # type: ignore[return-value]
        return super().to_representation(instance)


class OccurrenceSerializer(ApiModelSerializer):
    """One occurrence of a recurring commitment: its due date, target, status and state."""

    class Meta:
        model = Occurrence
        fields = [
            "sequence",
            "due_date",
            "due_at",
            "target_amount",
            "status",
            "status_changed_at",
            "fulfilled_on",
            "deadline_state",
            "flagged_at",
        ]
        read_only_fields = fields


# End of recurrence and occurrences -----------------------------------------------------


# --- Implementation stages and the deadline's explanation (issue 12, h3) ---------------------


class InstrumentSerializer(StrictMixin, ApiModelSerializer):
    """The legal instrument that carries the measure: an executive order, a notice."""

    class Meta:
        model = Commitment
        fields = ["title", "url"]
        extra_kwargs = {
            "title": {"source": "instrument_title", "required": False},
            "url": {"source": "instrument_url", "required": False},
        }


class StagesSerializer(StrictMixin, ApiModelSerializer):
    """The implementation stages beside the deadline: announced, signed, in force, ended.

    ``effective_from`` is shown here and written at the top level (``effective_from``), as
    before; its precision is written here: a month, quarter or year is stored as the period's
    first day ("retroactive to August" is 1 August, month precision). ``retroactive`` says
    whether it takes effect before the signature (or, unsigned, the announcement).
    """

    instrument = InstrumentSerializer(source="*", required=False)
    retroactive = serializers.SerializerMethodField(
        help_text="Whether effective_from comes before the signature (or the announcement)."
    )

    class Meta:
        model = Commitment
        fields = [
            "announced_on",
            "signed_on",
            "instrument",
            "effective_from",
            "effective_from_precision",
            "retroactive",
            "in_force_on",
            "ended_on",
            "ended_reason",
            "replaced_by",
        ]
        read_only_fields = ["effective_from"]
        extra_kwargs = {
            name: {"required": False}
            for name in fields
            if name not in {"instrument", "retroactive", "effective_from"}
        }

    def get_retroactive(self, commitment: Commitment) -> bool:
        return is_retroactive(
            effective_from=commitment.effective_from,
            signed_on=commitment.signed_on,
            announced_on=commitment.announced_on,
        )


#: Where errors on the stage columns appear: under ``stages``, the instrument's under
#: ``stages.instrument``.
STAGE_ERROR_NESTING: dict[str, tuple[str, ...]] = {
    **{
        name: ("stages", name)
        for name in StagesSerializer.Meta.fields
        if name not in {"instrument", "retroactive", "effective_from"}
    },
    "instrument_title": ("stages", "instrument", "title"),
    "instrument_url": ("stages", "instrument", "url"),
}

# --- end of issue 12, h3 ---------------------------------------------------------------------


# --- Ratings and progress against pace (issue 13) -------------------------------------------


class AssessmentSerializer(ApiModelSerializer):
    """A rating in a commitment's rating history: current or replaced by a later one."""

    rating_label = serializers.SerializerMethodField(
        help_text="The rating in the request's language."
    )
    score = serializers.SerializerMethodField(
        help_text="+1, 0 or -1; null for a rating left out of averages (not rated, not "
        "verifiable, cancelled)."
    )
    evidence = CitationSerializer(read_only=True, allow_null=True)
    author: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Assessment
        fields = [
            "id",
            "party",
            "commitment",
            "rating",
            "rating_label",
            "score",
            "justification",
            "justification_fr",
            "machine_translations",
            "evidence",
            "assessed_on",
            "reviewed_on",
            "review_due",
            "author",
            "current",
            "created",
        ]
        read_only_fields = fields

    def get_rating_label(self, assessment: Assessment) -> str:
        return rating_label(assessment.rating)

    def get_score(self, assessment: Assessment) -> int | None:
        return assessment_score(assessment.rating)


class ObligorAssessmentSerializer(AssessmentSerializer):
    """One obligor's current rating as a commitment shows it; see :func:`not_rated`."""

    id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Null for an obligor not yet rated."
    )
    rating = serializers.ChoiceField(choices=RATING_SHOWN_CHOICES, read_only=True)
    assessed_on = serializers.DateField(read_only=True, allow_null=True)
    reviewed_on = serializers.DateField(read_only=True, allow_null=True)

    class Meta(AssessmentSerializer.Meta):
        fields = [
            name
            for name in AssessmentSerializer.Meta.fields
            if name not in {"commitment", "current", "created"}
        ]
        read_only_fields = fields


def not_rated(party_id: int) -> dict[str, Any]:
    """Return the entry of an obligor nobody has rated yet, shaped as a current rating."""
    return {
        "id": None,
        "party": party_id,
        "rating": Rating.NOT_RATED.value,
        "rating_label": rating_label(None),
        "score": None,
        "justification": "",
        "justification_fr": "",
        "machine_translations": {},
        "evidence": None,
        "assessed_on": None,
        "reviewed_on": None,
        "review_due": False,
        "author": None,
    }


class ProgressSerializer(serializers.Serializer):
    """Measured progress against the straight line from the start to the due date.

    Describes :func:`progress_representation` for the schema.
    """

    measured = serializers.DecimalField(max_digits=20, decimal_places=4)
    measured_on = serializers.DateField()
    target = serializers.DecimalField(max_digits=20, decimal_places=4)
    unit = serializers.CharField()
    share_of_target = serializers.DecimalField(
        max_digits=40, decimal_places=4, help_text="The measurement as a share of the target."
    )
    pace_share = serializers.DecimalField(
        max_digits=40,
        decimal_places=4,
        allow_null=True,
        help_text="The share a straight line from the effective date (or the agreement's) to "
        "the due date reaches today; null without a due date.",
    )
    pace = serializers.ChoiceField(choices=PaceChoice.choices, allow_null=True)


_progress_fields = ProgressSerializer().fields


def progress_representation(
    *,
    measured: Any,
    measured_on: Any,
    target: Any,
    unit: str,
    effective_from: Any,
    agreement_date: Any,
    due: Any,
    time_zone: str,
    now: Any,
) -> dict[str, Any] | None:
    """Return a commitment's ``progress`` today in its agreement's time zone, or ``None``.

    The serializer and the list reader both call it, with values from an instance or a row.
    """
    result = pace.progress_now(
        measured=measured,
        target=target,
        effective_from=effective_from,
        agreement_date=agreement_date,
        due=due,
        time_zone=time_zone,
        now=now,
    )
    if result is None:
        return None
    return {
        "measured": _progress_fields["measured"].to_representation(result.measured),
        "measured_on": None if measured_on is None else measured_on.isoformat(),
        "target": _progress_fields["target"].to_representation(result.target),
        "unit": unit,
        "share_of_target": _progress_fields["share_of_target"].to_representation(result.share),
        "pace_share": None
        if result.pace_share is None
        else _progress_fields["pace_share"].to_representation(result.pace_share),
        "pace": None if result.pace is None else result.pace.value,
    }


# --- end of issue 13 ------------------------------------------------------------------------


class CommitmentSerializer(StrictMixin, ApiModelSerializer):
    """A commitment with its computed deadline, status, citations and progress updates.

    The list endpoint builds the same representation from plain rows
    (``commitments.api.readers``); ``tests/api/test_representation.py`` holds the two equal,
    so a field added here must be added there too.
    """

    url = DetailUrlField(view_name="api:commitment-detail")
    deadline_rule = DeadlineRuleSerializer(source="*")
    beneficiaries = PartyIdsField(
        required=False,
        help_text=f"Ids of the parties the commitment benefits (at most {PartyIdsField.MAX_IDS}).",
    )
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
        help_text="Username of the person who follows the commitment.",
    )
    target_amount = serializers.DecimalField(
        max_digits=20,
        decimal_places=4,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="The measurable target, in target_unit.",
    )
    citations = CitationSerializer(many=True, read_only=True)
    progress_updates = ProgressUpdateSerializer(many=True, read_only=True)
    # Deadline revisions and timeliness (issue 12).
    revisions = RevisionSerializer(
        many=True, read_only=True, help_text="The deadline's revisions, oldest first."
    )
    due_precision = BlankAsNullChoiceField(
        choices=PrecisionChoice.choices,
        help_text="How precisely the due date is known (month: due at the month's end); "
        "null without a due date.",
    )
    fulfilment_timing = BlankAsNullChoiceField(
        choices=FulfilmentTiming.choices,
        help_text="For a fulfilled commitment: on time, on time only after an extension, or "
        "late; null otherwise.",
    )
    # Recurrence (issue 12, item 3).
    recurrence = RecurrenceSerializer(source="*", required=False, allow_null=True)
    occurrences = serializers.SerializerMethodField(
        help_text=f"The first {OCCURRENCES_SHOWN} occurrences of a recurring commitment, by "
        "number (empty if it does not recur); all of them, paginated, at "
        "/api/v1/commitments/{id}/occurrences/."
    )
    # Issue 12, h3: implementation stages and the deadline's explanation.
    stages = StagesSerializer(source="*", required=False)
    deadline_explanation = serializers.SerializerMethodField(
        help_text="How the due date was reached, in the request's language: the rule, its "
        "dates, the revisions and the instant the deadline ends."
    )
    # Ratings and progress against pace (issue 13).
    obligors = serializers.SerializerMethodField(
        help_text="Ids of every party the commitment binds: the obligor, then the others by name."
    )
    assessments = serializers.SerializerMethodField(
        help_text="Each obligor's current rating, in the order of obligors; an obligor not "
        "yet rated appears as not_rated. The history is at "
        "/api/v1/commitments/{id}/assessments/."
    )
    progress = serializers.SerializerMethodField(
        help_text="The latest measurement against the target and against the pace a straight "
        "line to the due date requires today; null without a target or a measurement."
    )

    class Meta:
        model = Commitment
        fields = [
            "id",
            "url",
            "key",
            "agreement",
            "title",
            "description",
            "title_fr",
            "description_fr",
            "machine_translations",
            "category",
            "obligor",
            "beneficiaries",
            "target_amount",
            "target_unit",
            "effective_from",
            "deadline_rule",
            "due_date",
            "due_at",
            "status",
            "status_changed_at",
            "fulfilled_on",
            "deadline_state",
            "flagged_at",
            "owner",
            "citations",
            "progress_updates",
            # Deadline revisions and timeliness (issue 12).
            "original_due_date",
            "due_precision",
            "revisions",
            "fulfilment_timing",
            "recurrence",
            "occurrences",
            "created",
            "updated",
            # Issue 12, h3.
            "stages",
            "deadline_explanation",
            # Issue 13.
            "obligors",
            "assessments",
            "progress",
        ]
        read_only_fields = [
            # Deadline revisions and timeliness (issue 12).
            "original_due_date",
            "due_precision",
            "fulfilment_timing",
            "due_date",
            "due_at",
            "status",
            "status_changed_at",
            "fulfilled_on",
            "deadline_state",
            "flagged_at",
            "created",
            "updated",
        ]

    @extend_schema_field(OccurrenceSerializer(many=True))
    def get_occurrences(self, commitment: Commitment) -> list[dict[str, Any]]:
        rows = commitment.occurrences.filter(sequence__lte=OCCURRENCES_SHOWN).order_by("sequence")
        return cast(list[dict[str, Any]], OccurrenceSerializer(rows, many=True).data)

    def get_deadline_explanation(self, commitment: Commitment) -> str:
        return deadline_explanation(commitment)

    @extend_schema_field({"type": "array", "items": {"type": "integer"}})
    def get_obligors(self, commitment: Commitment) -> list[int]:
        return [party.pk for party in commitment.obligor_list]

    @extend_schema_field(ObligorAssessmentSerializer(many=True))
    def get_assessments(self, commitment: Commitment) -> list[dict[str, Any]]:
        current = {a.party_id: a for a in current_assessments(commitment)}
        return [
            dict(ObligorAssessmentSerializer(current[party.pk], context=self.context).data)
            if party.pk in current
            else not_rated(party.pk)
            for party in commitment.obligor_list
        ]

    @extend_schema_field(ProgressSerializer(allow_null=True))
    def get_progress(self, commitment: Commitment) -> dict[str, Any] | None:
        return progress_representation(
            measured=commitment.progress_measured,
            measured_on=commitment.progress_measured_on,
            target=commitment.target_amount,
            unit=commitment.target_unit,
            effective_from=commitment.effective_from,
            agreement_date=commitment.agreement.date,
            due=commitment.due_date,
            time_zone=commitment.agreement.time_zone,
            now=timezone.now(),
        )

    def create(self, validated_data: dict[str, Any]) -> Commitment:
        beneficiaries = validated_data.pop("beneficiaries", [])
        return call_service(
            commitment_services.commitment_create,
            user=self.request_user(),
            beneficiaries=beneficiaries,
            **{**deadlines.RULE_EMPTY_VALUES, **validated_data},
        )

    def update(self, instance: Commitment, validated_data: dict[str, Any]) -> Commitment:
        beneficiaries = validated_data.pop("beneficiaries", None)
        if deadlines.RULE_EMPTY_VALUES.keys() & validated_data.keys():
            validated_data = {**deadlines.RULE_EMPTY_VALUES, **validated_data}
        return call_service(
            commitment_services.commitment_update,
            commitment=instance,
            user=self.request_user(),
            beneficiaries=beneficiaries,
            **validated_data,
        )


class AgreementSerializer(StrictMixin, ApiModelSerializer):
    """An agreement: its parties, date, place, time zone and citations."""

    url = DetailUrlField(view_name="api:agreement-detail")
    parties = PartyIdsField(
        required=False,
        help_text=f"Ids of the parties to the agreement (at most {PartyIdsField.MAX_IDS}).",
    )
    citations = CitationSerializer(many=True, read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "url",
            "key",
            "title",
            "kind",
            "parties",
            "date",
            "place",
            "time_zone",
            "summary",
            "title_fr",
            "summary_fr",
            "machine_translations",
            "citations",
            "publication_state",
            "published_at",
            "created",
            "updated",
        ]
        read_only_fields = ["publication_state", "published_at", "created", "updated"]

    def create(self, validated_data: dict[str, Any]) -> Agreement:
        parties = validated_data.pop("parties", [])
        return call_service(
            commitment_services.agreement_create,
            user=self.request_user(),
            parties=parties,
            **validated_data,
        )

    def update(self, instance: Agreement, validated_data: dict[str, Any]) -> Agreement:
        parties = validated_data.pop("parties", None)
        return call_service(
            commitment_services.agreement_update,
            agreement=instance,
            user=self.request_user(),
            parties=parties,
            **validated_data,
        )


class PublicationChangeSerializer(StrictMixin, serializers.Serializer):
    """A step of an agreement's publication: submit, publish, unpublish or return, and why."""

    action = serializers.ChoiceField(
        choices=PublicationAction.choices,
        help_text="submit (draft to review), publish, unpublish (needs a note) or return "
        "(review to draft).",
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Why; required to unpublish. Kept with the step, and who took it, when.",
    )

    def create(self, validated_data: dict[str, Any]) -> Agreement:
        agreement: Agreement = self.context["agreement"]
        call_service(
            publication_change,
            agreement=agreement,
            user=self.context["request"].user,
            **validated_data,
        )
        return agreement


class NewSourceSerializer(SourceFieldsSerializer):
    """A source added with the evidence it gives, in the same transaction (text pasted)."""

    text = serializers.CharField(trim_whitespace=False, help_text="The source's text, pasted.")


#: A new evidence source's API keys and the form fields (``new_source_*``) they fill.
NEW_SOURCE_KEYS = {
    key: f"new_source_{'url' if key == 'link' else key}"
    for key in NewSourceSerializer._declared_fields
}


class EvidenceSerializer(StrictMixin, serializers.Serializer):
    """A quote from a source that proves a status change; it becomes a citation.

    The source is an existing one (``source``) or one added with the change (``new_source``,
    its text pasted): the source, the citation and the change are written together or not at
    all.
    """

    source = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=Source.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of the source quoted; or give new_source.",
    )
    new_source = NewSourceSerializer(
        required=False, help_text="A source to add with this change, the quote taken from it."
    )
    quote = serializers.CharField(help_text="The passage, in the source's language.")
    translation = serializers.CharField(required=False, allow_blank=True, default="")
    locator = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="Section, paragraph or page.",
    )


#: The status change's fields that hold free text; the others take text or a number.
_TEXT_FIELDS = (
    "note",
    "reason",
    "justification",
    "evidence_quote",
    "evidence_translation",
    "evidence_locator",
    "new_source_text",
    "new_source_title",
    "new_source_publisher",
)


def _form_data(values: Mapping[str, Any]) -> dict[str, str]:
    """Return the JSON values as the form's text, refusing a value of the wrong JSON type.

    A form field reads text (a list, an object or ``true`` would break it or be saved as its
    Python spelling); a number is written as text for the choice, date, amount and id fields,
    which then judge it as they judge any text.
    """
    data: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, str):
            data[name] = value
        elif name in _TEXT_FIELDS or isinstance(value, bool | list | dict):
            errors[name] = [_("Not a valid value: expected text.")]
        else:
            data[name] = str(value)
    if errors:
        raise to_drf_validation_error(DjangoValidationError(errors))
    return data


class EvidenceFormSerializer(StrictMixin, serializers.Serializer):
    """A change with evidence whose body fills one of the domain's evidence forms.

    The fields describe the body (for the schema) and refuse unknown keys; the form named by
    :meth:`make_form` parses the values, ``evidence.x`` becoming ``evidence_x``, and its
    ``save`` calls the service. ``top_level`` names the body's keys besides ``evidence``;
    ``kind_of_body`` names the body in the error on one that is not an object.
    """

    top_level: tuple[str, ...] = ()
    kind_of_body = ""
    form: Any

    def make_form(self, data: dict[str, str]) -> Any:
        raise NotImplementedError

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Fill the form from the body; raise its errors, nested as the body has them."""
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": [f"Expected an object of {self.kind_of_body} fields."]}
            )
        refuse_unknown_keys(self, data)
        evidence = data.get("evidence") or {}
        if not isinstance(evidence, Mapping):
            expected = "Expected an object with a source and a quote."
            raise serializers.ValidationError({"evidence": {"non_field_errors": [expected]}})
        evidence_serializer = cast(EvidenceSerializer, self.fields["evidence"])
        refuse_unknown_keys(evidence_serializer, evidence, within="evidence")
        values = {name: data.get(name) for name in self.top_level}
        for name in evidence_serializer.fields:
            if name != "new_source":
                values[f"evidence_{name}"] = evidence.get(name)
        new_source = evidence.get("new_source")
        if new_source is not None:
            if not isinstance(new_source, Mapping):
                raise serializers.ValidationError(
                    {"evidence": {"new_source": {"non_field_errors": ["Expected an object."]}}}
                )
            try:
                refuse_unknown_keys(
                    cast(NewSourceSerializer, evidence_serializer.fields["new_source"]), new_source
                )
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"evidence": {"new_source": exc.detail}}) from exc
            for key, form_name in NEW_SOURCE_KEYS.items():
                values[form_name] = new_source.get(key)
        self.form = self.make_form(_form_data(values))
        if not self.form.is_valid():
            raise to_drf_validation_error(DjangoValidationError(self.form.errors.as_data()))
        return cast(dict[str, Any], self.form.cleaned_data)

    def save(self, **kwargs: Any) -> Any:
        """Record the change through the form's service call; nothing is written if refused."""
        written = self.form.save(user=self.context["request"].user)
        if written is None:
            raise to_drf_validation_error(DjangoValidationError(self.form.errors.as_data()))
        return written


class StatusChangeSerializer(EvidenceFormSerializer):
    """A status change or progress note; fulfilled, partially fulfilled and missed need evidence.

    The fields describe the body for the schema and refuse unknown keys; the values are
    parsed by the domain's :class:`~commitments.forms.StatusChangeForm` (the admin's and the
    dashboard's form), so every interface answers the same input with the same field errors.
    """

    status = serializers.ChoiceField(choices=Status.choices)
    occurred_on = serializers.DateField(
        required=False, help_text="When it happened; today if left out."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    measured_value = serializers.DecimalField(
        max_digits=20,
        decimal_places=4,
        required=False,
        allow_null=True,
        default=None,
        help_text="Progress toward the target, in the target's unit.",
    )
    evidence = EvidenceSerializer(required=False, allow_null=True, default=None)

    top_level = ("status", "occurred_on", "note", "measured_value")
    kind_of_body = "status change"

    def make_form(self, data: dict[str, str]) -> StatusChangeForm:
        return StatusChangeForm(
            data=data,
            commitment=self.context["commitment"],
            occurrence=self.context.get("occurrence"),
            iso_dates=True,
            offers_new_source=True,
        )


# Deadline revisions (issue 12).


class RevisionCreateSerializer(EvidenceFormSerializer):
    """A revision of the deadline, with its reason and evidence (a source and a quote).

    As :class:`StatusChangeSerializer` does, the fields describe the body and refuse unknown
    keys; the domain's :class:`~commitments.forms.RevisionForm` parses the values.
    """

    kind = serializers.ChoiceField(choices=RevisionKind.choices)
    new_due_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Needed to extend (later), bring forward (earlier) or renegotiate (other); "
        "none to suspend; optional to resume.",
    )
    new_precision = serializers.ChoiceField(
        choices=PrecisionChoice.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Month, quarter or year: the new date moves to the end of that period.",
    )
    revised_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When it was revised; today in the agreement's time zone if left out.",
    )
    reason = serializers.CharField(help_text="Why the deadline was revised.")
    evidence = EvidenceSerializer(
        help_text="A source and a quote, which become a citation of the commitment."
    )

    top_level = ("kind", "new_due_date", "new_precision", "revised_on", "reason")
    kind_of_body = "revision"

    def make_form(self, data: dict[str, str]) -> RevisionForm:
        return RevisionForm(
            data=data,
            commitment=self.context["commitment"],
            iso_dates=True,
            offers_new_source=True,
        )


# Ratings (issue 13).


class AssessmentCreateSerializer(EvidenceFormSerializer):
    """A rating of one obligor's compliance, with its justification and evidence.

    As :class:`StatusChangeSerializer` does, the fields describe the body and refuse unknown
    keys; the domain's :class:`~commitments.forms.AssessmentForm` parses the values.
    """

    party = serializers.IntegerField(help_text="Id of the obligor rated (one of obligors).")
    rating = serializers.ChoiceField(choices=RatingChoice.choices)
    assessed_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The date from which the rating holds; today in the agreement's time zone "
        "if left out. Not in the future, not before the obligor's current rating.",
    )
    justification = serializers.CharField(help_text="Why this rating.")
    justification_fr = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Why, in French (a human's)."
    )
    evidence = EvidenceSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="A source and a quote, which become a citation; required for kept, "
        "compromise and broken.",
    )

    top_level = ("party", "rating", "assessed_on", "justification", "justification_fr")
    kind_of_body = "rating"

    def make_form(self, data: dict[str, str]) -> AssessmentForm:
        return AssessmentForm(
            data=data,
            commitment=self.context["commitment"],
            iso_dates=True,
            offers_new_source=True,
        )


class AssessmentReviewSerializer(StrictMixin, serializers.Serializer):
    """Confirm that a current rating still holds; parsed by ``AssessmentReviewForm``."""

    reviewed_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When it was reviewed; today in the agreement's time zone if left out.",
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected an object of review fields."]}
            )
        refuse_unknown_keys(self, data)
        self.form = AssessmentReviewForm(
            data=_form_data({"reviewed_on": data.get("reviewed_on")}),
            assessment=self.context["assessment"],
            iso_dates=True,
        )
        if not self.form.is_valid():
            raise to_drf_validation_error(DjangoValidationError(self.form.errors.as_data()))
        return cast(dict[str, Any], self.form.cleaned_data)

    def save(self, **kwargs: Any) -> Any:
        written = self.form.save(user=self.context["request"].user)
        if written is None:
            raise to_drf_validation_error(DjangoValidationError(self.form.errors.as_data()))
        return written


#: Where errors on a stored field or a status change's field appear in the representation:
#: the rule's parts under ``deadline_rule``, the evidence's under ``evidence``.
ERROR_NESTING: dict[str, tuple[str, ...]] = {
    **{field.name: ("deadline_rule", field.key) for field in deadlines.RULE_FIELDS},
    **{name: ("recurrence", key) for key, name in RECURRENCE_KEYS.items()},
    **{f"evidence_{name}": ("evidence", name) for name in EvidenceSerializer._declared_fields},
    **{name: ("evidence", "new_source", key) for key, name in NEW_SOURCE_KEYS.items()},
    "new_source_original": ("evidence", "new_source", "text"),
    **STAGE_ERROR_NESTING,
}


def errors_register() -> None:
    """Nest the rule's and the evidence's errors as shown; answer a rule error with a 400."""
    nested_fields_register(ERROR_NESTING)
    input_error_register(RuleError, service_error)
