"""The deadline scan: flag each commitment's deadline state, then write the alerts it raises.

A scan at ``now`` runs in one transaction:

1. open-ended recurring series are written up to the horizon
   (:func:`commitments.services.occurrences.occurrences_top_up`: one query when nothing is
   to do); the domain flags deadline states
   (:func:`commitments.services.deadline_states.deadline_states_flag`: set-based ``UPDATE``
   statements that move each commitment whose stored state is wrong and
   set ``flagged_at = now``), and the apps listening to the flags (webhooks' overdue events)
   write what they write; then the occurrences' states, by the same rules;
2. one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` writes the alert outbox rows, and one
   more the escalations, each run only if one small ``SELECT`` (asking for both) finds a due
   date for it to read.
   The unique constraints on :class:`~alerts.models.Alert` make every alert exist once,
   whatever the number of concurrent scans. A full scan's statements are compiled once per
   process (:mod:`core.statements`);
3. a full scan also flags the ratings whose last review is too old
   (:func:`commitments.services.assessments.review_due_flag`, set-based too) and writes one
   alert to each such commitment's owner per rating and review cycle
   (:mod:`alerts.services.reviews`).

A full scan that finds nothing to do is six waits for PostgreSQL, not one per statement
(there are twenty): statements whose inputs are known go together in one pipeline
(:func:`core.statements.statements_run`): the lock and the reads, each table's flags, the
reviews with the run's record; then the ``COMMIT``, which does not wait for the disk (see
:data:`_COMMIT_LAZILY`).

The states and their boundaries (``due_at`` is the end of the due day in the agreement's time
zone) are those of :mod:`commitments.querysets`; who watches a commitment is the rule of
:func:`alerts.selectors.watches_sql`.

Alerts are per due date: a non-recurring commitment has one, a recurring one has one per
occurrence (the alert's ``due_date`` is the occurrence's), so the unique key (recipient,
commitment, due date, threshold) holds one alert per occurrence and threshold; occurrence 2
alerts while occurrence 1 is fulfilled, and an overdue occurrence 1 and a due-soon occurrence
2 both alert.

Alerts: a lead time of ``d`` days is crossed once ``now >= due_at - d days`` (exact 24-hour
days back from the due instant, the boundary of ``Commitment.objects.due_within``), the overdue
notice (threshold 0) once ``now > due_at`` (``Commitment.objects.overdue``), the escalation
(threshold ``-N``, to ``TRACKER_ESCALATION_EMAIL``) once the commitment has been overdue for
more than ``TRACKER_ESCALATION_AFTER_DAYS`` days. Per recipient and commitment only the
tightest threshold crossed at ``now`` is written: after a three-week gap between scans a
watcher gets the 7-day notice, not also the 30-day one; once overdue, only the overdue notice.

Each full scan records itself as a :class:`~alerts.models.ScanRun`; the previous run's instant
is the watermark. A full scan writes only the thresholds crossed after it - each one's crossing
instant, ``due_at - d``, in ``(watermark, now]`` - and so reads only the commitments due in
those narrow windows (a scan with nothing new reads almost nothing; a scan after an outage
covers the whole outage). The first scan, and a scan restricted to ``commitment_ids`` (a status
or due-date change, a new commitment), consider every crossed threshold of their rows.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import reduce
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from alerts.models import (
    OVERDUE_LEAD,
    SKIPPED_NO_ADDRESS,
    Alert,
    AlertState,
    ScanRun,
    SubscriptionLead,
)
from alerts.selectors import tables, watches_sql
from alerts.services.reviews import review_alerts_batch
from commitments.choices import DeadlineState, RecurrenceKind
from commitments.models import Commitment, Occurrence
from commitments.querysets import TERMINAL_VALUES
from commitments.services.assessments import review_due_batch, review_zones
from commitments.services.deadline_states import (
    deadline_state_changes,
    deadline_states_flag,
    occurrence_states_flag,
)
from commitments.services.occurrences import occurrences_due_for_top_up_sql, occurrences_top_up
from core.statements import (
    Batch,
    QueryRead,
    batches_run,
    insert_sql,
    statement_compiled,
    statements_run,
)
from core.statistics import statistics_refresh

#: Key of the PostgreSQL advisory lock that serialises full scans (avoids lock-order deadlocks).
SCAN_LOCK_KEY = 7_301_554_261
#: The deadline states of the watched rows, once flagged.
WATCHED_STATES = [DeadlineState.ON_TRACK, DeadlineState.DUE_SOON, DeadlineState.OVERDUE]


@dataclass(frozen=True)
class ScanResult:
    """What one scan did: rows moved into each deadline state, and alert rows written."""

    now: dt.datetime
    flagged: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    escalations: int = 0
    #: Occurrences of recurring commitments moved into each deadline state.
    flagged_occurrences: dict[str, int] = field(default_factory=dict)
    #: Open-ended recurring commitments whose occurrences were written further ahead.
    topped_up: int = 0
    #: Current ratings newly flagged "review due", and flags cleared (full scans only).
    reviews: dict[str, int] = field(default_factory=dict)
    #: Review-due alerts written to the commitments' owners.
    review_alerts: int = 0
    #: The alerts were left to a rescan after the running full scan (``defer_alerts_if_busy``).
    alerts_deferred: bool = False

    @property
    def idle(self) -> bool:
        """Return whether the scan changed nothing: no flag, no row written (but its record)."""
        return not (
            self.changed
            or any(self.flagged_occurrences.values())
            or self.alerts
            or self.escalations
            or self.topped_up
            or any(self.reviews.values())
            or self.review_alerts
        )

    @property
    def changed(self) -> int:
        """Return the number of commitments whose deadline state changed."""
        return sum(self.flagged.values())

    def summary(self) -> str:
        """Return a one-line account of the scan for logs and commands."""
        moves = ", ".join(f"{state}: {count}" for state, count in self.flagged.items())
        return (
            (
                f"Scan at {self.now.isoformat()}: {self.changed} commitment(s) flagged ({moves}); "
                f"{self.alerts} alert(s) and {self.escalations} escalation(s) written."
            )
            + self._occurrences_summary()
            + self._reviews_summary()
        )

    def _reviews_summary(self) -> str:
        flagged, cleared = self.reviews.get("flagged", 0), self.reviews.get("cleared", 0)
        if not (flagged or cleared or self.review_alerts):
            return ""
        return (
            f" {flagged} rating(s) flagged for review, {cleared} cleared;"
            f" {self.review_alerts} review alert(s) written."
        )

    def _occurrences_summary(self) -> str:
        occurrences = sum(self.flagged_occurrences.values())
        if not occurrences and not self.topped_up:
            return ""
        return (
            f" {occurrences} occurrence(s) flagged; {self.topped_up} recurring series written"
            " further ahead."
        )


def scan(
    *,
    now: dt.datetime,
    commitment_ids: Sequence[int] | None = None,
    record: bool = True,
    defer_alerts_if_busy: bool = False,
) -> ScanResult:
    """Flag deadline states and write the alerts they raise, at ``now``, in one transaction.

    With ``commitment_ids``, look at those commitments only, considering every threshold they
    have crossed; otherwise scan everything from the last full scan's watermark and, unless
    ``record`` is false, record this run as the next watermark. A second scan at the same
    instant changes nothing.

    With ``defer_alerts_if_busy`` (a web request's rescan of the commitments it changed), when
    a full scan is running the flags are written now and the alerts left to a rescan after it
    (see :func:`_full_scan_running`): the result says ``alerts_deferred`` and counts no alerts.

    A full scan in a transaction of its own that writes nothing but its record does not wait
    for the record to reach the disk (see :data:`_COMMIT_LAZILY`).
    """
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        return _scan(
            now=now,
            commitment_ids=commitment_ids,
            record=record,
            defer_alerts_if_busy=defer_alerts_if_busy,
            own_transaction=own_transaction,
        )


def _scan(
    *,
    now: dt.datetime,
    commitment_ids: Sequence[int] | None,
    record: bool,
    defer_alerts_if_busy: bool,
    own_transaction: bool,
) -> ScanResult:
    """Do the work of :func:`scan`, in its transaction."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    ids = list(commitment_ids) if commitment_ids is not None else None
    if ids is not None and not ids:
        return ScanResult(now=now, flagged={})
    reads = _full_scan_reads(now=now) if ids is None else None
    if ids is not None and defer_alerts_if_busy and _full_scan_running():
        return _flags_now_alerts_later(now=now, commitment_ids=ids)
    # Flags before alerts: a status change locks its commitment, then rescans it (flag, the
    # flag listeners' rows, then alerts); taking the locks in that same order here, through
    # the same calls, means the two never deadlock.
    # Open-ended series first, so that the occurrences the horizon reaches are flagged now.
    topped_up = occurrences_top_up(now=now, due=reads.top_up) if reads is not None else []
    flagged = deadline_states_flag(now=now, commitment_ids=ids)
    flagged_occurrences = occurrence_states_flag(now=now, commitment_ids=ids)
    outbox = _Outbox(
        now=now,
        commitment_ids=ids,
        since=reads.since if reads is not None else None,
        leads_in_use=reads.leads if reads is not None else None,
    )
    alerts, escalations = outbox.write()
    # The mail sender claims pending rows by state and time: plan it on the outbox as it is.
    statistics_refresh(model=Alert, changed=alerts + escalations)
    result = ScanResult(
        now=now,
        flagged=flagged,
        alerts=alerts,
        escalations=escalations,
        flagged_occurrences=flagged_occurrences,
        topped_up=len(topped_up),
    )
    if reads is not None:
        # Ratings age by the calendar, not by a commitment's change: only full scans look.
        # Their statements and the run's record are sent together (one round trip).
        today = timezone.localdate(now)
        run = ScanRun(now=now, changed=result.changed, alerts=alerts, escalations=escalations)
        lazily = record and own_transaction and result.idle and connection.vendor == "postgresql"
        reviews, review_alerts, _recorded, durability = batches_run(
            review_due_batch(now=now, zones=reads.zones),
            review_alerts_batch(now=now, today=today),
            Batch(statements=[insert_sql(run)] if record else [], result=lambda ran: None),
            _COMMIT_LAZILY if lazily else Batch(statements=[], result=lambda ran: ""),
        )
        result = replace(result, reviews=reviews, review_alerts=review_alerts)
        if lazily and not result.idle:
            # The reviews wrote: commit as the server is configured to, after all.
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('synchronous_commit', %s, true)", [durability])
    return result


#: A full scan in a transaction of its own that changed nothing writes one row, its
#: :class:`~alerts.models.ScanRun`, and its commit waited for the WAL to reach the disk: 4.3 ms
#: (median, on the bench's server), as much as the rest of its work. Its commit need not wait
#: (``synchronous_commit`` off for this transaction only, PostgreSQL): the row is visible at
#: once and durable a fraction of a second later. A crash in between loses only that row,
#: which loses nothing: the next scan's watermark is then the run before, so it looks again
#: at a window found empty, and the scan's writes are idempotent. A scan that wrote anything
#: else (which a crash must not lose once a mail may have gone out for it) commits as the
#: server is configured to. The batch's result is the setting it replaced.
_COMMIT_LAZILY: Batch[str] = Batch(
    statements=[
        ("SELECT current_setting('synchronous_commit')", []),
        ("SELECT set_config('synchronous_commit', 'off', true)", []),
    ],
    result=lambda ran: str((ran[0].rows or [("on",)])[0][0]),
)


@dataclass(frozen=True)
class _FullScanReads:
    """What a full scan reads before it writes."""

    #: The open-ended series to write further ahead first
    #: (:func:`commitments.services.occurrences.occurrences_due_for_top_up`).
    top_up: list[int]
    #: The watermark: the instant of the last full scan, if any.
    since: dt.datetime | None
    #: The lead times subscriptions use.
    leads: frozenset[int]
    #: The agreements' time zones, for the ratings' review flags.
    zones: list[str]


def _full_scan_reads(*, now: dt.datetime) -> _FullScanReads:
    """Take the full scans' lock (PostgreSQL), then read what the scan needs before it writes.

    Full scans queue behind each other instead of racing for the same rows. The reads come
    after the lock is granted (each statement takes its snapshot then: the watermark is the
    last scan's, even one that held the lock a moment ago) and are sent with it
    (:func:`core.statements.statements_run`): one round trip, not five, for the scan that
    finds nothing to do.
    """
    lock = (
        [("SELECT pg_advisory_xact_lock(%s)", [SCAN_LOCK_KEY])]
        if connection.vendor == "postgresql"
        else []
    )
    last_run = QueryRead(ScanRun.objects.values_list("now")[:1])
    leads = QueryRead(_leads_in_use().values_list("days"))
    zones = QueryRead(review_zones())
    *_, top_up, last_ran, leads_ran, zones_ran = statements_run(
        [
            *lock,
            occurrences_due_for_top_up_sql(now=now),
            last_run.statement,
            leads.statement,
            zones.statement,
        ]
    )
    last = last_run.rows(last_ran)
    return _FullScanReads(
        top_up=[pk for (pk,) in top_up.rows or []],
        since=last[0][0] if last else None,
        leads=frozenset(days for (days,) in leads.rows(leads_ran)),
        zones=[zone for (zone,) in zones.rows(zones_ran)],
    )


def _leads_in_use() -> QuerySet[SubscriptionLead]:
    """Return the lead times subscriptions use (each once), as a queryset of lead rows."""
    return SubscriptionLead.objects.order_by().distinct()


def _full_scan_running() -> bool:
    """Return whether a full scan holds the scan lock; if not, keep full scans out until commit.

    A full scan writes its whole outbox in one transaction (a first scan: every alert, for
    seconds or minutes). A rescan inserting one of the same alert keys waits on the unique
    index until that transaction ends; in a web request that wait is the request's time. The
    shared lock, taken without waiting, tells the two apart: held, no full scan can start
    before this transaction commits, so the rescan writes its alerts without meeting one.
    """
    if connection.vendor != "postgresql":
        # SQLite has one writer at a time: a full scan and a request never overlap there.
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s)", [SCAN_LOCK_KEY])
        (free,) = cursor.fetchone()
    return not free


def _flags_now_alerts_later(*, now: dt.datetime, commitment_ids: list[int]) -> ScanResult:
    """Flag these commitments now; have their alerts written once the running full scan ends.

    The flags touch only the caller's own rows, which it holds already. The alerts are left to
    the caller (the hook's listener enqueues ``alerts.scan_deadlines(commitment_ids)`` on
    commit): the full scan's snapshot may predate this change, so the rescan must run after
    it, and a worker may wait for it where a request should not.
    """
    flagged = deadline_states_flag(now=now, commitment_ids=commitment_ids)
    flagged_occurrences = occurrence_states_flag(now=now, commitment_ids=commitment_ids)
    return ScanResult(
        now=now, flagged=flagged, flagged_occurrences=flagged_occurrences, alerts_deferred=True
    )


@dataclass(frozen=True)
class ScanPreview:
    """What a scan at ``now`` would do, for ``scan_deadlines --dry-run``."""

    result: ScanResult
    changes: list[tuple[str, str, str, dt.date | None]]
    alerts: list[Alert]


def scan_preview(*, now: dt.datetime) -> ScanPreview:
    """Run a scan at ``now`` and roll it back; return the state changes and alerts it made.

    ``changes`` lists ``(key, old state, new state, due date)``; ``alerts`` are unsaved
    copies of the rows the scan wrote before the rollback.
    """
    with transaction.atomic():
        changes = sorted(
            (key, old, state, due_date)
            for state, rows in deadline_state_changes(now=now).items()
            for key, old, due_date in rows.values_list("key", "deadline_state", "due_date")
        )
        last_id = Alert.objects.aggregate(last=Max("pk"))["last"] or 0
        result = scan(now=now)
        alerts = list(
            Alert.objects.filter(pk__gt=last_id, created=now)
            .select_related("user", "commitment", "assessment__party")
            .order_by("commitment__key", "threshold", "email")
        )
        transaction.set_rollback(True)
    return ScanPreview(result=result, changes=changes, alerts=alerts)


#: Alert columns the outbox statements fill, in order.
_ALERT_COLUMNS = (
    "user_id, email, commitment_id, due_date, threshold, digest, state, attempts, last_error,"
    " next_attempt_at, sent_at, created"
)

# WITH sits inside the INSERT: Python's sqlite3 only counts the rows of a statement that starts
# with INSERT. ``edges`` holds each lead time in use with the instant ``now + days`` up to which
# a due instant has crossed it (and ``since``, the same for the watermark); ``dues`` is
# compiled from ``Commitment.objects`` (non-recurring commitments) UNION ALL
# ``Occurrence.objects`` (the occurrences of recurring ones), one row per due date;
# ``candidates`` the commitments among them; ``watches`` is the watch rule of alerts.selectors;
# ``crossed`` keeps, per recipient, commitment and due date (one occurrence), the tightest lead
# crossed now (0, the overdue
# notice, once overdue: ``due_at < now``; d > 0 once due within d days: ``now <= due_at <=
# now + d``) and whether every matching rule is digest; ``{newly}`` keeps it only if it was not
# already crossed at the watermark.
_ALERTS_INSERT = (
    "INSERT INTO {alert} ({columns})"
    " WITH edges ({edge_columns}) AS ({edges}),"
    " dues (id, agreement_id, obligor_id, owner_id, due_date, due_at) AS ({candidates}),"
    " candidates (id, agreement_id, obligor_id, owner_id) AS"
    " (SELECT DISTINCT id, agreement_id, obligor_id, owner_id FROM dues),"
    " watches (user_id, commitment_id, days, digest) AS ({watches}),"
    " crossed AS (SELECT w.user_id, w.commitment_id, c.due_date, MIN(w.digest) AS digest,"
    " MIN(CASE WHEN (w.days = 0 AND c.due_at < %s)"
    " OR (w.days > 0 AND c.due_at >= %s AND c.due_at <= e.edge) THEN w.days END) AS threshold"
    " FROM watches w JOIN dues c ON c.id = w.commitment_id"
    " JOIN edges e ON e.days = w.days GROUP BY w.user_id, w.commitment_id, c.due_date)"
    " SELECT x.user_id, COALESCE(u.email, ''), c.id, c.due_date, x.threshold, x.digest = 1,"
    " CASE WHEN COALESCE(u.email, '') = '' THEN %s ELSE %s END, 0,"
    " CASE WHEN COALESCE(u.email, '') = '' THEN %s ELSE '' END,"
    " CASE WHEN COALESCE(u.email, '') = '' THEN NULL ELSE %s END, NULL, %s"
    " FROM crossed x JOIN dues c ON c.id = x.commitment_id AND c.due_date = x.due_date"
    " JOIN edges t ON t.days = x.threshold JOIN {user} u ON u.id = x.user_id"
    " WHERE {newly}"
    # Rows go in in one order, the same in every scan: a full scan and a status change's
    # rescan may insert the same keys at once, and two inserts that meet on the unique index
    # wait on each other only ever in the same order, so they cannot deadlock. That order is
    # by commitment first: the recipients of one commitment's alert get consecutive ids, so
    # a sender's run, which takes them by id, writes that mail's words once for them all
    # rather than once per recipient (alerts.services.mail).
    " ORDER BY c.id, c.due_date, x.user_id, x.threshold"
    " ON CONFLICT DO NOTHING"
)

_NEWLY_CROSSED = (
    "((x.threshold = 0 AND c.due_at >= t.since) OR (x.threshold > 0 AND c.due_at > t.since))"
)

_ESCALATIONS_INSERT = (
    "INSERT INTO {alert} ({columns})"
    " SELECT NULL, %s, c.id, c.due_date, %s, %s, %s, 0, '', %s, NULL, %s"
    " FROM ({candidates}) c"
    " ORDER BY c.id"
    " ON CONFLICT DO NOTHING"
)


class _Outbox:
    """The two outbox statements of one scan, in portable SQL.

    Hand-written rather than compiled from the ORM: the statement is an ``INSERT ... SELECT``
    over a union of watch rules, grouped per recipient, with ``ON CONFLICT DO NOTHING`` - none
    of which the ORM can express. The commitments it reads are compiled from
    ``Commitment.objects`` (:mod:`commitments.querysets`), so their filters are the domain's
    and match its partial indexes. It stays portable between PostgreSQL and SQLite because
    all time arithmetic is done in Python: the SQL only compares stored instants with
    parameters (``now + d days`` and ``watermark + d days`` for each lead time ``d`` in use,
    given as a small derived table), so no vendor-specific interval syntax is needed. Only
    table names (from model metadata), compiled querysets and placeholders are formatted
    into the templates; every value is a parameter.
    """

    def __init__(
        self,
        *,
        now: dt.datetime,
        commitment_ids: list[int] | None,
        since: dt.datetime | None,
        leads_in_use: frozenset[int] | None = None,
    ) -> None:
        self.now = now
        self.commitment_ids = commitment_ids
        self.since = since
        #: The lead times subscriptions use, if the caller has read them (else read here).
        self.leads_in_use = leads_in_use
        self.ops = connection.ops
        self.tables = {
            **tables(),
            "alert": self.ops.quote_name(Alert._meta.db_table),
            "columns": _ALERT_COLUMNS,
        }

    def _instant(self, value: dt.datetime) -> Any:
        return self.ops.adapt_datetimefield_value(value)

    def _rows(self, *, watched_states: bool = True) -> tuple[Any, Any]:
        """Return the watched due dates (those of ``commitment_ids``), in two querysets.

        Without ``watched_states`` the occurrences' filter on their deadline state is left to
        the caller (who puts it in each window: see :meth:`_alert_dues`).

        The non-recurring commitments whose deadline is watched, and the watched occurrences
        of the open recurring ones (a recurring commitment's own row only mirrors its next
        occurrence): each due date once, filtered alike, then united by :meth:`_union`.
        """
        plain = Commitment.objects.watched().filter(recurrence=RecurrenceKind.NONE)
        occurrences = Occurrence.objects.watched().filter(
            ~Q(commitment__recurrence=RecurrenceKind.NONE),
            ~Q(commitment__status__in=TERMINAL_VALUES),
        )
        if watched_states:
            # Implied (the scan flagged them first, at the same instant): lets the reads use
            # the partial index ``occurrence_open_state_due`` by state and instant.
            occurrences = occurrences.filter(deadline_state__in=WATCHED_STATES)
        if self.commitment_ids is not None:
            plain = plain.filter(pk__in=self.commitment_ids)
            occurrences = occurrences.filter(commitment_id__in=self.commitment_ids)
        return plain.order_by(), occurrences.order_by()

    @staticmethod
    def _union(rows: tuple[Any, Any], *columns: str) -> tuple[str, Any]:
        """Return ``SELECT id, <columns>`` over both querysets of :meth:`_rows`, as SQL."""
        plain, occurrences = rows
        plain_values = plain.values_list("id", *columns)
        occurrence_values = occurrences.values_list(
            "commitment_id",
            *(name if name.startswith("due_") else f"commitment__{name}" for name in columns),
        )
        return plain_values.union(occurrence_values, all=True).query.sql_with_params()

    def _compiled(
        self, key: tuple[Any, ...], build: Callable[..., tuple[str, Sequence[Any]]]
    ) -> tuple[str, list[Any]]:
        """Return ``build(now=..., since=...)``; a full scan's SQL is compiled once per process.

        A full scan's statements differ from one run to the next only by the instants (and by
        what ``key`` names): :func:`core.statements.statement_compiled` moves them in the SQL
        compiled before. A scan of a few commitments names them in its SQL: it compiles its own.
        """
        instants = (
            {"now": self.now} if self.since is None else {"now": self.now, "since": self.since}
        )
        if self.commitment_ids is not None:
            sql, params = build(**instants)
            return sql, list(params)
        return statement_compiled((*key, self.since is None), build, **instants)

    def _leads(self) -> tuple[tuple[int, ...], frozenset[int]]:
        """Return the lead times in use (sorted) and the default ones among them."""
        defaults = frozenset({*settings.TRACKER_DEFAULT_LEAD_DAYS, OVERDUE_LEAD})
        in_use = self.leads_in_use
        if in_use is None:
            in_use = frozenset(_leads_in_use().values_list("days", flat=True))
        return tuple(sorted(defaults | in_use)), defaults

    def write(self) -> tuple[int, int]:
        """Write the alerts, then the escalations; return how many of each.

        One small statement first asks whether either insert has a due date to read: a scan
        with nothing new then costs one round trip here, not one per insert.
        """
        leads, defaults = self._leads()
        key = (leads, defaults)
        dues = [
            self._compiled(
                ("alert dues", *key), lambda **instants: self._alert_dues(leads, **instants)
            )
        ]
        address = settings.TRACKER_ESCALATION_EMAIL
        after = dt.timedelta(days=int(settings.TRACKER_ESCALATION_AFTER_DAYS))
        if address:
            dues.append(
                self._compiled(
                    ("escalation dues", after),
                    lambda **instants: self._escalation_dues(after, **instants),
                )
            )
        found = _any_rows(dues)
        alerts = self._write_alerts(leads, defaults) if found[0] else 0
        escalations = 0
        if address and found[1]:
            escalations = self._write_escalations(address, after, *dues[1])
        return alerts, escalations

    def _write_alerts(self, leads: tuple[int, ...], defaults: frozenset[int]) -> int:
        """Insert the tightest newly crossed threshold per watcher and commitment; count them."""
        sql, params = self._compiled(
            ("alerts", leads, defaults),
            lambda **instants: self._alerts_insert(leads, defaults, **instants),
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return max(cursor.rowcount, 0)

    def _alert_dues(
        self, leads: Sequence[int], *, now: dt.datetime, since: dt.datetime | None = None
    ) -> tuple[str, Any]:
        """Return the due dates the alert insert reads (``dues``), as SQL and parameters."""
        plain, occurrences = self._rows(watched_states=since is None)
        if since is not None:
            # The thresholds crossed in (watermark, now]: due within d days of now but not of
            # the watermark; for the overdue notice, overdue now but not at the watermark.
            windows = []
            for days in leads:
                low, high = since + dt.timedelta(days=days), now + dt.timedelta(days=days)
                windows.append(
                    Q(due_at__gt=low, due_at__lte=high)
                    if days
                    else Q(due_at__gte=low, due_at__lt=high)
                )
            plain = plain.filter(reduce(operator.or_, windows))
            # Occurrences have no index by instant alone, only by (state, instant): each window
            # is written once per watched state, so that every branch of the OR is a range of
            # that index and the plan is a union of small index ranges whatever the statistics
            # say. With the states as one IN list beside the windows, the planner reads the list
            # as the index condition and the windows as a filter: on statistics from before
            # the flags moved (no row watched), it walked the whole index (0.1-0.5 s at 100k
            # rows, for nothing) instead of 0.25 ms.
            by_state = (Q(deadline_state=state) & w for state in WATCHED_STATES for w in windows)
            occurrences = occurrences.filter(reduce(operator.or_, by_state))
        return self._union(
            (plain, occurrences), "agreement_id", "obligor_id", "owner_id", "due_date", "due_at"
        )

    def _alerts_insert(
        self,
        leads: Sequence[int],
        defaults: frozenset[int],
        *,
        now: dt.datetime,
        since: dt.datetime | None = None,
    ) -> tuple[str, list[Any]]:
        """Return the alert insert over :meth:`_alert_dues`, as SQL and parameters."""
        params: list[Any] = []
        row = "SELECT CAST(%s AS integer), %s, CAST(%s AS integer)"
        for days in leads:
            params += [days, self._instant(now + dt.timedelta(days=days)), int(days in defaults)]
            if since is not None:
                params.append(self._instant(since + dt.timedelta(days=days)))
        if since is not None:
            row += ", %s"
        candidates, candidate_params = self._alert_dues(leads, now=now, since=since)
        params += candidate_params
        watches, watch_params = watches_sql()
        params += watch_params
        now_param = self._instant(now)
        params += [now_param, now_param]
        params += [AlertState.SKIPPED, AlertState.PENDING, SKIPPED_NO_ADDRESS]
        params += [now_param, now_param]
        sql = _ALERTS_INSERT.format(
            edge_columns="days, edge, is_default" + (", since" if since is not None else ""),
            edges=" UNION ALL ".join([row] * len(leads)),
            candidates=candidates,
            watches=watches,
            newly=_NEWLY_CROSSED if since is not None else "1 = 1",
            **self.tables,
        )
        return sql, params

    def _write_escalations(
        self, address: str, after: dt.timedelta, dues: str, dues_params: Sequence[Any]
    ) -> int:
        """Insert one alert to the escalation contact per due date overdue for N days."""
        now_param = self._instant(self.now)
        values = [address, -after.days, False, AlertState.PENDING, now_param, now_param]
        sql = _ESCALATIONS_INSERT.format(candidates=dues, **self.tables)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*values, *dues_params])
            return max(cursor.rowcount, 0)

    def _escalation_dues(
        self, after: dt.timedelta, *, now: dt.datetime, since: dt.datetime | None = None
    ) -> tuple[str, Any]:
        """Return the due dates overdue for more than ``after`` at ``now`` (and not yet at
        ``since``), as SQL and parameters."""
        # Overdue for more than N days at now: overdue at now - N days.
        rows = [qs.overdue(now - after) for qs in self._rows()]
        if since is not None:
            rows = [qs.filter(due_at__gte=since - after) for qs in rows]
        return self._union((rows[0], rows[1]), "due_date")


def _any_rows(selects: Sequence[tuple[str, Sequence[Any]]]) -> list[bool]:
    """Return, for each ``(select, params)``, whether it has a row, in one statement.

    An outbox statement over no due date writes nothing. A scan with nothing new reads no
    due dates in its windows; the insert over them would write nothing, but planning it (a
    dozen joins over the watch rule) cost more than the rest of the scan's statements together
    (3 ms at 1M rows, 9-14 ms on a loaded server, and JIT compilation once its estimates
    crossed ``jit_above_cost``). Asking first costs one small statement where there is
    something to write; asking for both inserts at once, one round trip where there is not.
    """
    columns = ", ".join(f"EXISTS ({select})" for select, _ in selects)
    params = [param for _, select_params in selects for param in select_params]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}", params)
        row = cursor.fetchone()
    return [bool(value) for value in row]
