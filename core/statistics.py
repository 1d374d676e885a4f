"""Table statistics and dead rows dealt with where a transaction makes them (PostgreSQL).

For services that move a large share of a table and then, in the same transaction, run
statements whose plans depend on the new counts (the deadline scan's flags, then its outbox),
and whose next runs read the table by the index entries the move left dead.
"""

from __future__ import annotations

from functools import partial

from django.db import connection, transaction
from django.db.models import Model

#: Rows changed before a table's statistics are refreshed: autovacuum's defaults
#: (``autovacuum_analyze_threshold`` + ``autovacuum_analyze_scale_factor`` x rows).
ANALYZE_THRESHOLD, ANALYZE_SCALE_FACTOR = 50, 0.1
#: Rows changed before a table is vacuumed: autovacuum's defaults too
#: (``autovacuum_vacuum_threshold`` + ``autovacuum_vacuum_scale_factor`` x rows).
VACUUM_THRESHOLD, VACUUM_SCALE_FACTOR = 50, 0.2


def _autovacuum_share(table: str, changed: int, threshold: int, scale_factor: float) -> bool:
    """Return whether ``changed`` rows of ``table`` are a share autovacuum would act on."""
    if changed <= threshold:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    # reltuples is -1 for a table never analyzed: then any change this big is worth it.
    rows = max(float(row[0]) if row else 0.0, 0.0)
    return changed > threshold + scale_factor * rows


def statistics_refresh(*, model: type[Model], changed: int) -> bool:
    """``ANALYZE`` the model's table if ``changed`` rows are a share autovacuum would act on.

    The statements that follow a flagging in the same transaction (the alert outbox, read by
    deadline state and due instant) are planned from the statistics, and a first flagging
    moves nearly every row: planned from the counts of before (every row "none"), a statement
    that reads nothing took 0.3 s instead of 0.1 ms at 100k rows, and one 52 s instead of 0.2 s.
    Autovacuum would refresh them within a minute, but it may be off or not yet run; this
    does it at once, in the transaction (its own uncommitted rows count). Return whether it
    ran. PostgreSQL only; a few rows changed cost nothing (no statement).
    """
    if connection.vendor != "postgresql":
        return False
    table = model._meta.db_table
    if not _autovacuum_share(table, changed, ANALYZE_THRESHOLD, ANALYZE_SCALE_FACTOR):
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return True


def vacuum_after_commit(*, model: type[Model], changed: int) -> bool:
    """Have the model's table vacuumed once the transaction commits, if ``changed`` rows are
    a share autovacuum would vacuum for; return whether it is planned.

    An ``UPDATE`` leaves an index entry per moved row pointing at its dead version, and a
    flagging moves rows between index ranges (a first one: every row out of "none"). The next
    flaggings read those ranges by bitmap scans, which never mark dead entries, so each of them
    visited every dead row again until a vacuum: 0.9 s per no-change rescan at 1M rows instead
    of a few ms. Autovacuum does it within its naptime (a minute) where it runs, in the
    background: then nothing is planned. Where it is off, this does it right after the commit,
    in the committing process (19 s for each of the two tables at 1M rows). ``VACUUM`` cannot
    run in a transaction: under a caller's transaction (tests) it does nothing. PostgreSQL
    only; a few rows changed cost nothing (no statement).
    """
    if connection.vendor != "postgresql":
        return False
    table = model._meta.db_table
    if not _autovacuum_share(table, changed, VACUUM_THRESHOLD, VACUUM_SCALE_FACTOR):
        return False
    if _autovacuum_runs():
        return False
    # Robust: the flags are committed whatever becomes of the vacuum (a failure is logged).
    transaction.on_commit(partial(_vacuum, table), robust=True)
    return True


def _autovacuum_runs() -> bool:
    """Return whether the server's autovacuum is on (``autovacuum`` setting)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('autovacuum') = 'on'")
        row = cursor.fetchone()
    return bool(row and row[0])


def _vacuum(table: str) -> None:
    if connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        # The statistics were refreshed in the transaction (``statistics_refresh``).
        cursor.execute(f"VACUUM {connection.ops.quote_name(table)}")
