"""``manage.py parse_commitment_text``: one JSON object per text, one line per --jsonl line."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def run(*args, stdin=None):
    out = StringIO()
    call_command("parse_commitment_text", *args, stdout=out, **({"stdin": stdin} if stdin else {}))
    return out.getvalue()


def test_one_text_prints_one_json_object():
    out = run("--lang", "fr", "--anchor", "2025-10-28",
              "le Japon augmentera ses dépenses militaires à 2 % du PIB d’ici mars")
    answer = json.loads(out)
    assert answer["deadline"]["kind"] == "period_end"
    assert answer["deadline"]["due_date"] == "2026-03-31"
    assert answer["deadline"]["precision"] == "month"
    assert answer["deadline"]["phrase"] == "d’ici mars"
    assert (answer["deadline"]["period_unit"], answer["deadline"]["period_number"]) == ("month", 3)
    assert answer["effective_from"] is None
    assert answer["target"]["amount"] == "2"
    assert answer["target"]["unit"] == "percent_gdp"
    assert out.count("\n") == 1


def test_the_named_keys_are_there_even_when_nothing_is_proposed():
    answer = json.loads(run("--lang", "en", "Both sides will keep talking."))
    assert answer["deadline"] is None
    assert answer["effective_from"] is None
    assert answer["target"] is None


def test_jsonl_answers_each_line_in_order_and_reports_bad_lines():
    lines = [
        {"lang": "en", "anchor": "2025-08-21", "text": "a review within 90 days"},
        "not json",
        {"lang": "de", "anchor": "2025-08-21", "text": "innerhalb von 90 Tagen"},
        {"lang": "en", "anchor": "2025-08-21", "text": "$750 billion through 2028"},
        {"lang": "fr", "anchor": "2025-8-21", "text": "d’ici 2028"},
        {"lang": "fr", "anchor": None, "text": "à compter du 1er août 2025"},
    ]
    stdin = StringIO("".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                             for line in lines))
    out = StringIO()
    with pytest.raises(CommandError, match="3 line"):
        call_command("parse_commitment_text", "--jsonl", stdin=stdin, stdout=out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(answers) == 6
    assert answers[0]["deadline"]["due_date"] == "2025-11-19"
    assert answers[1]["error"].startswith("line 2:")
    assert "lang" in answers[2]["error"] and "line 3" in answers[2]["error"]
    assert answers[3]["deadline"]["due_date"] == "2028-12-31"
    assert answers[3]["target"] == {"amount": "750000000000", "unit": "USD",
                                    "phrase": "$750 billion", "span": [0, 12]}
    assert "anchor" in answers[4]["error"]
    assert answers[5]["effective_from"] == "2025-08-01"


def test_jsonl_with_good_lines_only_succeeds():
    stdin = StringIO(json.dumps({"lang": "fr", "anchor": "2025-10-28", "text": "d’ici mars"})
                     + "\n\n")
    out = run("--jsonl", stdin=stdin)
    assert [json.loads(line)["deadline"]["due_date"] for line in out.splitlines()] == [
        "2026-03-31"]


@pytest.mark.parametrize(("args", "named"), [
    (("--lang", "de", "text"), "--lang"),
    (("text",), "--lang"),
    (("--lang", "en", "--anchor", "tomorrow", "text"), "--anchor"),
    (("--lang", "en", "--anchor", "2300-01-01", "text"), "--anchor"),
    (("--lang", "en"), "text"),
    (("--lang", "en", "--jsonl", "text"), "text"),
    (("--lang", "en", "x" * 20_001), "--text"),
])
def test_bad_arguments_are_a_command_error_naming_them(args, named):
    with pytest.raises(CommandError, match=named):
        run(*args)
