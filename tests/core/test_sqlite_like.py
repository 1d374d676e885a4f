"""SQLite's ``LIKE`` folds the case of every letter, as PostgreSQL's searches do.

Checked on a plain SQLite connection, so that CI (PostgreSQL) runs it too; the dashboard's
source search (tests/dashboard/test_sources.py) shows it through Django on SQLite.
"""

import sqlite3
from typing import Any, cast

import pytest

from core.sqlite import fold_case_in_like


class _Wrapper:
    vendor = "sqlite"

    def __init__(self) -> None:
        self.connection = sqlite3.connect(":memory:")


@pytest.fixture
def database():
    wrapper = _Wrapper()
    fold_case_in_like(sender=None, connection=cast(Any, wrapper))  # what the receiver reads
    yield wrapper.connection
    wrapper.connection.close()


def matches(database, value, pattern, escape=None):
    if escape is None:
        return database.execute("SELECT ? LIKE ?", [value, pattern]).fetchone()[0]
    return database.execute("SELECT ? LIKE ? ESCAPE ?", [value, pattern, escape]).fetchone()[0]


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("Communiqué", "%communiqué%"),
        ("communiqué", "%COMMUNIQUÉ%"),
        ("États-Unis", "%états%"),
        ("Ελλάδα", "ελλάδα"),
        ("Premier alinéa\nsecond", "%alinéa%second"),
        ("key-7", "key__"),
    ],
)
def test_a_letter_matches_whatever_its_case(database, value, pattern):
    assert matches(database, value, pattern) == 1


@pytest.mark.parametrize(
    ("value", "pattern", "escape"),
    [
        ("50% done", r"%50\%%", "\\"),
        ("a_b", r"a\_b", "\\"),
    ],
)
def test_an_escaped_wildcard_stands_for_itself(database, value, pattern, escape):
    assert matches(database, value, pattern, escape) == 1
    assert matches(database, value.replace("%", "x").replace("_", "y"), pattern, escape) == 0


def test_wildcards_and_nulls_behave_as_in_sqlite(database):
    assert matches(database, "communiqué", "communiqu") == 0  # the whole value must match
    assert matches(database, "abc", "a_c") == 1 and matches(database, "abbc", "a_c") == 0
    assert matches(database, None, "%") is None
    assert matches(database, "x", None) is None
    assert matches(database, 42, "4%") == 1  # numbers are compared as their text


def test_a_wrong_escape_is_sqlites_error(database):
    with pytest.raises(sqlite3.OperationalError):
        matches(database, "a", "a", "ab")


def test_django_searches_fold_the_case_on_sqlite(db):
    from commitments.models import Party
    from tests import factories

    factories.party_make(key="etats-unis", name="États-Unis")
    assert list(Party.objects.filter(name__icontains="ÉTATS").values_list("key", flat=True)) == [
        "etats-unis"
    ]
    assert Party.objects.filter(name__iexact="états-unis").count() == 1
    assert not Party.objects.filter(name__icontains="etats").exists()  # accents stay
