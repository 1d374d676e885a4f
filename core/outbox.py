"""The outbox core: claim due rows, hand them to their sender, record the outcome, drain.

An outbox is a table of messages to send (alert e-mails, webhook deliveries) with a state
(``pending`` → ``sent`` / ``failed`` / ``skipped``), an attempt count, the instant of the next
attempt and the last error. This module holds everything the outboxes share; each keeps only
its :class:`Sender` (what to load, when to skip, how to send: SMTP and digests, or signing and
HTTP).

Exactly once, and its bound. On PostgreSQL a sender claims a few due rows at a time
(:data:`CLAIM_SIZE`, oldest pk first, through the outbox's pending-by-pk partial index) in one
statement that takes a session advisory lock on each row it returns and skips rows another
sender holds; it reads them again (still due?), sends each, and marks each in its own
autocommit ``UPDATE`` as soon as the receiver accepted it (the next message is written,
and its SMTP envelope given, while that mark commits, and it leaves only once the mark
committed: :class:`_Marks`); then it
releases the locks. A row is released only after its mark committed, so several senders
never send the same row: a row another sender holds is skipped, and a row marked sent no
longer matches. A sender that dies loses its connection, and its locks go with it at once:
its unsent rows are claimed by the next run straight away. One that dies after the receiver
accepted a message but before the mark committed loses nothing: the row stays pending and
goes again, under the same id (Message-ID, ``X-Tracker-Delivery``), so the receiver can
fold the pair. That window cannot
be closed without a two-phase commit with the receiver; its bound is one repeat per crash
(the message in flight), never a loss. Why session locks rather than row locks held by a
transaction (the former protocol: four round trips per message) or a lease column: a
transaction per batch would roll back every mark of a batch that crashed (the whole batch
again), a transaction per message costs a claim, a BEGIN and a COMMIT per message, and a
lease makes a crashed sender's rows wait for the lease to run out.

A failed attempt waits ``base x 2^(attempts-1)`` (capped) before the next one and gives up as
``failed`` after the outbox's maximum; an unavailable server (:class:`SenderUnavailable`)
stops the run and uses no attempt. A run handles at most one batch; its task enqueues itself
again while batches come back full (:func:`batch_result`), so a backlog drains as fast as
the receiver accepts without holding a worker for the whole of it.

SQLite has neither session locks nor row locks: there each message is claimed, sent and
marked in its own transaction, which first takes the database's write lock, so senders queue
one behind the other instead of skipping, with the same guarantee.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar

import psycopg
from celery import Task
from django.apps import apps
from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    models,
    transaction,
)
from django.db.models import Q, QuerySet
from kombu.exceptions import OperationalError as BrokerError
from psycopg import errors as psycopg_errors
from psycopg import generators, pq

logger = logging.getLogger(__name__)

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"

#: Celery options of a task that is safe to run twice or at once (an outbox's sender, which
#: claims rows under locks; a set-based scan). Late acknowledgement and requeue on a lost
#: worker: running the task again after a crash resends nothing committed as sent. Transient
#: database errors (a dropped connection, a failover) are retried with exponential backoff.
SAFE_TO_REPEAT: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


def retry_delay(*, attempts: int, base_seconds: int, cap_seconds: int) -> dt.timedelta:
    """Return the wait before the next attempt after ``attempts`` failed ones.

    Exponential: base, 2 x base, 4 x base... capped at ``cap_seconds``.
    """
    exponent = min(max(attempts - 1, 0), 32)
    return dt.timedelta(seconds=min(base_seconds * 2**exponent, cap_seconds))


class OutboxRow(Protocol):
    """The fields every outbox row has."""

    pk: Any
    state: str
    attempts: int
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    last_error: str

    def save(self, *, update_fields: Sequence[str]) -> None: ...


RowT = TypeVar("RowT", bound=OutboxRow)


@dataclass(frozen=True)
class Outbox:
    """One outbox table and the names of the settings that bound its batches and retries."""

    model: type[models.Model]
    #: How the log names a row ("Alert", "Webhook delivery").
    label: str
    batch_size_setting: str
    max_attempts_setting: str
    backoff_setting: str
    backoff_max_setting: str
    #: Fields the sender sets at each attempt (e.g. the HTTP status), saved with the outcome.
    attempt_fields: tuple[str, ...] = ()

    @property
    def batch_size(self) -> int:
        return int(getattr(settings, self.batch_size_setting))

    @property
    def max_attempts(self) -> int:
        return int(getattr(settings, self.max_attempts_setting))

    def retry_delay(self, *, attempts: int) -> dt.timedelta:
        """Return the wait before the next attempt after ``attempts`` failed ones."""
        return retry_delay(
            attempts=attempts,
            base_seconds=getattr(settings, self.backoff_setting),
            cap_seconds=getattr(settings, self.backoff_max_setting),
        )

    def retry(self, *, ids: Iterable[int], now: dt.datetime) -> int:
        """Put rows that gave up back in the queue, due at ``now`` with a fresh attempt budget.

        Only ``failed`` rows move; sent and skipped ones are left alone, so a retry can never
        send a row twice. Their last error is kept until the next attempt. Return the number
        queued again.
        """
        return self.model._default_manager.filter(pk__in=list(ids), state=FAILED).update(
            state=PENDING, attempts=0, next_attempt_at=now
        )

    def due(self, *, now: dt.datetime) -> QuerySet[Any]:
        """Return the pending rows whose next attempt is due at ``now``."""
        return self.model._default_manager.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), state=PENDING
        )


class AttemptFailed(Exception):
    """The receiver refused the message or the attempt broke: it counts an attempt."""


class SenderUnavailable(Exception):
    """The receiver is down for every message: the run stops and no attempt is counted."""


class Sender(Protocol[RowT]):
    """What an outbox brings of its own: which rows, what they need, when to skip, how to send."""

    outbox: Outbox

    def narrow(self, due: QuerySet[Any]) -> QuerySet[Any]:
        """Return the rows of ``due`` this sender sends one by one."""
        ...

    def load(self, pks: Sequence[int]) -> Sequence[RowT]:
        """Return the claimed rows, in pk order, with what their message needs."""
        ...

    def skip_reason(self, row: RowT) -> str:
        """Return why ``row`` must not be sent any more, or ``""`` if it should be."""
        ...

    def holds_back(self, row: RowT) -> bool:
        """Say if ``row``, claimed, must wait for a later run (it stays pending, untouched)."""
        ...

    def send(self, rows: Sequence[RowT], *, now: dt.datetime, ready: Callable[[], None]) -> None:
        """Send one message for ``rows``; raise AttemptFailed or SenderUnavailable.

        Write the message first, then call ``ready()`` right before it leaves: it waits for
        the previous message's mark to commit (:class:`_Marks`), so that writing this one
        overlaps with that commit. Nothing that can deliver the message may be sent before
        ``ready()`` returns; what delivers nothing without it may (an SMTP envelope, whose
        mail is dropped with the connection if its content never comes).
        """
        ...


@dataclass
class OutboxReport:
    """What one run did, counted in rows."""

    sent: int = 0
    #: An attempt failed; the row goes again after its backoff.
    retrying: int = 0
    #: Not attempted, the receiver being unavailable; no attempt was used.
    postponed: int = 0
    failed: int = 0
    skipped: int = 0
    #: Why the run stopped early (the receiver is unavailable), or ``""``.
    interrupted: str = ""
    #: The run stopped at its batch limit: more rows may be due.
    full: bool = False

    @property
    def deferred(self) -> int:
        """Return how many rows this run left pending (retrying or postponed)."""
        return self.retrying + self.postponed

    @property
    def handled(self) -> int:
        return self.sent + self.deferred + self.failed + self.skipped

    def as_dict(self) -> dict[str, Any]:
        """Return the counts as a JSON-ready dict (a Celery task result)."""
        return {**asdict(self), "deferred": self.deferred}


def claim(rows: QuerySet[Any], *, limit: int | None = None) -> list[int]:
    """Lock ``rows`` (oldest pk first, skipping rows another sender holds); return their pks.

    Call it inside a transaction. The lock is taken by a query on the outbox table alone,
    walking its primary key through the pending-by-pk partial index: the plan stays an index
    scan however stale the table's statistics (a first scan can write a hundred thousand rows
    before autovacuum has analysed the table, and a claim joined to the users and commitments
    was then planned as if the table were empty: 0.3 s per mail). The message's context is
    loaded afterwards, by primary key.
    """
    _queue_on_sqlite(rows)
    pks = rows.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)
    return list(pks[:limit] if limit is not None else pks)


def _queue_on_sqlite(rows: QuerySet[Any]) -> None:
    """On SQLite (no row locks), take the database's write lock before reading the rows.

    A write as the transaction's first statement makes SQLite queue concurrent senders
    behind it (busy timeout) rather than let two of them read the same pending row.
    """
    if not connection.features.has_select_for_update:
        rows.model._default_manager.filter(pk=0).update(state=PENDING)


def send_batch(
    *, sender: Sender[Any], now: dt.datetime, report: OutboxReport, limit: int | None = None
) -> OutboxReport:
    """Send up to ``limit`` (the outbox's batch size) due rows one message each, oldest first.

    On PostgreSQL the rows are claimed :data:`CLAIM_SIZE` at a time under session locks
    (:func:`_claimed`), and each is marked in its own autocommit statement right after the
    receiver accepted it: one statement per message, none of them a transaction's, committing
    while the next message is written (:class:`_Marks`). Elsewhere (SQLite) each row is
    claimed, sent and marked in its own transaction (:func:`_send_one_by_one`).
    Either way what the messages need is loaded once per claim, not per message; the run
    stops early when the receiver is unavailable (``report.interrupted``) and sets
    ``report.full`` when it stopped at its limit.

    Call it outside a transaction: the marks must commit one by one for the duplicate bound
    (one message per crash) to hold.
    """
    limit = sender.outbox.batch_size if limit is None else limit
    if connection.vendor == "postgresql":
        taken = _send_in_claims(sender=sender, now=now, report=report, limit=limit)
    else:
        taken = _send_one_by_one(sender=sender, now=now, report=report, limit=limit)
    report.full = not report.interrupted and taken >= limit
    log_run(outbox=sender.outbox, report=report)
    return report


#: Rows a PostgreSQL sender holds at once: small enough that concurrent senders share a
#: backlog between them, large enough that a claim and its load cost little per message.
CLAIM_SIZE = 20
#: Rows a run claims at once after its first claim, the backlog having outlasted that one.
#: A claim's load has a fixed part (its statements compiled and sent, the claim, the re-read
#: and the release: about 5 ms of CPU for the alerts) besides ~0.2 ms a row, so that at 20
#: rows the fixed part was a sixth of a mail's CPU. Senders that start together still share
#: a small backlog through their first, small claims, and a larger claim leaves most of the
#: window to the others.
LATER_CLAIM_SIZE = 50
#: How far past the oldest due row a claim looks for rows no other sender holds.
_CLAIM_WINDOW = 10 * CLAIM_SIZE

# The candidates are read first (MATERIALIZED: the planner cannot fold the lock into their
# scan), and the outer LIMIT stops asking for locks at the last row it returns, so a lock is
# taken on exactly the rows returned (PostgreSQL's manual warns that a lock in a filter below
# a sort or a LIMIT may be taken on rows the query then drops). A row's key is its table's
# number and its pk folded into 32 bits: pks 2**32 apart share a key, which only makes one
# wait for the next claim.
_CLAIM_SQL = """
WITH candidates(pk) AS MATERIALIZED ({candidates})
SELECT pk FROM candidates
WHERE pg_try_advisory_lock(%s, (mod(pk, 4294967296) - 2147483648)::integer)
LIMIT %s
"""
_RELEASE_SQL = """
SELECT pg_advisory_unlock(%s, (mod(pk, 4294967296) - 2147483648)::integer)
FROM unnest(%s::bigint[]) AS claimed(pk)
"""


def _send_in_claims(
    *, sender: Sender[Any], now: dt.datetime, report: OutboxReport, limit: int
) -> int:
    """Claim, send and mark up to ``limit`` rows, :data:`CLAIM_SIZE` at first, then
    :data:`LATER_CLAIM_SIZE` at a time; return how many were claimed."""
    taken = 0
    with _Marks().settled() as marks:
        while taken < limit and not report.interrupted:
            size = min(LATER_CLAIM_SIZE if taken else CLAIM_SIZE, limit - taken)
            due = sender.narrow(sender.outbox.due(now=now))
            with _claimed(due, limit=size) as pks:
                # Read again now that the locks are ours: a row another sender marked, then
                # released after our candidates were read, is no longer due (its mark
                # committed before its lock went). Its attempts are read here too.
                still_due = list(due.filter(pk__in=pks).order_by("pk").values_list("pk", flat=True))
                for row in sender.load(still_due) if still_due else ():
                    if report.interrupted:
                        break
                    if not sender.holds_back(row):
                        _deliver(sender=sender, rows=[row], now=now, report=report, marks=marks)
                # Here rather than in the release, which would log a failed mark and go on.
                marks.settle()
            taken += len(pks)
            if len(pks) < size:
                break
    return taken


class _Marks:
    """A PostgreSQL run's marks of messages sent, each committing while the next is written.

    A sent message's mark is sent to the server as one autocommit ``UPDATE`` and not waited
    for: the sender writes the next message (renders it: CPU) while the server commits the
    mark and flushes its WAL (a disk wait: the largest part of a mail's time on a busy
    machine). :meth:`settle` waits for that commit, and runs before the next message leaves
    (the sender's ``ready()``), before any other statement on the connection (an execute
    wrapper: a skip, a claim's release, the next claim) and when the run ends, even by an
    error. So the order the guarantee rests on is unchanged: a message leaves only after
    every earlier message's mark committed, and a claim's locks go only after its rows'
    marks did. A sender that dies with a mark sent, or whose server dies before committing
    it, has sent nothing since that mark's message: that one message goes again, as before,
    and the server commits the mark or not, nothing else. The mark's error, if any, is
    raised by :meth:`settle` (as Django's ``DatabaseError``) and stops the run there.
    """

    def __init__(self) -> None:
        #: The row whose mark was sent and not waited for yet.
        self._pending: Any = None
        self._binder: psycopg.ClientCursor[Any] | None = None

    @contextmanager
    def settled(self) -> Iterator[_Marks]:
        """Settle the pending mark before every other statement, and when leaving."""
        with connection.execute_wrapper(self._settled_first):
            try:
                yield self
            finally:
                self.settle()

    def _settled_first(self, execute: Callable[..., Any], *args: Any) -> Any:
        self.settle()
        return execute(*args)

    def send(self, statement: str, params: Sequence[Any], *, row: Any) -> None:
        """Send the mark of ``row`` (``statement`` with ``params``) without waiting for it."""
        self.settle()
        connection.ensure_connection()
        db = connection.connection
        if self._binder is None or self._binder.connection is not db:
            # Binds the values client-side, as Django's cursors do; a third of the time of
            # connection.ops.compose_sql, which opens a cursor for each statement.
            self._binder = psycopg.ClientCursor(db)
        sql = self._binder.mogrify(statement, params)
        with connection.wrap_database_errors:
            db.pgconn.send_query(sql.encode(db.info.encoding))
            db.wait(generators.send(db.pgconn))
        self._pending = row
        if connection.queries_logged:
            connection.queries_log.append({"sql": sql, "time": "0.000"})

    def settle(self) -> None:
        """Wait for the pending mark to commit; raise its error if it failed."""
        if self._pending is None:
            return
        row, self._pending = self._pending, None
        db = connection.connection
        with connection.wrap_database_errors:
            results = db.wait(generators.fetch_many(db.pgconn))
            for result in results:
                if result.status == pq.ExecStatus.FATAL_ERROR:
                    raise psycopg_errors.error_from_result(result, encoding=db.info.encoding)
        if not any(result.command_tuples for result in results):
            logger.info("%s %s was deleted while it was being sent", type(row).__name__, row.pk)


@contextmanager
def _claimed(rows: QuerySet[Any], *, limit: int) -> Iterator[list[int]]:
    """Lock up to ``limit`` of ``rows`` no other sender holds (oldest pk first); yield their pks.

    The locks are PostgreSQL session advisory locks on this connection, taken in one
    statement and released on leaving: no transaction stays open while the messages go, and a
    sender that dies loses its connection and, with it, its locks at once, so its unsent
    rows are due to the next claim straight away.
    """
    key = _lock_class(rows.model)
    candidates, params = (
        rows.order_by("pk").values_list("pk")[:_CLAIM_WINDOW].query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL.format(candidates=candidates), [*params, key, limit])
        pks = sorted(pk for (pk,) in cursor.fetchall())
    try:
        yield pks
    finally:
        if pks:
            _release(key=key, pks=pks)


def _release(*, key: int, pks: list[int]) -> None:
    """Release the claim's locks; if the connection cannot, close it, which releases them."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(_RELEASE_SQL, [key, pks])
    except DatabaseError:
        logger.warning("Could not release the claim's locks; closing the connection")
        if not connection.in_atomic_block:
            connection.close()


def _lock_class(model: type[models.Model]) -> int:
    """Return the advisory-lock class of ``model``'s outbox: a number of its table's name."""
    return zlib.crc32(model._meta.db_table.encode()) & 0x7FFFFFFF


def _send_one_by_one(
    *, sender: Sender[Any], now: dt.datetime, report: OutboxReport, limit: int
) -> int:
    """Claim, send and mark each row in its own transaction; return how many were candidates.

    For databases without session locks (SQLite, where a claim takes the database's write
    lock): the batch's candidates and what their messages need are read once, up front; then
    each row is claimed (still due, not held by another sender), sent and marked.
    """
    due = sender.narrow(sender.outbox.due(now=now))
    pks = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    for row in sender.load(pks) if pks else ():
        if report.interrupted:
            break
        with transaction.atomic():
            # Narrowed again: what a sender leaves out may change within the run (the
            # webhooks' endpoints that failed in it).
            if _claim_row(sender.narrow(sender.outbox.due(now=now)), row=row):
                _deliver(sender=sender, rows=[row], now=now, report=report)
    return len(pks)


def _claim_row(due: QuerySet[Any], *, row: Any) -> bool:
    """Lock ``row`` if it is still among ``due`` and no other sender holds it; say if it is.

    Its attempt count is read again under the lock (another sender may have used an attempt
    since the batch was loaded); everything else the outcome writes is overwritten anyway.
    """
    if connection.features.has_select_for_update:
        locked = list(
            due.filter(pk=row.pk)
            .select_for_update(skip_locked=True)
            .values_list("attempts", flat=True)
        )
    else:
        locked = _claim_row_by_writing(due, row=row)
    if locked:
        row.attempts = locked[0]
    return bool(locked)


def _claim_row_by_writing(due: QuerySet[Any], *, row: Any) -> list[int]:
    """SQLite's claim of one row: an ``UPDATE … RETURNING`` that changes nothing.

    Being a write, it takes the database's write lock as it starts (a concurrent sender
    queues behind it, busy timeout), and it answers the row's attempts only if the row is
    still among ``due``: the lock and the check in one statement (SQLite 3.35 and later).
    Older SQLite takes the lock with a write of its own, then reads.
    """
    if not connection.features.can_return_columns_from_insert:
        _queue_on_sqlite(due)
        return list(due.filter(pk=row.pk).values_list("attempts", flat=True))
    meta = due.model._meta
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)  # type: ignore[union-attr]
    attempts = quote(meta.get_field("attempts").column)  # type: ignore[union-attr]
    still_due, params = due.filter(pk=row.pk).order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {attempts} = {attempts} "  # noqa: S608 - names and Django's SQL
            f"WHERE {pk} IN ({still_due}) RETURNING {attempts}",
            params,
        )
        return [found for (found,) in cursor.fetchall()]


def claim_and_send(
    *,
    sender: Sender[Any],
    candidates: QuerySet[Any],
    now: dt.datetime,
    report: OutboxReport,
    limit: int | None = None,
) -> list[int]:
    """In one transaction, claim ``candidates`` and send them as one message; return their pks."""
    with transaction.atomic():
        pks = claim(candidates, limit=limit)
        if pks:
            _deliver(sender=sender, rows=sender.load(pks), now=now, report=report)
    return pks


def _deliver(
    *,
    sender: Sender[Any],
    rows: Sequence[Any],
    now: dt.datetime,
    report: OutboxReport,
    marks: _Marks | None = None,
) -> None:
    """Send one message for the claimed ``rows`` and record the outcome on each row.

    Rows the sender no longer wants sent are marked skipped and never touched again; the
    others are marked sent, or get a failed attempt (with backoff, and ``failed`` after the
    outbox's maximum), or, the receiver being unavailable, keep their attempts.
    """
    outbox = sender.outbox
    live = []
    for row in rows:
        reason = sender.skip_reason(row)
        if reason:
            row.state = SKIPPED
            row.last_error = reason
            row.next_attempt_at = None
            _write(row, ["state", "last_error", "next_attempt_at"])
            report.skipped += 1
        else:
            live.append(row)
    if not live:
        return
    try:
        sender.send(live, now=now, ready=marks.settle if marks is not None else _nothing_pending)
    except SenderUnavailable as exc:
        _mark_postponed(outbox=outbox, rows=live, error=str(exc), report=report)
    except AttemptFailed as exc:
        _mark_failed_attempt(outbox=outbox, rows=live, now=now, error=str(exc), report=report)
    else:
        for row in live:
            row.state = SENT
            row.sent_at = now
            row.attempts += 1
            row.next_attempt_at = None
            _write(
                row, _fields(outbox, "state", "sent_at", "attempts", "next_attempt_at"), marks=marks
            )
        report.sent += len(live)


def _nothing_pending() -> None:
    """Let the message leave: without :class:`_Marks`, each mark was waited for as written."""


def _mark_postponed(
    *, outbox: Outbox, rows: Sequence[Any], error: str, report: OutboxReport
) -> None:
    """Keep the rows pending: an outage is not the message's fault and uses no attempt.

    However long the receiver is down, no row runs out of attempts because of it.
    """
    for row in rows:
        row.last_error = error
        _write(row, ["last_error"])
    report.postponed += len(rows)
    report.interrupted = error
    logger.warning(
        "%s %s not sent, the receiver is unavailable: %s", outbox.label, [r.pk for r in rows], error
    )


def _mark_failed_attempt(
    *, outbox: Outbox, rows: Sequence[Any], now: dt.datetime, error: str, report: OutboxReport
) -> None:
    max_attempts = outbox.max_attempts
    for row in rows:
        row.attempts += 1
        row.last_error = error
        if row.attempts >= max_attempts:
            row.state = FAILED
            row.next_attempt_at = None
            report.failed += 1
        else:
            row.next_attempt_at = now + outbox.retry_delay(attempts=row.attempts)
            report.retrying += 1
        _write(row, _fields(outbox, "attempts", "last_error", "state", "next_attempt_at"))
    logger.warning(
        "%s %s not sent (attempt %d): %s",
        outbox.label,
        [r.pk for r in rows],
        rows[0].attempts,
        error,
    )


def _write(row: Any, fields: list[str], *, marks: _Marks | None = None) -> None:
    """Write the outcome's ``fields`` of ``row`` (one ``UPDATE``); a row deleted since is let be.

    With ``marks`` the statement is sent and committed while the next message is written
    (:class:`_Marks`); otherwise it is waited for here.

    A session claim does not stop a row being deleted while its message goes (its user was
    deleted): there is nothing left to mark, and the run goes on. The statement is the one
    ``row.save(update_fields=fields)`` runs, written once per outbox and set of fields: a
    mark is written per message, and Django compiled it again for each (0.5 ms of CPU, as
    much as writing the mail). The outboxes' models have no ``save()`` of their own, no
    field Django fills in on save and no signal receiver.
    """
    statement, columns = _update_statement(type(row)._meta.label, tuple(fields), connection.vendor)
    values = [field.get_db_prep_save(getattr(row, field.attname), connection) for field in columns]
    if marks is not None:
        marks.send(statement, [*values, row.pk], row=row)
        return
    with connection.cursor() as cursor:
        cursor.execute(statement, [*values, row.pk])
        written = cursor.rowcount
    if not written:
        logger.info("%s %s was deleted while it was being sent", type(row).__name__, row.pk)


@functools.cache
def _update_statement(
    model_label: str, fields: tuple[str, ...], vendor: str
) -> tuple[str, list[models.Field[Any, Any]]]:
    """Return the ``UPDATE`` of ``fields`` of one row by pk of the model, and those fields."""
    meta = apps.get_model(model_label)._meta
    columns = [meta.get_field(name) for name in fields]
    if not all(isinstance(field, models.Field) for field in columns):
        raise TypeError(f"{model_label}: an outbox's outcome is written to its own columns")
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    table, pk = quote(meta.db_table), quote(meta.pk.column)  # type: ignore[union-attr]
    return f"UPDATE {table} SET {assignments} WHERE {pk} = %s", columns  # noqa: S608 - names


def _fields(outbox: Outbox, *names: str) -> list[str]:
    return list(dict.fromkeys((*names, *outbox.attempt_fields)))


def log_run(*, outbox: Outbox, report: OutboxReport) -> None:
    """Log what a run did, if it did anything."""
    if report.handled:
        logger.info(
            "%s run: %d sent, %d to retry, %d postponed, %d failed, %d skipped%s%s",
            outbox.label,
            report.sent,
            report.retrying,
            report.postponed,
            report.failed,
            report.skipped,
            f"; stopped early: {report.interrupted}" if report.interrupted else "",
            "; more are due" if report.full else "",
        )


def enqueue(task: Task, *, otherwise: Callable[[], object] | None = None, times: int = 1) -> None:
    """Enqueue ``task`` now, ``times`` times; a broker that is down is logged and forgotten.

    The caller (a scan, a web request, a sender run) goes on, and the periodic run catches up
    when the broker is back. Where no periodic run would, ``otherwise`` does the work there
    and then instead. The first failure ends it: the caller waits for one broker that is
    down, not ``times``.
    """
    for _time in range(times):
        try:
            task.apply_async(retry=False)
        except (BrokerError, OSError) as exc:
            if otherwise is None:
                logger.warning("Could not enqueue %s (the periodic run will): %s", task.name, exc)
                return
            logger.warning("Could not enqueue %s (running it here): %s", task.name, exc)
            otherwise()
            return


def enqueue_on_commit(
    task: Task, *, otherwise: Callable[[], object] | None = None, times: int = 1
) -> None:
    """Enqueue ``task`` ``times`` times once the current transaction commits (at once if
    there is none)."""
    transaction.on_commit(lambda: enqueue(task, otherwise=otherwise, times=times), robust=True)


def batch_result(*, task: Task, report: OutboxReport) -> dict[str, Any]:
    """Enqueue ``task`` again if its run stopped at the batch limit; return the task result.

    One batch per run bounds how long a worker is held; the next batch is queued at once
    rather than at the next periodic run, so a backlog drains at the receiver's pace.
    """
    if report.full:
        enqueue(task)
    return report.as_dict()
