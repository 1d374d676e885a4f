"""Where other parts of the tracker react to changes in commitments.

The deadline watch re-evaluates a commitment's deadline state at once when its status or due
date changes; it registers itself here (in its ``AppConfig.ready``) so that this app does not
import it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Listener = Callable[[Sequence[int]], None]
_listeners: list[Listener] = []


def register(listener: Listener) -> None:
    """Call ``listener(commitment_ids)`` after a status or due-date change, in its transaction."""
    if listener not in _listeners:
        _listeners.append(listener)


def unregister(listener: Listener) -> None:
    """Stop calling ``listener``; do nothing if it was not registered."""
    if listener in _listeners:
        _listeners.remove(listener)


def deadline_inputs_changed(*, commitment_ids: Sequence[int]) -> None:
    """Tell listeners that these commitments' status or due date changed."""
    for listener in _listeners:
        listener(commitment_ids)

