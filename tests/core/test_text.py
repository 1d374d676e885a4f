"""The refusal of text PostgreSQL cannot store: where in a body each NUL is reported."""

from __future__ import annotations

from core.text import nul_errors

REFUSED = ["Null characters are not allowed."]


def test_clean_data_has_no_errors():
    assert nul_errors({"a": "x", "b": [1, "y", {"c": None}], "d": 2.5}) == {}


def test_each_nul_is_reported_under_its_field_nested_as_the_body_is():
    body = {
        "title": "a\x00",
        "fine": "ok",
        "rule": {"phrase": "\x00", "kind": "fixed"},
        "ids": [1, "2\x00"],
        "items": [{"name": "\x00"}],
        "bad\x00key": 1,
    }
    assert nul_errors(body) == {
        "title": REFUSED,
        "rule": {"phrase": REFUSED},
        "ids": REFUSED,
        "items": {"name": REFUSED},
        "bad\x00key": REFUSED,
    }


def test_a_nul_outside_any_object_is_a_non_field_error():
    assert nul_errors("\x00") == {"non_field_errors": REFUSED}
    assert nul_errors(["x", "\x00"]) == {"non_field_errors": REFUSED}


def test_a_deeply_nested_body_is_walked_without_recursion():
    body: object = "\x00"
    for _ in range(5_000):
        body = {"a": body}
    errors = nul_errors(body)
    for _ in range(5_000 - 1):
        errors = errors["a"]
    assert errors == {"a": REFUSED}
