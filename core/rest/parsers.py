"""The API's JSON parser: DRF's, refusing bodies no client of ours sends before they do harm.

Three kinds of valid JSON break things after parsing. A body nested tens of thousands deep makes
the decoder raise ``RecursionError``, a server error. A ``\\ud800`` escape decodes to a lone
UTF-16 surrogate, text that cannot be encoded as UTF-8: the 400 that repeats it, the log line
that quotes it and the database all fail on it. Both are answered here with a 400, the second
naming the field that holds it. A NUL character is refused naming its field too: DRF's
``CharField`` refuses it, but other fields pass the text on (a username looked up by
``SlugRelatedField``), where PostgreSQL fails on it. Nothing reaches a serializer.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from core.text import nul_errors

#: How deep objects and arrays may nest; the deepest body of the API has three levels.
MAX_DEPTH = 32

#: A JSON string, or an unterminated one to the end of the text. Every match that starts
#: succeeds (possessively, up to its closing quote or the end), so no start is tried twice:
#: linear time. A pattern that could fail after scanning (an unterminated string) retried at
#: each later quote, quadratic: 80 KB of backslash-quotes took 20 s.
_STRING = re.compile(r'"(?:[^"\\]|\\.?)*+(?:"|\Z)', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def nesting_depth(text: str) -> int:
    """Return how deep the arrays and objects of the JSON ``text`` nest (strings skipped)."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def surrogate_paths(data: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Yield the path of each key or string of ``data`` holding a lone surrogate."""
    if isinstance(data, str):
        if _SURROGATE.search(data):
            yield path
    elif isinstance(data, Mapping):
        for key, value in data.items():
            if _SURROGATE.search(key):
                yield (*path, "non_field_errors")
            else:
                yield from surrogate_paths(value, (*path, key))
    elif isinstance(data, list):
        for value in data:
            yield from surrogate_paths(value, path)


def _error_at(path: tuple[str, ...], message: str) -> dict[str, Any] | list[str]:
    detail: dict[str, Any] | list[str] = [message]
    for part in reversed(path):
        detail = {part: detail}
    return detail


class JsonBodyParser(JSONParser):
    """Parse a JSON body; refuse one nested too deep, or holding a lone surrogate or a NUL."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = stream.read()
        if nesting_depth(body.decode("utf-8", errors="replace")) > MAX_DEPTH:
            raise exceptions.ParseError(
                _("JSON parse error - arrays and objects nest deeper than %(depth)s levels.")
                % {"depth": MAX_DEPTH}
            )
        data = super().parse(io.BytesIO(body), media_type, parser_context)
        for path in surrogate_paths(data):
            message = _("Not valid text: it holds a lone UTF-16 surrogate (\\ud800-\\udfff).")
            if not path:
                raise exceptions.ParseError(
                    _("JSON parse error - %(reason)s") % {"reason": message}
                )
            raise exceptions.ValidationError(_error_at(path, message))
        errors = nul_errors(data)
        if errors:
            raise exceptions.ValidationError(errors)
        return data
