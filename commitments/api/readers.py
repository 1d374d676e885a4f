"""The commitment list's read path: plain rows from the database, the serializer's output.

A page of commitments through :class:`~commitments.api.serializers.CommitmentSerializer` builds
a model instance for every commitment, beneficiary, citation, source, progress update and
author, then reads them back field by field; that was most of the list's time. Here the page is
ONE statement (issue 16): the commitment's columns with the owner's username and the rule's
anchor joined, and each nested list (beneficiaries, co-obligors, citations, progress updates,
deadline revisions, occurrences, current ratings) as an array built by PostgreSQL in a
correlated subquery (``ARRAY(SELECT JSON_OBJECT(...) ... ORDER BY ...)``). The nested rows
come back as JSON with their values as text where JSON has no type for them (dates, instants;
decimals are cast to text so that no digit is lost), are given their Python types back from
the model fields (:func:`_typed`), and go through the same row builders as before: the
representation dicts are built straight from the rows, with URLs from one reversed route and
dates, decimals and instants written as the serializer writes them (one home each). The
columns' SELECT and the arrays' SQL are compiled once per process (:func:`_columns_select`,
:func:`_nested_select`); the ORM compiles only which rows, in which order (the page's ids
with its filters, ordering and bounds), and the page reads those ids' rows: compiling the
seven subqueries and the seventy-odd columns for each page cost as much CPU as the rest of
the read. One statement instead of eight saves seven round trips and seven ORM
compilations a page.

The serializer stays the contract: it validates writes, shows the detail and describes the
schema. ``tests/api/test_representation.py`` holds this read equal to it, row for row.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import F, Func, OuterRef, QuerySet, Subquery
from django.db.models.functions import Cast, JSONObject
from django.utils import timezone
from psycopg import postgres
from psycopg.pq import Format
from rest_framework import serializers as drf_serializers

from commitments import deadlines
from commitments.assessment import score
from commitments.choices import RecurrenceKind, rating_label
from commitments.deadlines import recurrence
from commitments.deadlines.text import (
    RevisionWords,
    anchor_title,
    explanation_in_words,
    rule_in_words,
)
from commitments.models import (
    Agreement,
    Assessment,
    Citation,
    Commitment,
    DeadlineRevision,
    Occurrence,
    ProgressUpdate,
)
from commitments.stages import is_retroactive
from core.prepared import prepared_cursor
from core.rest.serializers import detail_url_builder, instant_text
from core.slices import slice_by_ids

from .serializers import (
    API_RULE_FIELDS,
    OCCURRENCES_SHOWN,
    RECURRENCE_KEYS,
    not_rated,
    progress_representation,
)

#: A row as ``values()`` gives it, and a representation as the serializer gives it.
Row = Mapping[str, Any]
Representation = dict[str, Any]

#: Each commitment field's column, as ``values()`` names it (``anchor_commitment_id``).
_COLUMN_OF = {field.name: field.attname for field in Commitment._meta.concrete_fields}

#: The commitment columns a representation needs, as ``values_list`` names them.
COMMITMENT_COLUMNS = (
    "id",
    "key",
    "agreement_id",
    "title",
    "description",
    "title_fr",
    "description_fr",
    "machine_translations",
    "category",
    "obligor_id",
    "target_amount",
    "target_unit",
    "effective_from",
    *(_COLUMN_OF[field.name] for field in deadlines.RULE_FIELDS),
    "due_date",
    "due_at",
    "status",
    "status_changed_at",
    "fulfilled_on",
    "deadline_state",
    "flagged_at",
    "owner__username",
    "created",
    "updated",
    # Deadline revisions and timeliness (issue 12).
    "original_due_date",
    "due_precision",
    "fulfilment_timing",
    # Recurrence (issue 12, item 3).
    *RECURRENCE_KEYS.values(),
    # The stages and what the deadline's explanation reads (issue 12).
    "announced_on",
    "signed_on",
    "instrument_title",
    "instrument_url",
    "effective_from_precision",
    "in_force_on",
    "ended_on",
    "ended_reason",
    "replaced_by_id",
    "original_due_precision",
    "deadline_suspended",
    "agreement__time_zone",
    # Progress against pace (issue 13).
    "progress_measured",
    "progress_measured_on",
)

#: What the rule's words name besides the rule: the dates it counts from.
_ANCHOR = deadlines.ANCHOR_COMMITMENT_FIELD.name
RULE_WORDS_COLUMNS = (
    "agreement__date",
    f"{_ANCHOR}__title",
    f"{_ANCHOR}__title_fr",
    f"{_ANCHOR}__machine_translations",
    f"{_ANCHOR}__fulfilled_on",
    f"{_ANCHOR}__agreement__publication_state",
)

#: A citation's columns, from the citation itself or through a progress update's evidence.
CITATION_COLUMNS = (
    "id",
    "source_id",
    "source__title",
    "source__publisher",
    "quote",
    "translation",
    "translation_language",
    "locator",
    "start",
    "end",
)

PROGRESS_COLUMNS = (
    "id",
    "commitment_id",
    "occurrence__sequence",
    "occurred_on",
    "status_from",
    "status_to",
    "note",
    "measured_value",
    "author__username",
    "created",
    *(f"evidence__{column}" for column in CITATION_COLUMNS),
)

#: A deadline revision's columns (issue 12), its evidence as a progress update's.
REVISION_COLUMNS = (
    "commitment_id",
    "kind",
    "revised_on",
    "old_due_date",
    "new_due_date",
    "new_precision",
    "reason",
    "author__username",
    *(f"evidence__{column}" for column in CITATION_COLUMNS),
)

#: Target amounts and measured values are written by DRF's own decimal field.
_decimal_text = drf_serializers.DecimalField(max_digits=20, decimal_places=4).to_representation


def _day(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _instant(value: Any) -> str | None:
    return None if value is None else instant_text(value)


def _decimal(value: Any) -> str | None:
    return None if value is None else _decimal_text(value)


def _anchor_title(row: Row) -> str | None:
    """Return the anchor commitment's title in the reader's language, as the rule's words do."""
    if row[f"{_ANCHOR}__title"] is None:
        return None
    anchor = Commitment(
        title=row[f"{_ANCHOR}__title"],
        title_fr=row[f"{_ANCHOR}__title_fr"],
        machine_translations=row[f"{_ANCHOR}__machine_translations"],
        agreement=Agreement(publication_state=row[f"{_ANCHOR}__agreement__publication_state"]),
    )
    return anchor_title(anchor)


def _stored_rule(row: Row) -> deadlines.DeadlineRule | None:
    """Return the row's rule, or None for a stored rule the engine cannot read (no words)."""
    try:
        return deadlines.rule_from_stored(row)
    except ValueError:
        return None


def _rule_description(row: Row, rule: deadlines.DeadlineRule | None) -> str:
    """Describe the row's rule as ``DeadlineRuleSerializer.get_description`` does."""
    if rule is None:
        return ""
    return rule_in_words(
        rule,
        counts_from=row[deadlines.ANCHOR_KIND_FIELD.name],
        agreement_date=row["agreement__date"],
        anchor_title=_anchor_title(row),
        anchor_fulfilled_on=row[f"{_ANCHOR}__fulfilled_on"],
        due_date=row["original_due_date"],
    )


def _rule(row: Row, stored: deadlines.DeadlineRule | None) -> Representation:
    """Return the row's rule (``stored``, as :func:`_stored_rule` reads it) as
    ``DeadlineRuleSerializer`` represents it."""
    rule: Representation = {}
    for field in API_RULE_FIELDS:
        value = row[_COLUMN_OF[field.name]]
        rule[field.key] = value.isoformat() if isinstance(value, dt.date) else value
    rule["description"] = _rule_description(row, stored)
    return rule


def _stages(row: Row) -> Representation:
    """Return the row's stages as ``StagesSerializer`` represents them."""
    return {
        "announced_on": _day(row["announced_on"]),
        "signed_on": _day(row["signed_on"]),
        "instrument": {"title": row["instrument_title"], "url": row["instrument_url"]},
        "effective_from": _day(row["effective_from"]),
        "effective_from_precision": row["effective_from_precision"],
        "retroactive": is_retroactive(
            effective_from=row["effective_from"],
            signed_on=row["signed_on"],
            announced_on=row["announced_on"],
        ),
        "in_force_on": _day(row["in_force_on"]),
        "ended_on": _day(row["ended_on"]),
        "ended_reason": row["ended_reason"],
        "replaced_by": row["replaced_by_id"],
    }


def _explanation(
    row: Row, rule: deadlines.DeadlineRule | None, revisions: list[RevisionWords]
) -> str:
    """Explain the row's due date as ``CommitmentSerializer.get_deadline_explanation`` does."""
    if rule is None:
        return ""
    return explanation_in_words(
        rule,
        counts_from=row[deadlines.ANCHOR_KIND_FIELD.name],
        agreement_date=row["agreement__date"],
        anchor_title=_anchor_title(row),
        anchor_fulfilled_on=row[f"{_ANCHOR}__fulfilled_on"],
        original_due_date=row["original_due_date"],
        original_precision=row["original_due_precision"],
        due_precision=row["due_precision"],
        due_at=row["due_at"],
        time_zone=row["agreement__time_zone"],
        suspended=row["deadline_suspended"],
        revisions=revisions,
        series=recurrence.recurrence_from_stored(row),
        due_date=row["due_date"],
    )


def _citation(row: Row, prefix: str = "") -> Representation:
    return {
        "id": row[f"{prefix}id"],
        "source": row[f"{prefix}source_id"],
        "source_title": row[f"{prefix}source__title"],
        "source_publisher": row[f"{prefix}source__publisher"],
        "quote": row[f"{prefix}quote"],
        "translation": row[f"{prefix}translation"],
        "translation_language": row[f"{prefix}translation_language"],
        "locator": row[f"{prefix}locator"],
        "start": row[f"{prefix}start"],
        "end": row[f"{prefix}end"],
    }


def _progress_update(row: Row, url: Callable[[Any], str]) -> Representation:
    return {
        "id": row["id"],
        "url": url(row["id"]),
        "commitment": row["commitment_id"],
        "occurrence": row["occurrence__sequence"],
        "occurred_on": _day(row["occurred_on"]),
        "status_from": row["status_from"],
        "status_to": row["status_to"],
        "note": row["note"],
        "measured_value": _decimal(row["measured_value"]),
        "evidence": None if row["evidence__id"] is None else _citation(row, "evidence__"),
        "author": row["author__username"],
        "created": _instant(row["created"]),
    }


def _revision(row: Row) -> Representation:
    return {
        "kind": row["kind"],
        "revised_on": _day(row["revised_on"]),
        "old_due_date": _day(row["old_due_date"]),
        "new_due_date": _day(row["new_due_date"]),
        "new_precision": row["new_precision"] or None,
        "reason": row["reason"],
        "evidence": _citation(row, "evidence__"),
        "author": row["author__username"],
    }


# Ratings and progress against pace (issue 13) --------------------------------------------

#: A current rating's columns, its evidence as a progress update's.
ASSESSMENT_COLUMNS = (
    "id",
    "commitment_id",
    "party_id",
    "rating",
    "justification",
    "justification_fr",
    "machine_translations",
    "assessed_on",
    "reviewed_on",
    "review_due",
    "author__username",
    *(f"evidence__{column}" for column in CITATION_COLUMNS),
)


def _assessment(row: Row) -> Representation:
    """Return a current rating as ``ObligorAssessmentSerializer`` represents it."""
    return {
        "id": row["id"],
        "party": row["party_id"],
        "rating": row["rating"],
        "rating_label": rating_label(row["rating"]),
        "score": score(row["rating"]),
        "justification": row["justification"],
        "justification_fr": row["justification_fr"],
        "machine_translations": row["machine_translations"],
        "evidence": None if row["evidence__id"] is None else _citation(row, "evidence__"),
        "assessed_on": _day(row["assessed_on"]),
        "reviewed_on": _day(row["reviewed_on"]),
        "review_due": row["review_due"],
        "author": row["author__username"],
    }


def _assessments(row: Row) -> list[Representation]:
    """Return the row's current rating per obligor, ``not_rated`` where none.

    The obligors in ``Commitment.obligor_list``'s order: the obligor, then the co-obligors by
    name (the nested array's order).
    """
    current = {rating["party_id"]: rating for rating in row[_NESTED_RATINGS]}
    parties = [
        row["obligor_id"],
        *(pk for pk in row[_NESTED_CO_OBLIGORS] if pk != row["obligor_id"]),
    ]
    return [
        _assessment(current[party]) if party in current else not_rated(party) for party in parties
    ]


def _progress(row: Row, now: dt.datetime) -> Representation | None:
    """Return the row's progress as ``CommitmentSerializer.get_progress`` does."""
    return progress_representation(
        measured=row["progress_measured"],
        measured_on=row["progress_measured_on"],
        target=row["target_amount"],
        unit=row["target_unit"],
        effective_from=row["effective_from"],
        agreement_date=row["agreement__date"],
        due=row["due_date"],
        time_zone=row["agreement__time_zone"],
        now=now,
    )


# Recurrence and occurrences (issue 12, item 3) ------------------------------------------

OCCURRENCE_COLUMNS = (
    "commitment_id",
    "sequence",
    "due_date",
    "due_at",
    "target_amount",
    "status",
    "status_changed_at",
    "fulfilled_on",
    "deadline_state",
    "flagged_at",
)


def _recurrence(row: Row) -> Representation | None:
    """Return the row's recurrence as ``RecurrenceSerializer`` represents it."""
    if row["recurrence"] == RecurrenceKind.NONE:
        return None
    return {
        "kind": row["recurrence"],
        "interval": row["recurrence_interval"],
        "unit": row["recurrence_unit"],
        "until": _day(row["recurrence_until"]),
        "count": row["recurrence_count"],
    }


def _occurrence(row: Row) -> Representation:
    return {
        "sequence": row["sequence"],
        "due_date": _day(row["due_date"]),
        "due_at": _instant(row["due_at"]),
        "target_amount": _decimal(row["target_amount"]),
        "status": row["status"],
        "status_changed_at": _instant(row["status_changed_at"]),
        "fulfilled_on": _day(row["fulfilled_on"]),
        "deadline_state": row["deadline_state"],
        "flagged_at": _instant(row["flagged_at"]),
    }


# End of recurrence and occurrences -----------------------------------------------------


# The nested lists, read in the page's statement (issue 16) -----------------------------


def _field_of(model: type[models.Model], path: str) -> models.Field:
    """Return the model field a ``values()`` path names (``evidence__source__title``)."""
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model  # type: ignore[assignment]
    return model._meta.get_field(name)  # type: ignore[return-value]


def _json_instant(text: str) -> dt.datetime:
    """Return the instant a JSON text holds: PostgreSQL writes its offset; SQLite writes the
    stored UTC time without one (``USE_TZ``: Django stores instants in UTC there)."""
    instant = dt.datetime.fromisoformat(text)
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=dt.UTC)


#: How a value nested in JSON gets its Python type back, by the kind of its model field.
_FROM_JSON: tuple[tuple[type[models.Field], Callable[[Any], Any]], ...] = (
    (models.DateTimeField, _json_instant),
    (models.DateField, dt.date.fromisoformat),
    (models.DecimalField, Decimal),
    (models.BooleanField, bool),  # SQLite's JSON holds 1 and 0
)


class _JSONArraySubquery(Subquery):
    """The rows of a subquery of one column named ``item``, as the text of a JSON array in
    the subquery's order: ``ArraySubquery`` where the database has no arrays (SQLite, the
    embedded default). Each item is a value, or the text of a JSON object (a subquery's
    column loses SQLite's JSON subtype)."""

    template = '(SELECT json_group_array("item") FROM (%(subquery)s))'
    output_field = models.TextField()


class Nested:
    """A commitment's nested list, read as an array in the page's statement.

    ``rows`` gives the related rows of one commitment (filtered on ``OuterRef("pk")``) in
    their order; each becomes a JSON object of ``columns`` (``values()`` paths), or the bare
    value of the one column when ``flat``. Decimals travel as text; dates and instants as
    JSON gives them; :meth:`typed` turns them back into what ``values()`` would have given.
    """

    def __init__(
        self, model: type[models.Model], rows: QuerySet, columns: tuple[str, ...], *, flat=False
    ) -> None:
        self.columns = columns
        self.flat = flat
        fields = {column: _field_of(model, column) for column in columns}
        # The first kind that fits: an instant's field is also a date's.
        self.parsers = {
            column: next(parse for kind, parse in _FROM_JSON if isinstance(field, kind))
            for column, field in fields.items()
            if any(isinstance(field, kind) for kind, _ in _FROM_JSON)
        }

        def item(*, json_text: bool) -> Any:
            if flat:
                (column,) = columns
                return F(column)
            return JSONObject(
                **{
                    column: Cast(column, models.TextField())
                    if isinstance(field, models.DecimalField)
                    # SQLite keeps a JSON column as text: JSON() nests it as JSON.
                    else Func(column, function="JSON", output_field=field)
                    if json_text and isinstance(field, models.JSONField)
                    else column
                    for column, field in fields.items()
                }
            )

        self.expressions = {
            # PostgreSQL: an array (of JSON objects), typed by the driver.
            "postgresql": ArraySubquery(rows.values(item=item(json_text=False))),
            # Elsewhere: the text of a JSON array.
            "": _JSONArraySubquery(rows.values(item=item(json_text=True))),
        }

    def expression(self, vendor: str) -> Subquery:
        """Return the list's expression on the database ``vendor``."""
        return self.expressions.get(vendor, self.expressions[""])

    def typed(self, values: list[Any]) -> list[Any]:
        """Return the array's rows as ``values()`` would give them.

        The database driver gives each JSON object as its text (Django decodes JSON itself).
        """
        if isinstance(values, str):  # a JSON array's text (SQLite)
            values = json.loads(values)
        if self.flat:
            return values
        values = [json.loads(row) if isinstance(row, str) else row for row in values]
        for row in values:
            for column, parse in self.parsers.items():
                if row[column] is not None:
                    row[column] = parse(row[column])
        return values


def _of_the_commitment(model: type[models.Model], *ordering: str) -> QuerySet:
    return model._default_manager.filter(commitment_id=OuterRef("pk")).order_by(*ordering)


_NESTED_BENEFICIARIES = "nested_beneficiaries"
_NESTED_CO_OBLIGORS = "nested_co_obligors"
_NESTED_CITATIONS = "nested_citations"
_NESTED_UPDATES = "nested_progress_updates"
_NESTED_REVISIONS = "nested_revisions"
_NESTED_OCCURRENCES = "nested_occurrences"
_NESTED_RATINGS = "nested_ratings"


@functools.cache
def _nested_lists() -> dict[str, Nested]:
    """Return each nested list of a commitment, by the name its array takes in the row.

    Built once per process: building the seven subqueries was an eighth of a page's time,
    and an expression is copied, never changed, when a query resolves it. Only names and
    expressions are kept, no rows: nothing here can go stale.
    """
    beneficiaries = Commitment.beneficiaries.through
    co_obligors = Commitment.co_obligors.through
    return {
        _NESTED_BENEFICIARIES: Nested(
            beneficiaries,
            _of_the_commitment(beneficiaries, "party__name", "party_id"),
            ("party_id",),
            flat=True,
        ),
        _NESTED_CO_OBLIGORS: Nested(
            co_obligors,
            _of_the_commitment(co_obligors, "party__name", "party_id"),
            ("party_id",),
            flat=True,
        ),
        _NESTED_CITATIONS: Nested(Citation, _of_the_commitment(Citation, "id"), CITATION_COLUMNS),
        _NESTED_UPDATES: Nested(
            ProgressUpdate,
            _of_the_commitment(ProgressUpdate, "-occurred_on", "-id"),
            PROGRESS_COLUMNS,
        ),
        _NESTED_REVISIONS: Nested(
            DeadlineRevision,
            _of_the_commitment(DeadlineRevision, "revised_on", "id"),
            REVISION_COLUMNS,
        ),
        _NESTED_OCCURRENCES: Nested(
            Occurrence,
            _of_the_commitment(Occurrence, "sequence").filter(sequence__lte=OCCURRENCES_SHOWN),
            OCCURRENCE_COLUMNS,
        ),
        _NESTED_RATINGS: Nested(
            Assessment,
            _of_the_commitment(Assessment).filter(current=True),
            ASSESSMENT_COLUMNS,
        ),
    }


def commitment_representations(
    page: QuerySet[Commitment], *, request: Any, format: str | None = None
) -> list[Representation]:
    """Return the representations of the commitments of ``page``, in its order.

    ``page`` is a (sliced) queryset of commitments; what it selects or prefetches is
    ignored: the rows are read with a fixed number of queries whatever the page size.
    ``request`` and ``format`` make the absolute URLs, as the serializer's context does.
    """
    return commitment_page(page, request=request, format=format)[0]


def commitment_page(
    page: QuerySet[Commitment],
    *,
    request: Any,
    format: str | None = None,
    positions: tuple[str, ...] = (),
) -> tuple[list[Representation], list[list[Any]]]:
    """Return the representations of ``page`` and, for each, its values of ``positions``.

    ``positions`` are ``values()`` paths the page's statement reads anyway (the list's
    orderings: ``due_date``, ``agreement__date``, ``id``…): a keyset page's cursor is the
    position of its last row, read in the same statement, typed as the ORM types it.
    """
    rows, _ = _page_rows(page)
    keyed = [[row[path] for path in positions] for row in rows]
    return _represented(rows, request=request, format=format), keyed


def commitment_page_counted(
    page: QuerySet[Commitment],
    *,
    counted: QuerySet[Commitment],
    request: Any,
    format: str | None = None,
) -> tuple[list[Representation], int]:
    """Return the representations of ``page`` and ``counted.count()``, read together.

    The count of the whole list (``counted``, of which ``page`` is a slice) is a scalar
    subquery of the page's statement, as the page's rows are: one round trip instead of two
    (issue 16). A page with no rows has no row to carry it, and is counted on its own.
    """
    rows, count = _page_rows(page, counted=counted)
    if count is None:
        count = counted.count()
    return _represented(rows, request=request, format=format), count


def _values(page: QuerySet[Commitment], **nested: Any) -> QuerySet:
    """Return ``page`` as the ``values()`` a representation is built from, with the
    ``nested`` arrays' expressions among its columns: the ORM's read of a page."""
    return (
        slice_by_ids(page)
        .prefetch_related(None)
        .values(*COMMITMENT_COLUMNS, *RULE_WORDS_COLUMNS, **nested)
    )


def _represented(
    rows: list[dict[str, Any]], *, request: Any, format: str | None
) -> list[Representation]:
    """Return the representation of each of the page's ``rows``, as the serializer gives it."""
    if not rows:
        return []
    nested = _nested_lists()
    for row in rows:
        for name, lists in nested.items():
            row[name] = lists.typed(row[name])
    update_url = detail_url_builder("api:progressupdate-detail", request=request, format=format)
    now = timezone.now()
    url = detail_url_builder("api:commitment-detail", request=request, format=format)
    return [
        {
            "id": row["id"],
            "url": url(row["id"]),
            "key": row["key"],
            "agreement": row["agreement_id"],
            "title": row["title"],
            "description": row["description"],
            "title_fr": row["title_fr"],
            "description_fr": row["description_fr"],
            "machine_translations": row["machine_translations"],
            "category": row["category"],
            "obligor": row["obligor_id"],
            "beneficiaries": row[_NESTED_BENEFICIARIES],
            "target_amount": _decimal(row["target_amount"]),
            "target_unit": row["target_unit"],
            "effective_from": _day(row["effective_from"]),
            "deadline_rule": _rule(row, rule),
            "due_date": _day(row["due_date"]),
            "due_at": _instant(row["due_at"]),
            "status": row["status"],
            "status_changed_at": _instant(row["status_changed_at"]),
            "fulfilled_on": _day(row["fulfilled_on"]),
            "deadline_state": row["deadline_state"],
            "flagged_at": _instant(row["flagged_at"]),
            "owner": row["owner__username"],
            "citations": [_citation(citation) for citation in row[_NESTED_CITATIONS]],
            "progress_updates": [
                _progress_update(update, update_url) for update in row[_NESTED_UPDATES]
            ],
            "original_due_date": _day(row["original_due_date"]),
            "due_precision": row["due_precision"] or None,
            "revisions": [_revision(revision) for revision in row[_NESTED_REVISIONS]],
            "fulfilment_timing": row["fulfilment_timing"] or None,
            "recurrence": _recurrence(row),
            "occurrences": [_occurrence(occurrence) for occurrence in row[_NESTED_OCCURRENCES]],
            "created": _instant(row["created"]),
            "updated": _instant(row["updated"]),
            "stages": _stages(row),
            "deadline_explanation": _explanation(
                row, rule, _revision_words(row[_NESTED_REVISIONS])
            ),
            "obligors": [entry["party"] for entry in assessments],
            "assessments": assessments,
            "progress": _progress(row, now),
        }
        for row in rows
        for assessments, rule in [(_assessments(row), _stored_rule(row))]
    ]


#: The outer row the nested arrays are compiled against, and what it becomes in the page.
_OUTER_PK = f'"{Commitment._meta.db_table}"."{Commitment._meta.pk.column}"'  # type: ignore[union-attr]
_FROM = f' FROM "{Commitment._meta.db_table}"'


@functools.cache
def _nested_select(vendor: str) -> tuple[str, tuple[Any, ...]]:
    """Return the nested arrays as SELECT items (SQL and parameters), compiled once.

    Compiling the seven subqueries took as long as running the whole statement; they do not
    change with the page, so they are compiled once per process (per database vendor) and
    put into each page's statement as text. They refer to the page's commitment as
    ``"commitments_commitment"."id"``: the page's own table, not aliased, in its FROM.
    """
    query = Commitment.objects.all().query
    compiler = query.get_compiler(connection=connections[DEFAULT_DB_ALIAS])
    items, params = [], []
    for name, lists in _nested_lists().items():
        resolved = lists.expression(vendor).resolve_expression(query, allow_joins=True)
        sql, item_params = compiler.compile(resolved)
        items.append(f'{sql} AS "{name}"')
        params.extend(item_params)
    return ", " + ", ".join(items), tuple(params)


#: The count of the list, read in the page's statement, by this name.
_COUNT = "list_count"


@functools.cache
def _columns_select(vendor: str) -> tuple[str, tuple[Any, ...]]:
    """Return the statement that reads every commitment's columns (no filter, no order).

    Compiled once per process (per database vendor): the seventy-odd columns and the four
    joins they need were the dearest part of compiling a page (2 ms of CPU a request). A
    page's own statement only picks which rows, in which order.
    """
    values = Commitment._default_manager.order_by().values(*COMMITMENT_COLUMNS, *RULE_WORDS_COLUMNS)
    sql, params = values.query.sql_with_params()
    return sql, tuple(params)


#: The rows of the page, in its order, where the commitment's table stands in the FROM.
_PAGE_ROWS = (
    ' FROM unnest(ARRAY({ids})) WITH ORDINALITY AS "page_row" ("id", "position")'
    f' INNER JOIN "{Commitment._meta.db_table}"'
    f' ON ({_OUTER_PK} = "page_row"."id")'
)


def _page_rows(
    page: QuerySet[Commitment], *, counted: QuerySet | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    """Read the rows of ``page`` (a sliced queryset of commitments) with the nested arrays.

    One statement on PostgreSQL: the ORM compiles the page's ids (filters, ordering, bounds)
    and, given ``counted``, the count of its rows; the columns' SELECT (compiled once,
    :func:`_columns_select`) reads those ids' rows in that order (``unnest(ARRAY(...)) WITH
    ORDINALITY``), the precompiled arrays among its columns and the count as a scalar
    subquery (run once for the statement). The nested arrays are built for the page's own
    rows only, never for the rows an OFFSET skips. Values come as psycopg types them (JSON
    text decoded here by the model field, as Django's converters do; instants aware in UTC,
    decimals as ``Decimal``), as ``values()`` gives them. Elsewhere (SQLite), or for a page
    of another shape (a DISTINCT, a combined query), the ORM reads the page, arrays and
    all. Return the rows and the count (None when not asked for, when no row came back to
    carry it, or when the ORM read the page).
    """
    connection = connections[page.db]
    vendor = connection.vendor
    columns_sql, columns_params = _columns_select(vendor)
    head, found, joins = columns_sql.partition(_FROM)
    query = page.query
    if vendor != "postgresql" or not found or columns_params or query.distinct or query.combinator:
        try:
            nested = {name: lists.expression(vendor) for name, lists in _nested_lists().items()}
            rows = list(_values(page, **nested))
        except EmptyResultSet:  # an empty slice, or a filter nothing can match
            return [], None
        return rows, None  # the caller counts on its own
    try:
        ids_sql, ids_params = page.values("pk").query.sql_with_params()
        count_sql, count_params = ("", ())
        if counted is not None:
            count_sql, count_params = counted.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # an empty slice, or a filter nothing can match
        return [], None
    nested_sql, nested_params = _nested_select(vendor)
    if counted is not None:
        # The ORM compiled the count's SQL; its parameters travel apart.
        nested_sql += f', (SELECT COUNT(*) FROM ({count_sql}) AS "counted") AS "{_COUNT}"'  # noqa: S608
    page_rows = _PAGE_ROWS.format(ids=ids_sql)
    sql = f'{head}{nested_sql}{page_rows}{joins} ORDER BY "page_row"."position"'
    with prepared_cursor(connection) as cursor:
        _instants_compiled(cursor, connection)
        cursor.execute(sql, (*nested_params, *count_params, *ids_params))
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    for name, field in _converted_columns().items():
        for row in rows:
            row[name] = field.from_db_value(row[name], None, connection)
    count = None
    if counted is not None:
        for row in rows:
            count = row.pop(_COUNT)
    return rows, count


def _instants_compiled(cursor: Any, connection: Any) -> None:
    """Have psycopg's compiled loader read the page's instants, not Django's Python one.

    Django loads ``timestamptz`` with a Python subclass of psycopg's loader that only puts
    the connection's time zone on each value; for the page's four or five instants a row it
    was a twentieth of the list's CPU time. With ``USE_TZ`` the session's time zone is that
    same zone (Django sets it when it connects), so psycopg's compiled loader gives the same
    aware instants.
    """
    if connection.vendor != "postgresql" or not settings.USE_TZ:
        return
    oid = postgres.types["timestamptz"].oid
    cursor.cursor.adapters.register_loader(oid, postgres.adapters.get_loader(oid, Format.TEXT))


@functools.cache
def _converted_columns() -> dict[str, Any]:
    """Return the page's columns whose model field converts what the database gives."""
    fields = {
        column: _field_of(
            Commitment, column.removesuffix("_id") if column.endswith("_id") else column
        )
        for column in (*COMMITMENT_COLUMNS, *RULE_WORDS_COLUMNS)
    }
    return {column: field for column, field in fields.items() if hasattr(field, "from_db_value")}


def _revision_words(revisions: list[Row]) -> list[RevisionWords]:
    """Return what the explanation says of each revision, in the order the engine folds them."""
    return [
        RevisionWords(
            row["kind"], row["revised_on"], row["new_due_date"], row["new_precision"], row["reason"]
        )
        for row in revisions
    ]


class RepresentedCommitments:
    """A commitment queryset the paginator counts and slices; a slice comes back represented.

    Django's paginator needs only ``count()``, slicing and ``ordered``; handing it this
    instead of the queryset lets the page be read by :func:`commitment_representations`
    while the count, the page bounds and the 404 past the last page stay the paginator's.
    """

    def __init__(
        self, queryset: QuerySet[Commitment], *, request: Any, format: str | None = None
    ) -> None:
        self.queryset = queryset
        self.request = request
        self.format = format

    @property
    def ordered(self) -> bool:
        return self.queryset.ordered

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, bounds: slice) -> list[Representation]:
        return commitment_representations(
            self.queryset[bounds], request=self.request, format=self.format
        )

    def read_counted(self, bottom: int, top: int) -> tuple[list[Representation], int]:
        """Read the slice ``[bottom:top]`` with the count of all the rows, in one statement."""
        return commitment_page_counted(
            self.queryset[bottom:top],
            counted=self.queryset,
            request=self.request,
            format=self.format,
        )

    def read_keyed(
        self, page: QuerySet[Commitment], paths: list[str]
    ) -> tuple[list[Representation], list[list[Any]]]:
        """Read ``page`` (this queryset narrowed and sliced by a keyset paginator) with each
        row's values of ``paths``, its position in the ordering."""
        return commitment_page(
            page, request=self.request, format=self.format, positions=tuple(paths)
        )
