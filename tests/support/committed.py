"""Read what another transaction has committed, on a connection of its own."""

from __future__ import annotations

import threading
from typing import Any

from django.db import connection, models


def committed_state(model: type[models.Model], pk: Any) -> str:
    """Return the ``state`` of ``model``'s row ``pk`` as committed now, read on a connection
    of its own (a thread's): what another sender, or a crashed one's successor, would see."""
    seen: list[str] = []

    def read() -> None:
        try:
            seen.append(model._default_manager.values_list("state", flat=True).get(pk=pk))
        finally:
            connection.close()

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=30)
    return seen[0]
