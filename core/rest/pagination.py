"""Pagination: page numbers on every list; keyset (cursor) pages on the commitment list.

Page numbers answer ``count``, ``next``, ``previous``, ``results``, up to 500 a page.
:class:`CursorOrPageNumberPagination` adds keyset pages, given ``cursor``, whose cost does not
grow with their depth and whose ``count`` is bounded (``count_exact`` says so).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Page, Paginator
from django.db import connections, models
from django.db.models import F, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, pagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

#: PostgreSQL's OFFSET and LIMIT are bigints: a page beyond is checked against the count first.
_LARGEST_OFFSET = 2**63 - 1


class CountingPaginator(Paginator):
    """Django's paginator; rows that can read a page with their count do so in one go.

    Django counts the rows, checks the page number against the count, then reads the page:
    two statements. Rows that offer ``read_counted(bottom, top)`` (the commitment list's
    reader) give the page asked for and the count of all rows from one statement; the number
    is then checked against that count as Django checks it, so a page past the end is still
    an ``EmptyPage`` with Django's message (issue 16).
    """

    def page(self, number: Any) -> Page:
        read_counted = getattr(self.object_list, "read_counted", None)
        if read_counted is None or self.orphans or "count" in self.__dict__:
            return super().page(number)
        try:
            wanted = int(number)
        except (TypeError, ValueError):
            return super().page(number)
        bottom = (wanted - 1) * self.per_page
        if wanted < 1 or isinstance(number, float) or bottom + self.per_page > _LARGEST_OFFSET:
            return super().page(number)
        rows, count = read_counted(bottom, bottom + self.per_page)
        self.__dict__["count"] = count  # the cached_property's value, as Django caches it
        return self._get_page(rows, self.validate_number(wanted), self)  # type: ignore[attr-defined]


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages of 50 by default; ``page_size`` above 500 or not a positive number is a 400."""

    django_paginator_class = CountingPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_page_message = "Page {page_number} does not exist: {message}"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise exceptions.ValidationError(
                {"page_size": [f"{raw!r} is not a whole number."]}
            ) from None
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"Must be between 1 and {self.max_page_size}; got {size}."]}
            )
        return size

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = "Number of results on all pages."
        described["properties"]["next"]["description"] = "URL of the next page, or null."
        described["properties"]["previous"]["description"] = "URL of the previous page, or null."
        return described

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = "Page number, from 1; past the last page is a 404."
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
                parameter["description"] = (
                    f"Results per page, 1 to {self.max_page_size}; more is a 400."
                )
        return parameters


# Keyset (cursor) pagination (issue 16) ------------------------------------------------------

#: A cursor that does not decode to a position of this list's ordering.
UNKNOWN_CURSOR = _("This cursor is not one this list gave; start again with an empty cursor.")
#: A cursor of another ordering than the one asked for.
OTHER_ORDERING = _(
    "This cursor was made for another ordering; ask with the ordering it was made for, or "
    "start again with an empty cursor."
)

#: How far the cursor pages count: past this many results ``count`` stops and says so.
COUNT_BOUND = 1000


@dataclass(frozen=True, slots=True)
class _Key:
    """One column of a list's ordering: its ``values()`` path, direction and nullability,
    and where the database sorts NULL (``nulls_largest``: after every value, as PostgreSQL
    does; SQLite sorts it before)."""

    path: str
    descending: bool
    nullable: bool
    nulls_largest: bool = True

    @property
    def spec(self) -> str:
        return f"-{self.path}" if self.descending else self.path

    @property
    def nulls_first(self) -> bool:
        """Whether this column's NULLs come before its values in the list's order."""
        return self.descending == self.nulls_largest

    def flipped(self) -> _Key:
        return _Key(self.path, not self.descending, self.nullable, self.nulls_largest)


def _field_at(model: type[models.Model], path: str) -> models.Field:
    """Return the model field a ``values()`` path names (``agreement__date``)."""
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model  # type: ignore[assignment]
    return model._meta.get_field(name)  # type: ignore[return-value]


def _keys_of(queryset: QuerySet) -> list[_Key]:
    """Return the queryset's ordering as keys; it must end with the primary key."""
    keys = []
    nulls_largest = connections[queryset.db].features.nulls_order_largest
    for term in queryset.query.order_by:
        if not isinstance(term, str):
            raise ImproperlyConfigured("Cursor pages need an ordering by field names.")
        path = term.lstrip("-")
        path = "id" if path == "pk" else path
        field = _field_at(queryset.model, path)
        keys.append(_Key(path, term.startswith("-"), bool(field.null), nulls_largest))
    if not keys or keys[-1].path != "id":
        raise ImproperlyConfigured("Cursor pages need an ordering that ends with the id.")
    return keys


def _same(key: _Key, value: Any) -> Q:
    return Q(**{f"{key.path}__isnull": True}) if value is None else Q(**{key.path: value})


def _beyond(key: _Key, value: Any) -> Q | None:
    """Return where a row comes after ``value`` in ``key`` alone, or None if nothing does.

    PostgreSQL puts NULL last in an ascending order and first in a descending one; SQLite
    the other way round (:attr:`_Key.nulls_first`).
    """
    if value is None:
        return Q(**{f"{key.path}__isnull": False}) if key.nulls_first else None
    beyond = Q(**{f"{key.path}__lt" if key.descending else f"{key.path}__gt": value})
    if key.nullable and not key.nulls_first:
        return beyond | Q(**{f"{key.path}__isnull": True})
    return beyond


def _strictly_after(keys: list[_Key], values: list[Any]) -> Q:
    """Return where a row comes strictly after the position ``values`` in the ordering ``keys``."""
    condition = Q(pk__in=[])
    for n, (key, value) in enumerate(zip(keys, values, strict=True)):
        beyond = _beyond(key, value)
        if beyond is None:
            continue
        ties = Q()
        for earlier, earlier_value in zip(keys[:n], values[:n], strict=True):
            ties &= _same(earlier, earlier_value)
        condition |= ties & beyond
    return condition


def keyset_regions(keys: list[_Key], values: list[Any]) -> list[Any]:
    """Return the filters that give the rows after ``values``, one region after another.

    The first region holds the rows that share the position's kind of leading value (a value,
    or NULL); its leading column is bounded (``>=`` or ``<=`` the value, or ``IS NULL``) so an
    index on that column starts the scan at the position, whatever its depth, and only its
    ties are filtered. Where every column runs the same way and none can be NULL, the
    position is one row comparison, ``(a, b, id) > (x, y, z)``, that an index on those
    columns seeks to directly. A nullable leading column has a second region: its NULLs
    (where they follow the values: PostgreSQL's ascending order) or its values (where they
    follow the NULLs), read from their start only when the first region ends within the
    page. An OR of the two would make PostgreSQL scan from the list's start.
    """
    lead, first = keys[0], values[0]
    if (
        first is not None
        and all(not key.nullable for key in keys)
        and (len({key.descending for key in keys}) == 1)
    ):
        columns = Tuple(*(F(key.path) for key in keys))
        compare = TupleLessThan if lead.descending else TupleGreaterThan
        return [compare(columns, tuple(values))]
    exact = _strictly_after(keys, values)
    if first is None:
        region = Q(**{f"{lead.path}__isnull": True}) & exact
        following = Q(**{f"{lead.path}__isnull": False}) if lead.nulls_first else None
    else:
        bound = "lte" if lead.descending else "gte"
        region = Q(**{f"{lead.path}__{bound}": first}) & exact
        following = (
            Q(**{f"{lead.path}__isnull": True}) if lead.nullable and not lead.nulls_first else None
        )
    return [region] if following is None else [region, following]


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _position_of(row: Any, keys: list[_Key]) -> list[Any]:
    """Return a model instance's values of the ordering's columns."""
    values = []
    for key in keys:
        value = row
        for name in key.path.split("__"):
            value = getattr(value, name)
        values.append(value)
    return values


class CursorOrPageNumberPagination(PageNumberPagination):
    """Page numbers, as every list has them, or keyset pages when ``cursor`` is given.

    ``?cursor=`` (empty) starts at the first row; each page's ``next`` (and ``previous``)
    carries an opaque cursor: the position of the page's last (first) row in the list's
    ordering, ties broken by id. The next page is the rows after that position, found with
    the list's own index whatever the depth, so a deep page costs what the first costs, and
    a row inserted or deleted meanwhile neither repeats nor skips another. ``count`` is
    counted up to :data:`COUNT_BOUND`: ``count_exact`` says whether it is the whole number
    or a lower bound.

    The rows may be a queryset or a wrapper of one (``queryset``) that reads a slice with
    the positions of its rows (``read_keyed(queryset, paths)``), as the commitment list's
    reader does.
    """

    cursor_query_param = "cursor"
    count_bound = COUNT_BOUND

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        self.keyset = request.query_params.get(self.cursor_query_param)
        if self.keyset is None:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        size = self.get_page_size(request)
        rows = getattr(queryset, "queryset", queryset)
        keys = _keys_of(rows)
        reverse, values = self._cursor_decode(self.keyset, keys, rows.model)
        reading = [key.flipped() for key in keys] if reverse else keys
        ordered = rows.order_by(*(key.spec for key in reading))
        regions = [Q()] if values is None else keyset_regions(reading, values)
        items: list[Any] = []
        positions: list[list[Any]] = []
        for region in regions:
            wanted = size + 1 - len(items)
            if wanted <= 0:
                break
            read, read_positions = self._read(queryset, ordered.filter(region)[:wanted], reading)
            items.extend(read)
            positions.extend(read_positions)
        more = len(items) > size
        items, positions = items[:size], positions[:size]
        if reverse:
            items.reverse()
            positions.reverse()
        self._links(keys, positions, reverse=reverse, more=more, started=values is not None)
        counted = rows.order_by()[: self.count_bound + 1].count()
        self.cursor_count = min(counted, self.count_bound)
        self.cursor_count_exact = counted <= self.count_bound
        return items

    @staticmethod
    def _read(source: Any, page: QuerySet, keys: list[_Key]) -> tuple[list[Any], list[list[Any]]]:
        paths = [key.path for key in keys]
        if hasattr(source, "read_keyed"):
            return source.read_keyed(page, paths)
        read = list(page)
        return read, [_position_of(row, keys) for row in read]

    def _links(
        self,
        keys: list[_Key],
        positions: list[list[Any]],
        *,
        reverse: bool,
        more: bool,
        started: bool,
    ) -> None:
        """Set the next and previous links from the page's first and last positions."""
        has_next = started if reverse else more
        has_previous = more if reverse else started
        assert self.request is not None  # noqa: S101 - set by paginate_queryset
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        spec = [key.spec for key in keys]
        self.cursor_next = self.cursor_previous = None
        if positions and has_next:
            token = self._cursor_encode(spec, positions[-1], reverse=False)
            self.cursor_next = replace_query_param(url, self.cursor_query_param, token)
        if positions and has_previous:
            token = self._cursor_encode(spec, positions[0], reverse=True)
            self.cursor_previous = replace_query_param(url, self.cursor_query_param, token)
        if not positions and reverse:
            # Nothing before the position (it was deleted meanwhile): start again.
            self.cursor_next = replace_query_param(url, self.cursor_query_param, "")

    @staticmethod
    def _cursor_encode(spec: list[str], position: list[Any], *, reverse: bool) -> str:
        body: dict[str, Any] = {"o": spec, "p": [_json_value(value) for value in position]}
        if reverse:
            body["r"] = 1
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @staticmethod
    def _cursor_decode(
        token: str, keys: list[_Key], model: type[models.Model]
    ) -> tuple[bool, list[Any] | None]:
        """Return (backwards?, position) of a cursor, or a 400 naming ``cursor``."""
        if token == "":
            return False, None
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            body = json.loads(text)
            spec, raw, reverse = body["o"], body["p"], body.get("r", 0)
            if not (isinstance(spec, list) and isinstance(raw, list) and len(raw) == len(keys)):
                raise ValueError(token)
            if reverse not in (0, 1):
                raise ValueError(token)
        except (ValueError, TypeError, KeyError, UnicodeDecodeError, binascii.Error):
            raise exceptions.ValidationError({"cursor": [UNKNOWN_CURSOR]}) from None
        if spec != [key.spec for key in keys]:
            raise exceptions.ValidationError({"cursor": [OTHER_ORDERING]})
        try:
            position = [
                None if value is None else _field_at(model, key.path).to_python(value)
                for key, value in zip(keys, raw, strict=True)
            ]
        except (DjangoValidationError, TypeError, ValueError):
            raise exceptions.ValidationError({"cursor": [UNKNOWN_CURSOR]}) from None
        if position[-1] is None:
            raise exceptions.ValidationError({"cursor": [UNKNOWN_CURSOR]})
        return bool(reverse), position

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = (
            "Number of results on all pages; on a cursor page, counted up to "
            f"{self.count_bound} (see count_exact)."
        )
        described["properties"]["count_exact"] = {
            "type": "boolean",
            "description": (
                "Cursor pages only: true when count is the number of results, false when "
                f"there are more than {self.count_bound} and count is that bound."
            ),
        }
        return described

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        return [
            *parameters,
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "schema": {"type": "string"},
                "description": (
                    "Keyset pages instead of page numbers: empty for the first page, then the "
                    "cursor in each page's next or previous link (opaque; made for one "
                    "ordering, ties broken by id). A page deep in the list costs what the "
                    "first costs, and rows inserted or deleted during a walk make none "
                    "repeat or go missing. count is counted up to "
                    f"{self.count_bound}: count_exact says whether it is the whole number. "
                    "page is ignored. A cursor the list did not give is a 400."
                ),
            },
        ]

    def get_paginated_response(self, data: Any) -> Response:
        if self.keyset is None:
            return super().get_paginated_response(data)
        return Response(
            {
                "count": self.cursor_count,
                "count_exact": self.cursor_count_exact,
                "next": self.cursor_next,
                "previous": self.cursor_previous,
                "results": data,
            }
        )
