"""Representations of the API v1 resources; writes go through the domain services.

Every writable serializer refuses keys it does not accept (unknown or read-only fields) with a
400 naming them, so a client cannot set computed fields such as ``status`` or ``due_date``.
Creates and updates call the services, which run ``full_clean``; their Django
``ValidationError`` becomes a 400 with the same field names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import fields as drf_fields
from rest_framework import relations as drf_relations
from rest_framework import serializers
from rest_framework.reverse import reverse as drf_reverse

from alerts.models import OVERDUE_LEAD, Alert, Subscription
from commitments import deadlines
from commitments.choices import DeadlineKind, Status
from commitments.deadlines import RuleError
from commitments.models import Agreement, Citation, Commitment, Party, ProgressUpdate, Source
from commitments.services import commitments as commitment_services

from .exceptions import to_drf_validation_error

T = TypeVar("T")

#: The stored commitment fields that make up the deadline rule, with their empty values.
RULE_FIELDS: dict[str, Any] = {
    "deadline_kind": DeadlineKind.NONE,
    "deadline_date": None,
    "offset_amount": None,
    "offset_unit": "",
    "anchor_kind": "",
    "anchor_commitment": None,
    "period_unit": "",
    "period_number": None,
    "period_year": None,
    "deadline_phrase": "",
}


#: Stands for the primary key in a detail route reversed once for many objects.
PK_PLACEHOLDER = "__pk__"


def detail_url_builder(
    view_name: str, *, request: Any, format: str | None = None
) -> Callable[[Any], str]:
    """Return a function that gives the absolute API URL of the object with a given pk.

    Detail URLs differ only by the primary key, and reversing one for every row of a
    500-row page was the largest cost of the list: the route is reversed once with a
    placeholder (through DRF's ``reverse``, so versioning and ``?format=`` are kept) and the
    key is put in its place for each object.
    """
    template = str(
        drf_reverse(view_name, kwargs={"pk": PK_PLACEHOLDER}, request=request, format=format)
    )
    head, _, tail = template.partition(PK_PLACEHOLDER)
    return lambda pk: f"{head}{pk}{tail}"


class DetailUrlField(serializers.HyperlinkedIdentityField):
    """The object's absolute API URL: the route is resolved once per request, not per row."""

    def get_url(self, obj: Any, view_name: str, request: Any, format: str | None) -> str | None:
        if obj.pk is None:
            return None
        cached = getattr(self, "_builder", None)
        if cached is None or cached[0] is not request or cached[1] != format:
            builder = detail_url_builder(view_name, request=request, format=format)
            cached = self._builder = (request, format, builder)
        return cached[2](obj.pk)


def instant_text(value: dt.datetime) -> str:
    """Return an aware instant in ISO 8601, in UTC with a ``Z``, as DRF writes it."""
    text = value.astimezone(dt.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class UTCDateTimeField(serializers.DateTimeField):
    """An instant in ISO 8601, in UTC with a ``Z``, as DRF writes it, without its per-value work."""

    def to_representation(self, value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return instant_text(value)
        return super().to_representation(value)


def _walk(instance: Any, attrs: Sequence[str]) -> Any:
    for attr in attrs:
        if instance is None:
            return None
        instance = getattr(instance, attr)
    return instance


def _reader(field: serializers.Field, model: type[models.Model]) -> Callable[[Any], Any]:
    """Return a function that reads and represents ``field`` of an instance, as DRF would.

    DRF's generic loop looks each attribute up through several layers per field and row;
    this resolves the lookup once per field. Related ids are read from the foreign key
    column, as DRF's primary-key optimisation does.
    """
    attrs = field.source_attrs
    if field.source == "*":
        return field.to_representation
    if isinstance(field, serializers.ListSerializer):
        child = cast(serializers.BaseSerializer, field.child)
        return lambda obj: [child.to_representation(item) for item in _walk(obj, attrs).all()]
    if isinstance(field, serializers.ManyRelatedField) and isinstance(
        field.child_relation, serializers.PrimaryKeyRelatedField
    ):
        return lambda obj: [item.pk for item in _walk(obj, attrs).all()]
    if isinstance(field, serializers.PrimaryKeyRelatedField) and len(attrs) == 1:
        model_field = model._meta.get_field(attrs[0])
        if isinstance(model_field, models.ForeignKey):
            attname = model_field.attname
            return lambda obj: getattr(obj, attname)
    represent = field.to_representation
    if type(field).get_attribute not in _PLAIN_LOOKUPS:
        # The field finds its value its own way (e.g. a subscription's lead days).
        def read_own_way(obj: Any) -> Any:
            value = field.get_attribute(obj)
            return None if value is None else represent(value)

        return read_own_way

    def read(obj: Any) -> Any:
        value = _walk(obj, attrs)
        return None if value is None else represent(value)

    return read


#: The attribute lookups that :func:`_walk` reproduces.
_PLAIN_LOOKUPS = (drf_fields.Field.get_attribute, drf_relations.RelatedField.get_attribute)


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


class ApiModelSerializer(serializers.ModelSerializer):
    """The model serializer of the API: instants in UTC, detail URLs resolved once a page.

    Reading is planned once per serializer (field by field, see :func:`_reader`) and then
    applied to every row; ``tests/api/test_representation.py`` holds it equal to DRF's own.
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UTCDateTimeField,
    }
    serializer_url_field = DetailUrlField

    def to_representation(self, instance: Any) -> dict[str, Any]:
        plan = self.__dict__.get("_read_plan")
        if plan is None:
            plan = self._read_plan = [
                (name, _reader(field, self.Meta.model))
                for name, field in self.fields.items()
                if not field.write_only
            ]
        return {name: read(instance) for name, read in plan}


def call_service(function: Callable[..., T], /, **kwargs: Any) -> T:
    """Call a domain service, turning its validation errors into DRF's 400 errors."""
    try:
        return function(**kwargs)
    except (DjangoValidationError, RuleError) as exc:
        raise to_drf_validation_error(exc) from exc


class StrictMixin(serializers.Serializer):
    """Refuse input keys that are not writable fields of the serializer, naming each one."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            refused = {
                str(key): ["This field is read-only." if key in self.fields else "Unknown field."]
                for key in data
                if key not in writable
            }
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)


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
            "kind",
            "country_code",
            "created",
            "updated",
        ]


class SourceSerializer(ApiModelSerializer):
    """A document agreements and commitments are drawn from."""

    url = DetailUrlField(view_name="api:source-detail")
    link = serializers.URLField(source="url", read_only=True, help_text="The document's URL.")

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
            "created",
            "updated",
        ]


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
        ]
        read_only_fields = fields


class ProgressUpdateSerializer(ApiModelSerializer):
    """A dated progress record: a note, a measurement and possibly a status change."""

    url = DetailUrlField(view_name="api:progressupdate-detail")
    evidence = CitationSerializer(read_only=True, allow_null=True)
    author: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ProgressUpdate
        fields = [
            "id",
            "url",
            "commitment",
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


class DeadlineRuleSerializer(StrictMixin, ApiModelSerializer):
    """The deadline rule: a kind, the parameters that kind needs, and the phrase it came from.

    ``fixed`` uses ``date``; ``relative`` uses ``offset_amount``, ``offset_unit``,
    ``anchor_kind`` and, for a commitment anchor, ``anchor_commitment``; ``period_end`` uses
    ``period_unit``, ``period_number`` (month 1-12 or quarter 1-4) and optionally
    ``period_year``; ``none`` uses nothing. Writing the rule replaces all of it: parameters
    left out are cleared.
    """

    kind = serializers.ChoiceField(source="deadline_kind", choices=DeadlineKind.choices)
    date = serializers.DateField(
        source="deadline_date", required=False, allow_null=True, help_text="Fixed due date."
    )
    offset_amount = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2_147_483_647,
        help_text="How many units after the anchor.",
    )
    period_number = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=12,
        help_text="Month 1-12 or quarter 1-4; empty for a year.",
    )
    period_year = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=9999,
        help_text="Empty: the first such period on or after the anchor.",
    )
    source_phrase = serializers.CharField(
        source="deadline_phrase",
        required=False,
        allow_blank=True,
        max_length=300,
        help_text='The words the rule comes from, e.g. "within 180 days".',
    )
    description = serializers.SerializerMethodField(help_text="The rule in plain words.")

    class Meta:
        model = Commitment
        fields = [
            "kind",
            "date",
            "offset_amount",
            "offset_unit",
            "anchor_kind",
            "anchor_commitment",
            "period_unit",
            "period_number",
            "period_year",
            "source_phrase",
            "description",
        ]
        extra_kwargs = {
            "offset_unit": {"required": False},
            "anchor_kind": {"required": False},
            "anchor_commitment": {"required": False},
            "period_unit": {"required": False},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Require the kind even in a PATCH: the rule is always replaced as a whole."""
        if "deadline_kind" not in attrs:
            raise serializers.ValidationError(
                {"kind": ["This field is required: a rule is replaced as a whole."]}
            )
        return attrs

    def get_description(self, commitment: Commitment) -> str:
        try:
            return deadlines.describe(commitment.rule)
        except ValueError:
            return ""


class CommitmentSerializer(StrictMixin, ApiModelSerializer):
    """A commitment with its computed deadline, status, citations and progress updates.

    The list endpoint builds the same representation from plain rows (``api.readers``);
    ``tests/api/test_representation.py`` holds the two equal, so a field added here must be
    added there too.
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

    class Meta:
        model = Commitment
        fields = [
            "id",
            "url",
            "key",
            "agreement",
            "title",
            "description",
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
            "created",
            "updated",
        ]
        read_only_fields = [
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

    def _user(self) -> Any:
        request = self.context.get("request")
        return request.user if request is not None else None

    def create(self, validated_data: dict[str, Any]) -> Commitment:
        beneficiaries = validated_data.pop("beneficiaries", [])
        return call_service(
            commitment_services.commitment_create,
            user=self._user(),
            beneficiaries=beneficiaries,
            **{**RULE_FIELDS, **validated_data},
        )

    def update(self, instance: Commitment, validated_data: dict[str, Any]) -> Commitment:
        beneficiaries = validated_data.pop("beneficiaries", None)
        if RULE_FIELDS.keys() & validated_data.keys():
            validated_data = {**RULE_FIELDS, **validated_data}
        return call_service(
            commitment_services.commitment_update,
            commitment=instance,
            user=self._user(),
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
            "citations",
            "created",
            "updated",
        ]
        read_only_fields = ["created", "updated"]

    def _user(self) -> Any:
        request = self.context.get("request")
        return request.user if request is not None else None

    def create(self, validated_data: dict[str, Any]) -> Agreement:
        parties = validated_data.pop("parties", [])
        return call_service(
            commitment_services.agreement_create,
            user=self._user(),
            parties=parties,
            **validated_data,
        )

    def update(self, instance: Agreement, validated_data: dict[str, Any]) -> Agreement:
        parties = validated_data.pop("parties", None)
        return call_service(
            commitment_services.agreement_update,
            agreement=instance,
            user=self._user(),
            parties=parties,
            **validated_data,
        )


class EvidenceSerializer(StrictMixin, serializers.Serializer):
    """A quote from a source that proves a status change; it becomes a citation."""

    source = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=Source.objects.all(), help_text="Id of the source quoted."
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


class StatusChangeSerializer(StrictMixin, serializers.Serializer):
    """A status change or progress note; fulfilled, partially fulfilled and missed need evidence."""

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

    def save(self, **kwargs: Any) -> ProgressUpdate:
        """Record the change through the service; nothing is written if a check fails."""
        data = self.validated_data
        evidence = data["evidence"] or {}
        commitment: Commitment = self.context["commitment"]
        return call_service(
            commitment_services.commitment_change_status,
            commitment=commitment,
            status=data["status"],
            user=self.context["request"].user,
            occurred_on=data.get("occurred_on"),
            note=data["note"],
            measured_value=data["measured_value"],
            evidence_source=evidence.get("source"),
            evidence_quote=evidence.get("quote", ""),
            evidence_translation=evidence.get("translation", ""),
            evidence_locator=evidence.get("locator", ""),
        )


class LeadDaysField(serializers.ListField):
    """The lead times of a subscription, in days before the deadline."""

    def get_attribute(self, instance: Subscription) -> list[int]:
        return sorted(
            (lead.days for lead in instance.leads.all() if lead.days != OVERDUE_LEAD),
            reverse=True,
        )


class NotifyOverdueField(serializers.BooleanField):
    """Whether the subscription also alerts on the day after a missed deadline."""

    def get_attribute(self, instance: Subscription) -> bool:
        return any(lead.days == OVERDUE_LEAD for lead in instance.leads.all())


class SubscriptionSerializer(StrictMixin, ApiModelSerializer):
    """The caller's watch on everything, an agreement, a party or one commitment.

    The target (``scope`` and the agreement, party or commitment it names) is fixed once
    made; delete the subscription and make another to watch something else.
    """

    url = DetailUrlField(view_name="api:subscription-detail")
    lead_days = LeadDaysField(
        child=serializers.IntegerField(min_value=1, max_value=3650),
        required=False,
        max_length=20,
        help_text="Days before the deadline to alert, 1 to 3650; default 30, 7 and 1.",
    )
    notify_overdue = NotifyOverdueField(
        required=False, help_text="Also alert on the day after a missed deadline (default true)."
    )

    class Meta:
        model = Subscription
        fields = [
            "id",
            "url",
            "scope",
            "agreement",
            "party",
            "commitment",
            "mode",
            "lead_days",
            "notify_overdue",
            "created",
        ]
        read_only_fields = ["created"]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Refuse a change of target; sending the current target again (a PUT) is fine."""
        if self.instance is not None:
            changed = [
                name
                for name in ("scope", "agreement", "party", "commitment")
                if name in attrs and attrs[name] != getattr(self.instance, name)
            ]
            if changed:
                reason = "The target cannot change: delete this subscription and make a new one."
                raise serializers.ValidationError({name: [reason] for name in changed})
        return attrs


class AlertSerializer(ApiModelSerializer):
    """An alert e-mail raised for the caller: which commitment, due date and threshold."""

    url = DetailUrlField(view_name="api:alert-detail")

    class Meta:
        model = Alert
        fields = [
            "id",
            "url",
            "commitment",
            "due_date",
            "threshold",
            "digest",
            "state",
            "sent_at",
            "created",
        ]
        read_only_fields = fields
