"""Text for CSV and spreadsheet cells that a spreadsheet will not run as a formula.

Every export of user-typed text (the API's streamed CSV, the admin's import-export) passes
its text through :func:`formula_escape`, so a title such as ``=HYPERLINK(...)`` opens as text.
"""

from __future__ import annotations

#: A spreadsheet reads a cell starting with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_escape(text: str) -> str:
    """Return ``text`` with a leading ``'`` if a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text
