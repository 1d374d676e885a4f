"""Statements PostgreSQL plans once per connection: a hot path's few statements, prepared.

Django's PostgreSQL cursors bind parameters on the client: every statement reaches the server
as text with its values written in, and is parsed and planned each time it runs. For the few
statements a hot path runs on every request that is a large share of their cost: the API
list's page (76 columns, 4 joins, 7 nested arrays and its count) plans in about 1.5 ms and
runs in about 5.

:func:`prepared_cursor` gives one of Django's cursors (its execute wrappers, its query log in
debug, its translation of driver errors) whose statements psycopg prepares once the same text
has run ``prepare_threshold`` times on the connection (``DATABASES[alias]["OPTIONS"]
["prepare_threshold"]``, set in ``tracker.settings``). The values are still written into the
text, as Django writes them, so a prepared statement has no parameters and PostgreSQL plans it
once for those values, as it would plan the text: a plan for parameters (a generic plan) can be
far worse than one for the values (the list's count read every row for a state that a
fifth of them have), and PostgreSQL plans a statement with parameters again on every run
until it trusts the generic plan. So only a statement run again with the same values (the same
filters and page, as a client polling a list asks) skips parsing and planning; any other runs as
with Django's cursor. PostgreSQL plans a prepared statement again after a change to a table it
reads (DDL, ``ANALYZE``). A prepared plan holds server memory: the list's page takes about
1.2 MB, so a connection keeps its :data:`PREPARED_MAX` most recently used statements
(psycopg's ``prepared_max``, 100 by default) and deallocates the others.

A statement whose plan its values do not change (the API token's look-up by its unique hash)
is better bound on the server (``bound=True``): one text, one prepared statement, for every
value, where writing them in would make one per token.

Django sets ``prepare_threshold`` to None unless told, for connection poolers in transaction
mode, which cannot keep a session's prepared statements; None turns preparing off here too.
Elsewhere (SQLite) it is the connection's ordinary cursor.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

#: The statements a connection keeps prepared (the list's page takes about 1.2 MB of the server's
#: memory each): the hot paths' few texts, times a few filters or pages.
PREPARED_MAX = 16


def prepared_keep_few(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: a new PostgreSQL connection keeps ``PREPARED_MAX``."""
    if connection.vendor == "postgresql":
        connection.connection.prepared_max = PREPARED_MAX


def prepared_cursor(connection: BaseDatabaseWrapper, *, bound: bool = False) -> Any:
    """Return a cursor of ``connection`` whose statements PostgreSQL may keep prepared.

    Use it as Django's own cursor (``with prepared_cursor(connection) as cursor:``). The values
    are written into the text, unless ``bound``: then they are bound on the server, and one
    text serves every value. That suits a statement whose plan the values do not change (a
    look-up by a unique key: PostgreSQL settles on one generic plan after five runs), where
    writing them in would make one prepared statement per value.
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID  # type: ignore[attr-defined]
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    # What BaseDatabaseWrapper.cursor() does, with a server-binding cursor in place of the
    # client-binding one the connection's cursor factory makes.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        native = connection.connection
        cursor = _cursor_class(bound)(native)
        # As the backend's create_cursor: the instants' zone only if the connection's differs.
        loader = native.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if connection.timezone != loader.timezone:  # type: ignore[attr-defined]
            register_tzloader(connection.timezone, cursor)  # type: ignore[attr-defined]
        return connection._prepare_cursor(cursor)  # type: ignore[attr-defined]


@functools.cache
def _cursor_class(bound: bool) -> type:
    """Return the psycopg cursor :func:`prepared_cursor` wraps (made once, on PostgreSQL)."""
    import psycopg
    from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]
        ServerBindingCursor,
    )

    if bound:
        return ServerBindingCursor  # type: ignore[no-any-return]

    class LiteralPreparedCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
        """A server-binding cursor that writes a statement's values into its text first.

        ``execute`` only: the values are written as Django's client-binding cursor writes
        them (psycopg's ``ClientCursor.mogrify``), and the text goes without parameters, which
        psycopg prepares once it ran ``prepare_threshold`` times.
        """

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            if params is not None:
                # With values, "%%" stands for "%"; mogrify writes both (Django passes an
                # empty tuple where a statement has none).
                query = psycopg.ClientCursor(self.connection).mogrify(query, params)
            return super().execute(query, **kwargs)

    return LiteralPreparedCursor
