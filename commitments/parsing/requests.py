"""What a request to the parser must hold, checked once for the command and the API.

The messages are in the active language: English in the command, the request's in the API.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from core.dates import DATE_OUT_OF_RANGE, DATE_RANGE, date_in_range

from . import LANGUAGES, MAX_TEXT_LENGTH


class RequestError(ValueError):
    """A request the parser cannot take; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class ParseRequest:
    """A text to read, its language, and the agreement's date (if known)."""

    text: str
    lang: str
    anchor: dt.date | None


def read_request(text: Any, lang: Any, anchor: Any) -> ParseRequest:
    """Return the request, or raise :class:`RequestError` naming the first bad part.

    ``anchor`` may be a date, an ISO date string, or ``None``/``""`` for no anchor.
    """
    if not isinstance(text, str):
        raise RequestError("text", _("Give the text as a string."))
    if len(text) > MAX_TEXT_LENGTH:
        raise RequestError(
            "text",
            _("The text has %(length)s characters; the parser reads at most %(limit)s.")
            % {"length": len(text), "limit": MAX_TEXT_LENGTH},
        )
    if lang not in LANGUAGES:
        raise RequestError(
            "lang",
            _("Unknown language %(lang)s: the parser reads %(languages)s.")
            % {"lang": repr(lang), "languages": ", ".join(LANGUAGES)},
        )
    return ParseRequest(text=text, lang=lang, anchor=read_anchor(anchor))


def read_anchor(value: Any) -> dt.date | None:
    """Return the agreement's date from a date, an ISO ``YYYY-MM-DD`` string, or nothing."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    elif isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise RequestError(
                "anchor",
                _("%(value)s is not a date; write it as YYYY-MM-DD.") % {"value": repr(value)},
            ) from None
    else:
        raise RequestError("anchor", _("Give the agreement's date as YYYY-MM-DD."))
    if not date_in_range(day):
        raise RequestError("anchor", str(DATE_OUT_OF_RANGE) % DATE_RANGE)
    return day
