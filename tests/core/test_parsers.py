"""The API's JSON parser: its pre-scan of nesting takes time in proportion to the body."""

from __future__ import annotations

import pytest

from core.rest.parsers import _STRING, nesting_depth


@pytest.mark.parametrize(
    "body",
    [
        '"' + '\\"' * 50_000,
        '"' + '\\"' * 50_000 + "\\",
        '"' + "\\" * 100_001,
        '"\\' * 50_000,
    ],
)
def test_an_unterminated_string_is_one_match_to_the_end_so_no_quote_is_tried_twice(body):
    """A string that never closes is skipped in one match, from its quote to the end.

    With the old pattern such a match failed after scanning to the end, and the scan began
    again at every later quote: 80 KB of backslash-quotes took 20 s, the 2.5 MB a request may
    hold would have held a worker for hours.
    """
    match = _STRING.match(body)
    assert match is not None
    assert match.end() == len(body)


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ('{"a": "x\\"y", "b": [1, {"c": "]"}]}', 3),
        ('["\\\\", "[", {"k\\"": "}"}]', 2),
        ("[" * 40, 40),
        ('{"a": "[[[[[["}', 1),
    ],
)
def test_brackets_inside_strings_do_not_count(text, depth):
    assert nesting_depth(text) == depth
