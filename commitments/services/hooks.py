"""Where other parts of the tracker react to changes in commitments.

The deadline watch re-evaluates a commitment's deadline state and alerts at once when its
status or due date changes; webhooks record what changed, with the old and new values, and
which rows a flagging of deadline states (:mod:`commitments.services.deadline_states`)
moved. Each registers itself here (in its ``AppConfig.ready``) so that this app does not
import it. Every listener is called inside the transaction of the change, so what it
writes commits or rolls back with the change itself.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

Listener = Callable[[Sequence[int]], None]
_listeners: list[Listener] = []


@dataclass(frozen=True)
class FieldChange:
    """One commitment field a service changed (``status`` or ``due_date``): old and new value."""

    commitment_id: int
    field: str
    old: Any
    new: Any


#: ``listener(changes, at)``: the fields changed at ``at``.
ChangeListener = Callable[[Sequence[FieldChange], dt.datetime], None]
_change_listeners: list[ChangeListener] = []

#: ``listener(state, now, commitment_ids)``: the flagging at ``now`` moved rows into ``state``.
FlagListener = Callable[[str, dt.datetime, "Sequence[int] | None"], None]
_flag_listeners: list[FlagListener] = []


def register(listener: Listener) -> None:
    """Call ``listener(commitment_ids)`` after a status or due-date change, in its transaction."""
    if listener not in _listeners:
        _listeners.append(listener)


def unregister(listener: Listener) -> None:
    """Stop calling ``listener``; do nothing if it was not registered."""
    if listener in _listeners:
        _listeners.remove(listener)


def deadline_inputs_changed(*, commitment_ids: Sequence[int]) -> None:
    """Tell listeners that these commitments' status or due date changed.

    Within :func:`batched`, the ids are kept and the listeners told once, as the batch ends.
    """
    batch = _batch.get()
    if batch is not None:
        batch.commitment_ids.update(dict.fromkeys(commitment_ids))
        return
    for listener in _listeners:
        listener(commitment_ids)


@dataclass
class _Batch:
    commitment_ids: dict[int, None] = field(default_factory=dict)
    changes: list[tuple[Sequence[FieldChange], dt.datetime]] = field(default_factory=list)


_batch: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("hooks_batch", default=None)


def batching() -> bool:
    """Return whether the listeners are told at the end of a :func:`batched` block."""
    return _batch.get() is not None


@contextmanager
def batched() -> Iterator[None]:
    """Tell the listeners once for every change made within, when the block ends without error.

    For a service writing many rows in one transaction (the import): the deadline watch
    re-evaluates all the rows in one scan instead of one scan per row, then the change
    listeners hear every change, in order, as they would have. Must end inside the
    transaction of the changes, so what the listeners write commits or rolls back with them.
    Nested blocks join the outer one.
    """
    if _batch.get() is not None:
        yield
        return
    batch = _Batch()
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    if transaction.get_rollback():
        return  # the changes are being rolled back: there is nothing to tell
    if batch.commitment_ids:
        deadline_inputs_changed(commitment_ids=list(batch.commitment_ids))
    for changes, at in batch.changes:
        fields_changed(changes=changes, at=at)


def register_changes(listener: ChangeListener) -> None:
    """Call ``listener(changes, at)`` after status or due-date changes, in their transaction."""
    if listener not in _change_listeners:
        _change_listeners.append(listener)


def unregister_changes(listener: ChangeListener) -> None:
    """Stop calling ``listener``; do nothing if it was not registered."""
    if listener in _change_listeners:
        _change_listeners.remove(listener)


def fields_changed(*, changes: Sequence[FieldChange], at: dt.datetime) -> None:
    """Tell listeners which status or due-date values changed at ``at`` (after the rescan)."""
    batch = _batch.get()
    if batch is not None:
        if changes:
            batch.changes.append((list(changes), at))
        return
    if changes:
        for listener in _change_listeners:
            listener(changes, at)


def register_flags(listener: FlagListener) -> None:
    """Call ``listener(state, now, commitment_ids)`` when a flagging moves rows into a state."""
    if listener not in _flag_listeners:
        _flag_listeners.append(listener)


def unregister_flags(listener: FlagListener) -> None:
    """Stop calling ``listener``; do nothing if it was not registered."""
    if listener in _flag_listeners:
        _flag_listeners.remove(listener)


def deadline_state_flagged(
    *, state: str, now: dt.datetime, commitment_ids: Sequence[int] | None
) -> None:
    """Tell listeners the flagging at ``now`` moved rows into ``state`` (``flagged_at = now``).

    ``commitment_ids`` is the flagging's restriction (``None``: every commitment). Listeners
    find the rows moved set-based, with ``Commitment.objects.flagged(state, now)``.
    """
    for listener in _flag_listeners:
        listener(state, now, commitment_ids)


# Deadline revisions (issue 12): the webhooks write a ``deadline_revised`` event per revision.


@dataclass(frozen=True)
class DeadlineRevised:
    """A revision a service recorded on a commitment's deadline: what it did and why."""

    commitment_id: int
    revision_id: int
    kind: str
    revised_on: dt.date
    old_due_date: dt.date | None
    new_due_date: dt.date | None
    new_precision: str
    reason: str


#: ``listener(revision, at)``: the revision recorded at ``at``.
RevisionListener = Callable[[DeadlineRevised, dt.datetime], None]
_revision_listeners: list[RevisionListener] = []


def register_revisions(listener: RevisionListener) -> None:
    """Call ``listener(revision, at)`` after a deadline revision, in its transaction."""
    if listener not in _revision_listeners:
        _revision_listeners.append(listener)


def unregister_revisions(listener: RevisionListener) -> None:
    """Stop calling ``listener``; do nothing if it was not registered."""
    if listener in _revision_listeners:
        _revision_listeners.remove(listener)


def deadline_revised(*, revision: DeadlineRevised, at: dt.datetime) -> None:
    """Tell listeners a deadline was revised at ``at`` (after the rescan of its state)."""
    for listener in _revision_listeners:
        listener(revision, at)
