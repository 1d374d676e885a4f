"""Text PostgreSQL cannot store: the NUL character, refused where input enters.

A NUL (``\\x00``) in a value reaches the database as an error ("text fields cannot contain
NUL"), not as a refusal naming the field; Django's form fields and DRF's ``CharField`` refuse
it, but lookups by a text value (a username, a key) and the CSV import do not. The API's
parser (``core.rest.parsers``) and the import refuse it with :func:`nul_errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

NUL = "\x00"
#: The words DRF's own ``ProhibitNullCharactersValidator`` uses.
NUL_REFUSED = _("Null characters are not allowed.")


def nul_errors(data: Any) -> dict[str, Any]:
    """Return the errors for every string in ``data`` holding a NUL, nested as ``data`` is.

    A NUL in an object's value (or key) is reported under that key, in a list item under the
    list's key (an index is not a field name); one outside any object under
    ``non_field_errors``. The walk keeps its own stack: a deeply nested body must not exhaust
    Python's recursion limit here.
    """
    errors: dict[str, Any] = {}
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                _error_at(errors, path)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if NUL in str(key):
                    _error_at(errors, (*path, str(key)))
                else:
                    stack.append((item, (*path, str(key))))
        elif isinstance(value, list):
            stack.extend((item, path) for item in value)
    return errors


def _error_at(errors: dict[str, Any], path: tuple[str, ...]) -> None:
    *outer, name = path or ("non_field_errors",)
    for key in outer:
        errors = errors.setdefault(key, {})
    errors[name] = [str(NUL_REFUSED)]


#: The characters XML 1.0 cannot carry (C0 controls but tab, line feed and carriage return).
_NOT_XML = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def xml_safe(text: str) -> str:
    """Return ``text`` without the control characters XML 1.0 cannot carry (a stored vertical
    tab would otherwise make every Atom feed that shows it fail)."""
    return text.translate(_NOT_XML)
