"""The API's request parser: JSON, with the text PostgreSQL cannot store refused up front."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers

from core.text import nul_errors


class JSONParser(parsers.JSONParser):
    """Parse a JSON body and refuse any string in it holding a NUL, naming its field.

    DRF's ``CharField`` refuses a NUL, but other fields pass the text on (a username looked
    up by ``SlugRelatedField``, a form's choice of a source), where PostgreSQL fails on it.
    Refusing it here covers every field of every endpoint, present and future.
    """

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        data = super().parse(stream, media_type, parser_context)
        errors = nul_errors(data)
        if errors:
            raise exceptions.ValidationError(errors)
        return data
