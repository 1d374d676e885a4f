"""A deadline given as a phrase in the import, read by the text parser."""

from __future__ import annotations

import datetime as dt

import pytest

from commitments.choices import RuleKind
from commitments.models import Commitment
from tests.commitments.test_import_engine import as_csv, run

pytestmark = pytest.mark.django_db

COLUMNS = ["key", "agreement", "title", "obligor", "category", "deadline_phrase",
           "deadline_kind", "offset_amount", "offset_unit", "anchor_kind", "language",
           "citation_source", "citation_quote"]


def phrase_row(phrase: str, **values: str) -> dict[str, str]:
    return {"key": "meeting", "agreement": "summit-2025-10-28", "title": "Meeting",
            "obligor": "japan", "category": "meeting", "deadline_phrase": phrase,
            "language": "en", **values}


@pytest.mark.parametrize(
    ("phrase", "language", "due"),
    [
        ("within 90 days", "en", dt.date(2026, 1, 26)),
        ("dans les 180 jours", "fr", dt.date(2026, 4, 26)),
        ("through 2028", "en", dt.date(2028, 12, 31)),
    ],
)
def test_a_phrase_without_rule_fields_is_read_with_the_agreements_date_as_anchor(
    agreement, japan, phrase, language, due
):
    report = run(as_csv([phrase_row(phrase, language=language)], COLUMNS).encode())
    assert report.ok, report.errors
    meeting = Commitment.objects.get(key="meeting")
    assert meeting.due_date == due
    assert meeting.deadline_phrase == phrase


def test_the_phrase_language_comes_from_the_cited_source_when_no_language_is_given(
    agreement, japan
):
    from tests import factories

    factories.source_make(key="le-monde", language="fr")
    row = phrase_row("d'ici mars", language="", citation_source="le-monde",
                     citation_quote="d'ici mars")
    report = run(as_csv([row], COLUMNS).encode())
    assert report.ok, report.errors
    assert Commitment.objects.get(key="meeting").due_date == dt.date(2026, 3, 31)


def test_explicit_rule_fields_win_over_the_phrase_which_is_kept_as_their_words(
    agreement, japan
):
    row = phrase_row("within 90 days", deadline_kind="relative", offset_amount="180",
                     offset_unit="days", anchor_kind="agreement")
    assert run(as_csv([row], COLUMNS).encode()).ok
    meeting = Commitment.objects.get(key="meeting")
    assert meeting.deadline_kind == RuleKind.RELATIVE
    assert meeting.due_date == dt.date(2026, 4, 26)
    assert meeting.deadline_phrase == "within 90 days"


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        ({"deadline_phrase": "within a while"}, "deadline_phrase",
         "could not read a deadline from 'within a while': give deadline_kind and its fields."),
        ({"language": "de", "deadline_phrase": "innerhalb von 90 Tagen"}, "deadline_phrase",
         "could not read a deadline"),
        ({"language": ""}, "language", "give the language of the deadline phrase"),
    ],
)
def test_a_phrase_that_cannot_be_read_is_an_error_and_nothing_is_written(
    agreement, japan, values, column, message
):
    report = run(as_csv([phrase_row("within 90 days", **values)], COLUMNS).encode())
    assert [(e.line, e.column) for e in report.errors] == [(2, column)]
    assert message in report.errors[0].message
    assert not Commitment.objects.exists()
