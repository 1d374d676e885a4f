"""Words kept once per language: a memory emptied when a setting changes.

Text in the reader's language depends on the language, the catalogues and the format
settings; the last two change only in tests (``override_settings``), and then every memory
of such words must go. :func:`per_language` is that memory, for a function whose arguments
name the language it writes in (or whatever else its words depend on).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.signals import setting_changed
from django.dispatch import receiver

F = TypeVar("F", bound=Callable[..., Any])

_MEMORIES: list[Any] = []


def per_language(maxsize: int = 256) -> Callable[[F], F]:
    """Remember ``function``'s results by its arguments (one of which names the language);
    forget them all when a setting changes."""

    def decorate(function: F) -> F:
        remembered = functools.lru_cache(maxsize=maxsize)(function)
        _MEMORIES.append(remembered)
        return remembered  # type: ignore[return-value]

    return decorate


@receiver(setting_changed)
def _settings_changed(**kwargs: object) -> None:
    for remembered in _MEMORIES:
        remembered.cache_clear()
