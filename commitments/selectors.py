"""Reads of the commitments domain shared by the API and the dashboard.

Each list selector loads what its rows show in a fixed number of queries, whatever the page
size, and orders with ``id`` last so that pages are stable.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Generic, Protocol, TypeVar, overload

from django.db import connections
from django.db.models import (
    Count,
    Exists,
    F,
    JSONField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast, NullIf
from django.db.models.options import Options
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext

from core.prepared import prepared_cursor

from .assessment import SCALE, SCORE_MAX, SCORE_MIN, Rating, Tally
from .assessment import score as assessment_score
from .assessment.pace import TOLERANCE
from .choices import (
    RELATION_READ_BACKWARD,
    FulfilmentTiming,
    PublicationAction,
    PublicationState,
    RelationKind,
    Status,
)
from .models import (
    DUE_DATE_RELATIONS,
    Agreement,
    Assessment,
    Citation,
    Commitment,
    CommitmentRelation,
    DeadlineRevision,
    Occurrence,
    Party,
    ProgressUpdate,
    PublicationEvent,
    Report,
    ReportCorrection,
    ReportRow,
    Source,
)
from .services.assessments import review_after_days
from .stages import TIMELINE_STAGES
from .translations import localized_columns


def party_list() -> QuerySet[Party]:
    """Return every party, by name."""
    return Party.objects.order_by("name", "id")


def source_list() -> QuerySet[Source]:
    """Return every source, newest first."""
    return Source.objects.order_by("-published_on", "title", "id")


def agreement_list() -> QuerySet[Agreement]:
    """Return every agreement, newest first, with its parties and citations loaded."""
    return (
        Agreement.objects.all()
        .prefetch_related(
            Prefetch("parties", queryset=Party.objects.order_by("name", "id")),
            Prefetch(
                "citations", queryset=Citation.objects.select_related("source").order_by("id")
            ),
        )
        .order_by("-date", "title", "id")
    )


def progress_update_list() -> QuerySet[ProgressUpdate]:
    """Return every progress update, latest first, with its evidence and author loaded."""
    return ProgressUpdate.objects.select_related(
        "commitment", "evidence__source", "author", "occurrence"
    ).order_by("-occurred_on", "-id")


def revisions_prefetch(through: str = "") -> Prefetch:
    """Return the prefetch of a commitment's revisions, in the order the engine folds them.

    The one prefetch of revisions (two with different querysets on one lookup are an error):
    with each revision's evidence and author, which the pages and the API show. ``through``
    reaches the commitments from another model ("commitment__" from alerts).
    """
    return Prefetch(f"{through}revisions", queryset=revisions_ordered())


def revisions_ordered() -> QuerySet[DeadlineRevision]:
    """Return the revisions as :func:`revisions_prefetch` loads them (a sender reads them so)."""
    return DeadlineRevision.objects.select_related("evidence__source", "author").order_by(
        "revised_on", "id"
    )


def with_deadline_explanation(queryset: QuerySet[Commitment]) -> QuerySet[Commitment]:
    """Return ``queryset`` with what ``deadline_explanation`` reads loaded: two queries a page.

    The explanation reads the agreement (date, time zone), the anchor commitment (title,
    fulfilment) and the revisions.
    """
    return queryset.select_related(*DUE_DATE_RELATIONS).prefetch_related(revisions_prefetch())


#: Where :func:`current_assessments_prefetch` puts each commitment's current ratings.
CURRENT_ASSESSMENTS_ATTR = "current_assessment_list"


def current_assessments_prefetch(through: str = "") -> Prefetch:
    """Load each commitment's current ratings (one per rated obligor) with their evidence."""
    return Prefetch(
        f"{through}assessments",
        queryset=Assessment.objects.filter(current=True)
        .select_related("evidence__source", "author")
        .order_by("party_id"),
        to_attr=CURRENT_ASSESSMENTS_ATTR,
    )


def current_assessments(commitment: Commitment) -> list[Assessment]:
    """Return the commitment's current ratings, through the prefetch when there is one."""
    if hasattr(commitment, CURRENT_ASSESSMENTS_ATTR):
        return list(getattr(commitment, CURRENT_ASSESSMENTS_ATTR))
    return list(
        commitment.assessments.filter(current=True)
        .select_related("evidence__source", "author")
        .order_by("party_id")
    )


def assessment_history(*, commitment: Commitment) -> QuerySet[Assessment]:
    """Return every rating of the commitment, newest first, with evidence and author."""
    return commitment.assessments.select_related("evidence__source", "author", "party").order_by(
        "-assessed_on", "-id"
    )


def commitment_list() -> QuerySet[Commitment]:
    """Return every commitment by due date, with what a list or detail row shows loaded."""
    prefetches = [
        # Ratings (issue 13): the obligors and their current ratings.
        obligors_prefetch(),
        current_assessments_prefetch(),
        Prefetch("beneficiaries", queryset=Party.objects.order_by("name", "id")),
        Prefetch("citations", queryset=Citation.objects.select_related("source").order_by("id")),
        Prefetch(
            "progress_updates",
            queryset=ProgressUpdate.objects.select_related(
                "evidence__source", "author", "occurrence"
            ).order_by("-occurred_on", "-id"),
        ),
    ]
    return (
        # Rows name their agreement, obligor and anchor by id; the rule's words read the
        # agreement's date and the anchor's title and fulfilment.
        with_deadline_explanation(Commitment.objects.select_related("owner", "obligor"))
        .prefetch_related(*prefetches)
        .order_by("due_date", "id")
    )


def occurrence_list(*, commitment: Commitment) -> QuerySet[Occurrence]:
    """Return a commitment's occurrences by number (none if it does not recur)."""
    return commitment.occurrences.order_by("sequence")


@dataclass(frozen=True, slots=True)
class RelatedCommitment:
    """Another commitment linked to the one being read, the link read from that one's side."""

    label: str | Promise
    commitment: Commitment


def commitment_related(*, commitment: Commitment) -> list[RelatedCommitment]:
    """Return the commitments linked to ``commitment``, each link once, read from its side.

    A link is stored from one commitment to another, and a symmetric one (related,
    reciprocal) is often stored from both ends (the seeds declare it on each side): read in
    both directions, such a pair would name the other commitment twice. A one-way link read
    from the commitment it points to reads backward ("superseded by").
    """
    relations = (
        CommitmentRelation.objects.filter(
            Q(from_commitment=commitment) | Q(to_commitment=commitment)
        )
        .select_related("from_commitment", "to_commitment")
        # The other commitment is shown by its title alone: not its fifty columns, whose
        # reading and compiling were a fifth of the commitment page's time.
        .only(
            "kind",
            "from_commitment",
            "to_commitment",
            *localized_columns("title", through="from_commitment__"),
            *localized_columns("title", through="to_commitment__"),
        )
        .order_by("kind", "id")
    )
    seen: set[tuple[int, str, bool]] = set()
    related = []
    for relation in relations:
        kind = RelationKind(relation.kind)
        backward = relation.to_commitment_id == commitment.pk and kind in RELATION_READ_BACKWARD
        other = (
            relation.from_commitment
            if relation.to_commitment_id == commitment.pk
            else relation.to_commitment
        )
        if (other.pk, kind, backward) in seen:
            continue
        seen.add((other.pk, kind, backward))
        label = RELATION_READ_BACKWARD[kind] if backward else kind.label
        related.append(RelatedCommitment(label=label, commitment=other))
    return related


# Timeliness of fulfilment (issue 12).


def fulfilment_timing_counts(queryset: QuerySet[Commitment] | None = None) -> dict[str, int]:
    """Return how many fulfilled commitments were on time, after an extension, or late.

    One query; every timing is a key, zero when none has it.
    """
    rows = queryset if queryset is not None else Commitment.objects.all()
    return rows.aggregate(**fulfilment_timing_tally())


def fulfilment_timing_tally() -> dict[str, Count]:
    """Return the conditional counts behind :func:`fulfilment_timing_counts`, one per timing,
    for a page that adds them to an aggregate of its own (the overview counts in one scan)."""
    return {
        timing.value: Count("id", filter=Q(fulfilment_timing=timing.value))
        for timing in FulfilmentTiming
    }


class TableCommitment(Protocol):
    """What a compliance table reads of a commitment: a :class:`Commitment` (the obligors
    loaded) or a :class:`CommitmentBrief`."""

    @property
    def pk(self) -> Any: ...

    @property
    def obligor_list(self) -> list[Party]: ...


#: The commitments of a table: model instances, or the briefs of the agreement's page.
C = TypeVar("C", bound=TableCommitment)


@dataclass(slots=True)
class ComplianceRow(Generic[C]):
    """One obligor of one commitment, with its rating as of the table's date (or none).

    Not frozen, as the briefs it holds (:class:`CommitmentBrief`): a table builds one per row.
    """

    commitment: C
    party: Party
    assessment: AssessmentBrief | None

    @property
    def rating(self) -> str:
        """Return the rating's value; ``"not_rated"`` when nobody had rated the row."""
        return self.assessment.rating if self.assessment else Rating.NOT_RATED.value

    @property
    def score(self) -> int | None:
        return assessment_score(self.rating)


@dataclass
class PartyCompliance(Generic[C]):
    """One obligor's rows of a compliance table, with their tally (average over scored rows)."""

    party: Party
    rows: list[ComplianceRow[C]]

    @cached_property
    def tally(self) -> Tally:
        """Return the rows' tally, counted once (the table's footer and both charts read it)."""
        return Tally.of(row.rating for row in self.rows)


@dataclass
class ComplianceTable(Generic[C]):
    """An agreement's compliance: each commitment × obligor, by party, as of a date.

    ``as_of`` ``None`` is today's table (the current ratings).
    """

    agreement: Agreement
    as_of: dt.date | None
    rows: list[ComplianceRow[C]]

    @cached_property
    def parties(self) -> list[PartyCompliance[C]]:
        """Return the rows grouped by obligor, in the order parties first appear."""
        table: dict[int, PartyCompliance[C]] = {}
        for row in self.rows:
            table.setdefault(row.party.pk, PartyCompliance(row.party, [])).rows.append(row)
        return list(table.values())

    @cached_property
    def tally(self) -> Tally:
        """Return every row's tally, counted once."""
        return Tally.of(row.rating for row in self.rows)


#: The order of a commitment's other obligors (:attr:`Commitment.obligor_list` sorts them so).
OBLIGORS_ORDER = ("name", "id")


def obligors_prefetch(through: str = "") -> Prefetch:
    """Load each commitment's other obligors, by name, in one query."""
    return Prefetch(f"{through}co_obligors", queryset=Party.objects.order_by(*OBLIGORS_ORDER))


def _machine_translations() -> Cast:
    """Return a row's ``machine_translations`` as the briefs read them: the empty object, which
    most rows hold, as NULL (the brief holds ``{}``), so that only actual translations cost a
    JSON decoding, the most expensive column of a thousand rows to read; as text, decoded by
    :func:`_translations`, so that the column needs no converter (a JSON field's runs on every
    row, NULL or not, and is the only one a brief's row has on PostgreSQL)."""
    return Cast(NullIf("machine_translations", Value({}, output_field=JSONField())), TextField())


def _translations(text: str | None) -> dict[str, dict[str, str]]:
    """Return the machine translations :func:`_machine_translations` read (``{}`` for NULL)."""
    return json.loads(text) if text else {}


#: The rating fields an :class:`AssessmentBrief` holds, in its order, before its machine
#: translations and its evidence.
ASSESSMENT_BRIEF_FIELDS = (
    "pk",
    "commitment_id",
    "party_id",
    "rating",
    "assessed_on",
    "reviewed_on",
    "justification",
    "justification_fr",
)


def _model_order(model: type[Any], names: set[str]) -> tuple[str, ...]:
    """Return ``names`` (attribute names) in the model's field order, as ``from_db`` reads
    the values of an instance with deferred fields."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)


#: What the tables, the API and the reports show of a rating's evidence: the citation's and
#: its source's fields (``None`` throughout for a rating without evidence).
EVIDENCE_FIELDS = _model_order(Citation, {"id", "source_id", "quote", "locator"})
EVIDENCE_SOURCE_FIELDS = _model_order(Source, {"id", "title", "url", "published_on", "language"})


@dataclass(slots=True)
class AssessmentBrief:
    """A rating as the compliance tables hold it: what the pages, the API and the reports
    show of it, and its evidence.

    Read by :func:`assessments_as_of` from plain rows, without building a model instance per
    rating: a table holds one rating per commitment and obligor. Its evidence is a
    :class:`Citation` with its :class:`Source`, holding the fields in
    :data:`EVIDENCE_FIELDS` and :data:`EVIDENCE_SOURCE_FIELDS`. It reads as a rating to the
    helpers the sections share (``localized``).

    Not frozen, as :class:`CommitmentBrief` (see there why).
    """

    #: The translated fields (``localized``) are the rating's.
    _meta: ClassVar[Options[Assessment]] = Assessment._meta

    pk: int
    commitment_id: int
    party_id: int
    rating: str
    assessed_on: dt.date
    reviewed_on: dt.date
    justification: str
    justification_fr: str
    machine_translations: dict[str, dict[str, str]]
    evidence: Citation | None


def _evidence(db: str, values: Sequence[Any]) -> Citation | None:
    """Return the citation (with its source) that ``values`` hold, or None if there is none."""
    if values[0] is None:
        return None
    cited = len(EVIDENCE_FIELDS)
    citation = Citation.from_db(db, EVIDENCE_FIELDS, values[:cited])
    citation.source = Source.from_db(db, EVIDENCE_SOURCE_FIELDS, values[cited:])
    return citation


def assessments_as_of(
    *,
    commitments: QuerySet[Commitment] | None = None,
    as_of: dt.date | None,
    with_evidence: bool = True,
) -> list[AssessmentBrief]:
    """Return each (commitment, obligor)'s rating as it stood at the end of ``as_of``.

    That is the latest rating dated on or before ``as_of`` (by date, then entry): reproduced
    from the history, so a rating recorded later with a later date changes nothing. ``None``
    gives the current ratings. One query, with the evidence and its source unless
    ``with_evidence`` is false (then every ``evidence`` is None), in no order.
    """
    # In no order (the readers look the ratings up by pair): the model's order joins the
    # commitment and the party only to sort.
    rows = Assessment.objects.order_by()
    if commitments is not None:
        rows = rows.filter(commitment__in=commitments.values("pk"))
    if as_of is None:
        rows = rows.filter(current=True)
    else:
        later = Assessment.objects.filter(
            commitment=OuterRef("commitment"),
            party=OuterRef("party"),
            assessed_on__lte=as_of,
        ).filter(
            Q(assessed_on__gt=OuterRef("assessed_on"))
            | Q(assessed_on=OuterRef("assessed_on"), pk__gt=OuterRef("pk"))
        )
        rows = rows.filter(assessed_on__lte=as_of).exclude(Exists(later))
    brief: Any = AssessmentBrief  # built from rows of its fields, in their order
    own, db = len(ASSESSMENT_BRIEF_FIELDS), rows.db
    if not with_evidence:
        return [
            brief(*row[:own], _translations(row[own]), None)
            for row in rows.values_list(*ASSESSMENT_BRIEF_FIELDS, _machine_translations())
        ]
    return [
        brief(*row[:own], _translations(row[own]), _evidence(db, row[own + 1 :]))
        for row in rows.values_list(
            *ASSESSMENT_BRIEF_FIELDS,
            _machine_translations(),
            *(f"evidence__{name}" for name in EVIDENCE_FIELDS),
            *(f"evidence__source__{name}" for name in EVIDENCE_SOURCE_FIELDS),
        )
    ]


#: The compliance table's order of an agreement's commitments: by due date, undated last,
#: then entry.
COMPLIANCE_ORDER = (F("due_date").asc(nulls_last=True), "id")

#: The commitment fields a :class:`CommitmentBrief` holds, besides its obligors.
BRIEF_FIELDS = (
    "key",
    "title",
    "title_fr",
    "machine_translations",
    "status",
    "due_date",
    "due_precision",
    "deadline_state",
    "effective_from",
    "fulfilled_on",
    *(name for _, name in TIMELINE_STAGES),
)


@dataclass(slots=True)
class CommitmentBrief:
    """What a compliance table and the agreement pages show of one commitment, with its
    obligors.

    Read by :func:`compliance_briefs` from plain rows, without building a model instance per
    commitment (and one per obligor): the compliance table's rows hold it, and the agreement
    pages (dashboard and public) show these fields in their list, timeline and tables and
    nothing else; the API's and the reports' rows name its key and title. It reads as a
    commitment to the helpers those sections share (``localized``, ``stage_dates``).

    Not frozen: a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``, six times the cost of a plain one (2 ms of the agreement page's
    thousand briefs); nothing changes a brief after it is read, and with its list and dict
    fields it was never hashable.
    """

    #: The translated fields (``localized``) are the commitment's.
    _meta: ClassVar[Options[Commitment]] = Commitment._meta

    pk: int
    key: str
    title: str
    title_fr: str
    machine_translations: dict[str, dict[str, str]]
    status: str
    due_date: dt.date | None
    due_precision: str
    deadline_state: str
    effective_from: dt.date | None
    fulfilled_on: dt.date | None
    announced_on: dt.date | None
    signed_on: dt.date | None
    in_force_on: dt.date | None
    ended_on: dt.date | None
    obligor_id: int
    #: Every party the commitment binds, as :attr:`Commitment.obligor_list` orders them.
    obligor_list: list[Party]

    @property
    def obligor(self) -> Party:
        return self.obligor_list[0]

    def get_status_display(self) -> str:
        return str(Status(self.status).label)


def compliance_briefs(agreement: Agreement) -> list[CommitmentBrief]:
    """Return the agreement's commitments as :class:`CommitmentBrief`, in the compliance
    table's order (:data:`COMPLIANCE_ORDER`).

    Two queries whatever the number of commitments, as many as the commitments with their
    obligors loaded: the commitments' fields, one row for each of their other obligors (a
    commitment shared by two more parties comes in two adjacent rows), and the parties they
    name, one instance each.
    """
    # Plain tuples in the brief's order, the machine translations in their place; the last
    # two columns, the obligor and one other obligor, make its list of obligors.
    translated = 1 + BRIEF_FIELDS.index("machine_translations")
    rows = agreement.commitments.order_by(*COMPLIANCE_ORDER).values_list(
        "pk",
        *(
            _machine_translations() if name == "machine_translations" else name
            for name in BRIEF_FIELDS
        ),
        "obligor_id",
        "co_obligors",
    )
    links = Commitment.co_obligors.through.objects.filter(commitment__agreement=agreement)
    named = Q(pk__in=agreement.commitments.order_by().values("obligor_id"))
    parties = {
        party.pk: party
        for party in Party.objects.filter(named | Q(pk__in=links.values("party_id")))
    }
    fields: dict[int, tuple[Any, ...]] = {}
    others: dict[int, list[Party]] = {}
    for row in rows:
        pk, obligor, shared = row[0], row[-2], row[-1]
        if pk not in fields:
            fields[pk] = row
        if shared is not None and shared != obligor:
            others.setdefault(pk, []).append(parties[shared])
    for shared_by in others.values():
        shared_by.sort(key=lambda party: (party.name, party.pk))
    brief: Any = CommitmentBrief  # built from rows of its fields, in their order
    return [
        brief(
            *row[:translated],
            _translations(row[translated]),
            *row[translated + 1 : -1],
            [parties[row[-2]], *others.get(pk, ())],
        )
        for pk, row in fields.items()
    ]


@overload
def compliance_table(
    *,
    agreement: Agreement,
    as_of: dt.date | None = None,
    commitments: None = None,
    with_evidence: bool = True,
) -> ComplianceTable[CommitmentBrief]: ...


@overload
def compliance_table(
    *,
    agreement: Agreement,
    as_of: dt.date | None = None,
    commitments: Sequence[C],
    with_evidence: bool = True,
) -> ComplianceTable[C]: ...


def compliance_table(
    *,
    agreement: Agreement,
    as_of: dt.date | None = None,
    commitments: Sequence[Any] | None = None,
    with_evidence: bool = True,
) -> ComplianceTable[Any]:
    """Return the agreement's compliance table as of the end of ``as_of`` (or today).

    Three queries whatever the number of commitments: the commitments as briefs
    (:func:`compliance_briefs`), the parties they bind, and the ratings as of the date. The
    obligors are today's. ``commitments``, if given, are the agreement's in the table's order
    (:data:`COMPLIANCE_ORDER`) with their obligors loaded, such as the briefs already read:
    then only the ratings are queried, and the rows hold them. ``with_evidence`` false reads
    the ratings without their evidence (:func:`assessments_as_of`), for a reader that does
    not show it.
    """
    if commitments is None:
        commitments = compliance_briefs(agreement)
    ratings = {
        (a.commitment_id, a.party_id): a
        for a in assessments_as_of(
            commitments=agreement.commitments.all(), as_of=as_of, with_evidence=with_evidence
        )
    }
    return _compliance_rows(agreement, as_of, commitments, ratings)


def _compliance_rows(
    agreement: Agreement,
    as_of: dt.date | None,
    commitments: Sequence[C],
    ratings: dict[tuple[int, int], AssessmentBrief],
) -> ComplianceTable[C]:
    """Return the table's rows: each commitment × each of its obligors, with its rating."""
    rows = [
        ComplianceRow(commitment, party, ratings.get((commitment.pk, party.pk)))
        for commitment in commitments
        for party in commitment.obligor_list
    ]
    return ComplianceTable(agreement, as_of, rows)


def _table(model: Any) -> str:
    return f'"{model._meta.db_table}"'


#: The agreement's commitments and the citations of the agreement or of its commitments, each
#: row's id with its version (``xmin``, ``cmin``), read once for their own rows and for those
#: of the tables that hang on them (``%s``: the agreement's id).
_AGREEMENT_CTES = (
    f"agreement_commitments AS MATERIALIZED (SELECT id, xmin, cmin FROM {_table(Commitment)}"  # noqa: S608
    " WHERE agreement_id = %s)",
    f"agreement_citations AS MATERIALIZED (SELECT id, xmin, cmin, source_id FROM"  # noqa: S608
    f" {_table(Citation)} WHERE agreement_id = %s"
    " OR commitment_id IN (SELECT id FROM agreement_commitments))",
)

#: The rows the agreement page's sections show (its facts, timeline, compliance tables,
#: charts, commitments and sources), for :func:`agreement_rows_version`: each table with where
#: one agreement's rows are read (``%s``: the agreement's id; the common tables above). Every
#: party is in: the sections name them, and a party's rows are few.
AGREEMENT_ROWS: tuple[tuple[Any, str], ...] = (
    (Agreement, f"{_table(Agreement)} WHERE id = %s"),
    (Agreement.parties.through, f"{_table(Agreement.parties.through)} WHERE agreement_id = %s"),
    (Commitment, "agreement_commitments"),
    (
        Commitment.co_obligors.through,
        f"{_table(Commitment.co_obligors.through)}"  # noqa: S608
        " WHERE commitment_id IN (SELECT id FROM agreement_commitments)",
    ),
    (
        Assessment,
        f"{_table(Assessment)} WHERE commitment_id IN (SELECT id FROM agreement_commitments)",  # noqa: S608
    ),
    (Citation, "agreement_citations"),
    (Source, f"{_table(Source)} WHERE id IN (SELECT source_id FROM agreement_citations)"),  # noqa: S608
    (Party, _table(Party)),
)


@functools.cache
def _rows_version_sql() -> tuple[str, int]:
    """Return :func:`agreement_rows_version`'s statement and how many times it names the id."""
    rows = "string_agg(id || ':' || xmin || ':' || cmin, ',')"
    parts = [f"coalesce((SELECT {rows} FROM {read}), '')" for _, read in AGREEMENT_ROWS]  # noqa: S608
    sql = f"WITH {', '.join(_AGREEMENT_CTES)} SELECT md5(concat_ws('|', {', '.join(parts)}))"
    return sql, sum(text.count("%s") for text in (*_AGREEMENT_CTES, *dict(AGREEMENT_ROWS).values()))


def agreement_rows_version(agreement_id: int, *, using: str = "default") -> str | None:
    """Return a version of the rows in :data:`AGREEMENT_ROWS` for one agreement, or None
    where the database cannot tell one (SQLite).

    PostgreSQL marks every row version it writes with the writing transaction's id (``xmin``)
    and the number of the statement within it (``cmin``: a row updated twice by one
    transaction gets two), so the rows' ids with these two name exactly the row versions a
    reader sees. Any insert, update or delete that has committed since, or that the reader's
    own transaction made, changes the version, whoever wrote it (the ORM, a bulk import, the
    scan's raw ``UPDATE``, the shell); so may a change rolled back (a miss, never a stale
    page). The rows are aggregated in the order read: another order is another version (a
    miss), never the same one for other rows. One statement, prepared once per connection
    (its plan does not depend on the agreement).
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    sql, times = _rows_version_sql()
    with prepared_cursor(connection, bound=True) as cursor:
        cursor.execute(sql, [agreement_id] * times)
        return str(cursor.fetchone()[0])


def compliance_parties(*, agreement: Agreement) -> list[Party]:
    """Return the parties of the agreement's compliance table, in the table's order.

    Two queries (the commitments and their obligors), no ratings: for a reader that needs
    the table's parties but not its rows.
    """
    table = _compliance_rows(agreement, None, compliance_briefs(agreement), {})
    return [entry.party for entry in table.parties]


# Compliance compared between two dates, and frozen reports (issue 13, items 5 and 6) ------


@dataclass(frozen=True)
class ComplianceChange(Generic[C]):
    """One obligor of one commitment whose rating differs between two dates.

    ``before`` and ``after`` are the ratings that stood at the end of each date (``None``
    where nobody had rated the row); ``after`` carries the why: its justification, evidence
    and date.
    """

    commitment: C
    party: Party
    before: AssessmentBrief | None
    after: AssessmentBrief | None

    @property
    def rating_before(self) -> str:
        return self.before.rating if self.before else Rating.NOT_RATED.value

    @property
    def rating_after(self) -> str:
        return self.after.rating if self.after else Rating.NOT_RATED.value


def compliance_changes(*, table: ComplianceTable[C], since: dt.date) -> list[ComplianceChange[C]]:
    """Return the rows of ``table`` whose rating differs from the one at the end of ``since``.

    ``table`` is the later state (as of its date, or today); one more query reads the ratings
    as of ``since``. Rows keep the table's order.
    """
    earlier = {
        (a.commitment_id, a.party_id): a
        for a in assessments_as_of(
            commitments=table.agreement.commitments.all(), as_of=since, with_evidence=False
        )
    }
    changes = []
    for row in table.rows:
        before = earlier.get((row.commitment.pk, row.party.pk))
        change = ComplianceChange(row.commitment, row.party, before, row.assessment)
        if change.rating_before != change.rating_after:
            changes.append(change)
    return changes


@dataclass(frozen=True)
class ReportLine:
    """One row of a frozen report read with its corrections: the frozen text and what stands.

    ``rating``, ``justification`` and ``evidence`` are the effective values (the latest
    correction's, else the frozen text); ``corrections`` are the row's, oldest first, each
    keeping the text it replaced.
    """

    row: ReportRow
    corrections: list[ReportCorrection]

    def _latest(self, field: str, frozen: str) -> str:
        values = [c.new_value for c in self.corrections if c.field == field]
        return values[-1] if values else frozen

    @property
    def rating(self) -> str:
        return self._latest(ReportCorrection.Field.RATING, self.row.rating or Rating.NOT_RATED)

    @property
    def score(self) -> int | None:
        return assessment_score(self.rating)

    @property
    def justification(self) -> str:
        return self._latest(ReportCorrection.Field.JUSTIFICATION, self.row.justification)

    @property
    def evidence(self) -> str:
        return self._latest(ReportCorrection.Field.EVIDENCE, self.row.evidence_quote)

    @property
    def corrected(self) -> bool:
        return bool(self.corrections)


@dataclass
class ReportParty:
    """One obligor's lines of a report, with the tally of their effective ratings."""

    party_name: str
    lines: list[ReportLine]

    @property
    def tally(self) -> Tally:
        return Tally.of(line.rating for line in self.lines)


@dataclass
class ReportReading:
    """A frozen report as it reads today: its rows with the corrections beside the old text."""

    report: Report
    lines: list[ReportLine]
    report_corrections: list[ReportCorrection]

    @property
    def parties(self) -> list[ReportParty]:
        """Return the lines grouped by obligor, in the order parties first appear."""
        table: dict[str, ReportParty] = {}
        for line in self.lines:
            name = line.row.party_name
            table.setdefault(name, ReportParty(name, [])).lines.append(line)
        return list(table.values())

    @property
    def tally(self) -> Tally:
        return Tally.of(line.rating for line in self.lines)

    @property
    def corrections(self) -> list[ReportCorrection]:
        """Return every correction of the report, oldest first: the corrections log."""
        rows = [c for line in self.lines for c in line.corrections]
        return sorted([*rows, *self.report_corrections], key=lambda c: (c.corrected_on, c.pk))

    @property
    def sources(self) -> list[tuple[str, str, dt.date | None]]:
        """Return the sources the rows cite (title, URL, date), once each, by title."""
        cited = {
            (line.row.source_title, line.row.source_url, line.row.source_published_on)
            for line in self.lines
            if line.row.source_title
        }
        return sorted(cited, key=lambda source: (source[0], source[1]))


def report_list(*, agreement: Agreement) -> QuerySet[Report]:
    """Return the agreement's reports, latest cut-off first, with who froze them."""
    return (
        Report.objects.filter(agreement=agreement)
        .select_related("created_by")
        .annotate(correction_count=Count("corrections"))
        .order_by("-cutoff", "-id")
    )


def report_reading(*, report: Report) -> ReportReading:
    """Return ``report`` with each row's effective values and its corrections, in two queries."""
    corrections: dict[int | None, list[ReportCorrection]] = {}
    for correction in report.corrections.select_related("author", "row").order_by(
        "corrected_on", "id"
    ):
        corrections.setdefault(correction.row_id, []).append(correction)
    lines = [ReportLine(row, corrections.get(row.pk, [])) for row in report.rows.all()]
    return ReportReading(report, lines, corrections.get(None, []))


def scale_records() -> list[dict[str, Any]]:
    """Return the rating scale as plain records: what a report keeps of the method it used.

    Labels and texts are the untranslated words of :data:`commitments.assessment.SCALE`;
    pages translate them when they show them.
    """
    return [
        {
            "rating": rule.rating.value,
            "label": rule.label,
            "score": rule.score,
            "judged": rule.judged,
            "meaning": rule.meaning,
            "why_unscored": rule.why_unscored,
        }
        for rule in SCALE
    ]


@dataclass(frozen=True)
class Methodology:
    """What the methodology page states, every number read from the code that applies it."""

    scale: list[dict[str, Any]]
    score_min: int
    score_max: int
    tolerance_points: Decimal
    review_after_days: int
    example: list[str]
    example_tally: Tally

    @property
    def judged(self) -> list[dict[str, Any]]:
        return [rule for rule in self.scale if rule["judged"]]

    @property
    def unscored(self) -> list[dict[str, Any]]:
        return [rule for rule in self.scale if rule["score"] is None]

    @property
    def judged_labels(self) -> str:
        """Return the judged ratings' labels in the reader's language, comma-separated."""
        return ", ".join(str(gettext(rule["label"])) for rule in self.judged)


def methodology(scale: list[dict[str, Any]] | None = None) -> Methodology:
    """Return the method as the code applies it today (or with a report's kept ``scale``)."""
    example = [Rating.KEPT, Rating.KEPT, Rating.BROKEN, Rating.NOT_VERIFIABLE]
    return Methodology(
        scale=scale if scale is not None else scale_records(),
        score_min=SCORE_MIN,
        score_max=SCORE_MAX,
        tolerance_points=(TOLERANCE * 100).normalize(),
        review_after_days=review_after_days(),
        example=[rating.value for rating in example],
        example_tally=Tally.of(example),
    )


# Publishing (issue 15) ------------------------------------------------------------------------

#: How many of an agreement's publication steps its page shows.
PUBLICATION_EVENTS_SHOWN = 5


def publication_events(
    *, agreement: Agreement, limit: int | None = PUBLICATION_EVENTS_SHOWN
) -> list[PublicationEvent]:
    """Return the agreement's latest publication steps, newest first, with who took them."""
    rows = agreement.publication_events.select_related("user").order_by("-at", "-id")
    return list(rows[:limit] if limit is not None else rows)


def agreements_awaiting_review() -> QuerySet[Agreement]:
    """Return the agreements in review, longest waiting first.

    Each carries ``submitted_at`` and ``submitted_by`` (a username, or None) from its latest
    submission, in the one query.
    """
    submission = PublicationEvent.objects.filter(
        agreement_id=OuterRef("pk"), action=PublicationAction.SUBMIT
    ).order_by("-at", "-id")
    return (
        Agreement.objects.filter(publication_state=PublicationState.REVIEW)
        .annotate(
            submitted_at=Subquery(submission.values("at")[:1]),
            submitted_by=Subquery(submission.values("user__username")[:1]),
        )
        .order_by("submitted_at", "id")
    )
