"""The API's serializer plumbing: instants in UTC, detail URLs resolved once a page, strict input.

Every app's API serializers derive from these, so they read and refuse input alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from django.db import models
from rest_framework import fields as drf_fields
from rest_framework import relations as drf_relations
from rest_framework import serializers
from rest_framework.reverse import reverse as drf_reverse

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

    def request_user(self) -> Any:
        """Return who is writing: the request's user, or None outside a request."""
        request = self.context.get("request")
        return request.user if request is not None else None


class StrictMixin(serializers.Serializer):
    """Refuse input keys that are not writable fields of the serializer, naming each one."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            refuse_unknown_keys(self, data)
        return super().to_internal_value(data)


def refuse_unknown_keys(
    serializer: serializers.Serializer, data: Mapping[str, Any], *, within: str = ""
) -> None:
    """Raise a 400 naming each key of ``data`` that is not a writable field of ``serializer``.

    ``within`` nests the errors under that field, for a nested object's keys.
    """
    writable = {name for name, field in serializer.fields.items() if not field.read_only}
    refused = {
        str(key): ["This field is read-only." if key in serializer.fields else "Unknown field."]
        for key in data
        if key not in writable
    }
    if refused:
        raise serializers.ValidationError({within: refused} if within else refused)
