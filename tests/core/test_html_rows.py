"""The row writers' shared helpers give what the template filters they stand for give."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.defaultfilters import truncatechars
from django.utils import translation
from django.utils.safestring import SafeData, SafeString

from core.html_rows import memo, truncated

TEXTS = [
    "",
    "Meet",
    "Commitment 3201",
    "x" * 29,
    "x" * 30,
    "x" * 31,
    'Hold the summit <b>soon</b> & "quoted" — a very long title indeed',
    # Not NFC: the filter normalizes ("e" and a combining acute become "é").
    "Re\u0301sume\u0301 of the meeting",
    "Re\u0301sume\u0301 " * 6,
    # Combining marks the filter does not count.
    "a\u0301" * 30,
    "a\u0301" * 31,
    # NFC makes one character two (a composition exclusion).
    "\u0958" * 16,
    "\u0958" * 15,
    "Tenir la réunion « au sommet » d’ici le 31 décembre, sans faute",
]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("length", [30, 1, 0, -1, 64])
def test_truncated_is_the_filters_answer(language, length):
    with translation.override(language):
        for text in [*TEXTS, SafeString("<b>Safe</b> " * 5), SafeString("<i>ok</i>")]:
            ours, theirs = truncated(text, length), truncatechars(text, length)
            assert ours == theirs, text
            assert isinstance(ours, SafeData) == isinstance(theirs, SafeData), text


def test_memo_writes_each_value_as_the_function_does_by_value_and_type():
    calls = []

    def words(*args):
        calls.append(args)
        return " ".join(map(str, args)) + " <&>"

    remembered = memo(words)
    day = dt.date(2026, 3, 31)
    assert remembered(200) == "200 &lt;&amp;&gt;"
    assert remembered(200.0) == "200.0 &lt;&amp;&gt;"
    assert remembered(True) == "True &lt;&amp;&gt;"
    assert remembered(day) == remembered(day) == "2026-03-31 &lt;&amp;&gt;"
    assert remembered(day, "month") == "2026-03-31 month &lt;&amp;&gt;"
    assert remembered(200, 1) == "200 1 &lt;&amp;&gt;"
    assert remembered(200.0, 1) == "200.0 1 &lt;&amp;&gt;"
    assert remembered((200,)) == "(200,) &lt;&amp;&gt;"
    assert remembered(200) == "200 &lt;&amp;&gt;"
    assert calls == [
        (200,),
        (200.0,),
        (True,),
        (day,),
        (day, "month"),
        (200, 1),
        (200.0, 1),
        ((200,),),
    ]
