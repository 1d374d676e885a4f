"""Repeated HTML rows written in Python: the escaping and memos every row writer shares.

A page that repeats one row for each of a thousand commitments spends most of its time in
the template engine's nodes, not in its SQL. The row writers (the public agreement page's,
the dashboard agreement page's, a report's body) write the same HTML as the template loops
they replaced, with every value escaped as ``{{ value }}`` would (:func:`escape`), and work a
table repeats done once per table (:func:`memo`: memos that live for one call, never across
requests).
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils.safestring import SafeData, SafeString

#: A pk no row has, written into one reversed URL to find where a row's pk goes.
_PK_MARK = 9_223_372_036_854_775_807


def escape(value: Any) -> str:
    """Escape ``value`` as ``{{ value }}`` does (``conditional_escape``), without its wrappers."""
    if isinstance(value, SafeData):
        return str(value)
    return html.escape(str(value))


def memo(function: Callable[..., Any]) -> Callable[..., str]:
    """Return ``function`` escaped and remembered by its arguments, for one table's rows."""
    seen: dict[Any, str] = {}

    def call(*args: Any) -> str:
        # By type too: 200 and 200.0 are one key of a dict, but are written "200" and "200.0".
        # One argument (a row's dates and coordinates, thousands a table) makes a flat key,
        # built at half the cost; its second item is a type, never a tuple as the others'.
        key = (args[0], type(args[0])) if len(args) == 1 else (args, tuple(map(type, args)))
        try:
            return seen[key]
        except KeyError:
            seen[key] = text = escape(function(*args))
            return text

    return call


def truncated(text: Any, length: int) -> str:
    """Return ``text|truncatechars:length`` as the filter writes it.

    A text that fits is the filter's answer without its work: the filter returns a text of
    at most ``length`` characters once NFC-normalized whole (it counts fewer, never more),
    and builds a ``Truncator`` and translates its ellipsis on every call (20 us, a timeline
    row's title). Safe text, which the filter keeps safe, goes through it.
    """
    if length > 0 and not isinstance(text, SafeData):
        fitting = unicodedata.normalize("NFC", str(text))
        if len(fitting) <= length:
            return fitting
    return truncatechars(text, length)


def safe(text: str) -> SafeString:
    """Mark rows written with :func:`escape` as safe HTML.

    Every value in ``text`` went through :func:`escape`. ``SafeString`` itself rather than
    ``mark_safe()``, whose wrapper for lazy texts costs more than the marking: the rows' text
    is never lazy, and a page marks a link per commitment.
    """
    return SafeString(text)


def pk_urls(route: str, pks: Iterable[Any]) -> dict[Any, str]:
    """Return the URL of ``route`` for each of ``pks``, reversing the route once for all.

    ``reverse()`` per row costs more than the rest of a row's link; the URL is the same for
    every row with the pk put where ``reverse()`` puts it (``route`` takes the pk alone).
    """
    before, after = reverse(route, args=[_PK_MARK]).split(str(_PK_MARK))
    return {pk: f"{before}{pk}{after}" for pk in pks}
