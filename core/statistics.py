"""Table statistics refreshed where a transaction invalidates them (PostgreSQL).

For services that move a large share of a table and then, in the same transaction, run
statements whose plans depend on the new counts (the deadline scan's flags, then its outbox).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Model

#: Rows changed before a table's statistics are refreshed: autovacuum's defaults
#: (``autovacuum_analyze_threshold`` + ``autovacuum_analyze_scale_factor`` x rows).
ANALYZE_THRESHOLD, ANALYZE_SCALE_FACTOR = 50, 0.1


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
    if changed <= ANALYZE_THRESHOLD or connection.vendor != "postgresql":
        return False
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
        # reltuples is -1 for a table never analyzed: then any change this big is worth it.
        rows = max(float(row[0]) if row else 0.0, 0.0)
        if changed <= ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * rows:
            return False
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return True
