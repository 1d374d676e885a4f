"""Flag each commitment's deadline state: the stored copy of the rule of ``querysets``.

``deadline_state`` and ``flagged_at`` say how a commitment stood at the last flagging, so that
lists can filter and sort by it. A flagging at ``now`` is a few set-based ``UPDATE`` statements
that move each commitment whose stored state is wrong into the right one and set
``flagged_at = now``; rows already right are not touched, so a second flagging at the same
instant changes nothing. The apps that react to a move (webhooks' overdue events) subscribe
through :func:`commitments.services.hooks.register_flags` and find the rows moved with
``Commitment.objects.flagged(state, now)``.

The occurrences of recurring commitments are flagged by :func:`occurrence_states_flag` with
the same rules (``Occurrence.objects`` has the commitment's queryset and column names), in
the same set-based way; a recurring commitment's own row mirrors its next open occurrence
and is flagged with the other commitments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from commitments.choices import DeadlineState
from commitments.models import Commitment, Occurrence
from commitments.querysets import TERMINAL_VALUES, deadline_state_q, due_soon_days
from commitments.services import hooks
from core.statements import statement_compiled, statements_run, update_sql
from core.statistics import statistics_refresh, vacuum_after_commit


def deadline_state_changes(
    *, now: dt.datetime, commitment_ids: Sequence[int] | None = None
) -> dict[str, QuerySet[Commitment]]:
    """Return, per deadline state, the commitments that a flagging at ``now`` moves into it.

    Each queryset holds only rows whose stored state differs from the target (as a positive
    ``IN`` list, which the partial indexes serve), so updating them touches nothing else.
    """
    rows = Commitment.objects.all()
    if commitment_ids is not None:
        rows = rows.filter(pk__in=list(commitment_ids))
    return _changes(rows, now=now)


def occurrence_state_changes(
    *, now: dt.datetime, commitment_ids: Sequence[int] | None = None
) -> dict[str, QuerySet[Occurrence]]:
    """Return, per deadline state, the occurrences a flagging at ``now`` moves into it."""
    rows = Occurrence.objects.all()
    if commitment_ids is not None:
        rows = rows.filter(commitment_id__in=list(commitment_ids))
    changes = _changes(rows, now=now)
    # An occurrence always has a due instant (the column is NOT NULL): "none" is its terminal
    # statuses only, which the partial index ``occurrence_closed_state`` serves.
    changes[DeadlineState.NONE] = rows.filter(
        status__in=TERMINAL_VALUES,
        deadline_state__in=[other for other in DeadlineState.values if other != "none"],
    )
    return changes


def _changes(rows: QuerySet[Any], *, now: dt.datetime) -> dict[str, QuerySet[Any]]:
    return {
        state: rows.filter(
            deadline_state_q(state=state, now=now),
            deadline_state__in=[other for other in DeadlineState.values if other != state],
        )
        for state in DeadlineState.values
    }


def _flag_all(
    changes: Callable[..., dict[str, QuerySet[Any]]], *, states: Sequence[str], now: dt.datetime
) -> dict[str, int]:
    """Move every row of ``changes(now=now)[state]`` into ``state``, for each of ``states`` in
    turn; return the rows moved per state.

    A full flagging's statements differ from one run to the next only by ``now``: their SQL is
    compiled from the same querysets once per process (:mod:`core.statements`); compiling
    them each time was half of a flagging that moves nothing. They are sent together
    (:func:`core.statements.statements_run`: one round trip on PostgreSQL), each still its
    own ``UPDATE`` with its own plan.
    """
    statements = []
    for state in states:

        def build(now: dt.datetime, state: str = state) -> tuple[str, Sequence[Any]]:
            return update_sql(changes(now=now)[state], deadline_state=state, flagged_at=now)

        key = ("deadline states", changes.__qualname__, state, due_soon_days())
        statements.append(statement_compiled(key, build, now=now))
    ran = statements_run(statements)
    return {state: done.rowcount for state, done in zip(states, ran, strict=True)}


@transaction.atomic(savepoint=False)
def deadline_states_flag(
    *, now: dt.datetime, commitment_ids: Sequence[int] | None = None
) -> dict[str, int]:
    """Move every commitment (or those of ``commitment_ids``) into its state at ``now``.

    Return the rows moved per state, in ``DeadlineState`` order, and tell the flag listeners
    of each state that gained rows, in the same transaction.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    ids = list(commitment_ids) if commitment_ids is not None else None
    changes = deadline_state_changes(now=now, commitment_ids=ids) if ids is not None else None
    flagged: dict[str, int] = {}
    # A write first: on SQLite it takes the write lock before any read (no stale snapshot).
    # Then the other states; a caller that writes rows referring to these commitments (the
    # alerts) does so after this, so every writer takes the commitment row locks first.
    order = (
        DeadlineState.NONE,
        DeadlineState.SUSPENDED,
        DeadlineState.OVERDUE,
        DeadlineState.DUE_SOON,
        DeadlineState.ON_TRACK,
    )
    if changes is None:
        flagged = _flag_all(deadline_state_changes, states=order, now=now)
    else:
        for state in order:
            flagged[state] = changes[state].update(deadline_state=state, flagged_at=now)
    statistics_refresh(model=Commitment, changed=sum(flagged.values()))
    vacuum_after_commit(model=Commitment, changed=sum(flagged.values()))
    for moved_into, count in flagged.items():
        if count:
            hooks.deadline_state_flagged(state=moved_into, now=now, commitment_ids=ids)
    return {state: flagged[state] for state in DeadlineState.values}


@transaction.atomic(savepoint=False)
def occurrence_states_flag(
    *, now: dt.datetime, commitment_ids: Sequence[int] | None = None
) -> dict[str, int]:
    """Move every occurrence (or those of ``commitment_ids``) into its state at ``now``.

    Return the rows moved per state, in ``DeadlineState`` order. Run after
    :func:`deadline_states_flag` (the commitment rows are locked first, as everywhere).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if commitment_ids is None:
        flagged = _flag_all(occurrence_state_changes, states=DeadlineState.values, now=now)
    else:
        changes = occurrence_state_changes(now=now, commitment_ids=commitment_ids)
        flagged = {
            state: changes[state].update(deadline_state=state, flagged_at=now)
            for state in DeadlineState.values
        }
    statistics_refresh(model=Occurrence, changed=sum(flagged.values()))
    vacuum_after_commit(model=Occurrence, changed=sum(flagged.values()))
    return flagged
