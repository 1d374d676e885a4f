"""Keys made from titles: the slug an editor gets when they leave the key empty."""

from __future__ import annotations

import pytest

from commitments.models import Commitment, Source
from commitments.services.keys import key_from_title
from tests import factories


def test_accents_are_folded_and_punctuation_dropped(db):
    key = key_from_title("Déclaration commune UE–États-Unis (août 2025)", Source)
    assert key == "declaration-commune-ue-etats-unis-aout-2025"


def test_a_title_without_latin_letters_falls_back_on_the_model_name(db):
    assert key_from_title("日米首脳会談", Source) == "source"
    assert key_from_title("", Commitment) == "commitment"


def test_a_long_title_fits_the_field_and_ends_on_a_word(db):
    title = "Joint statement on a United States European Union framework " * 4
    key = key_from_title(title, Source)
    assert len(key) <= (Source._meta.get_field("key").max_length or 0)
    assert not key.endswith("-")
    assert title.lower().replace(" ", "-").startswith(key)


def test_a_taken_key_gets_the_next_free_number(db):
    factories.source_make(key="joint-statement")
    factories.source_make(key="joint-statement-2")
    assert key_from_title("Joint statement", Source) == "joint-statement-3"


def test_a_numbered_key_of_a_long_title_still_fits(db):
    title = "x" * 100
    base = key_from_title(title, Source)
    assert base == "x" * 64
    factories.source_make(key=base)
    second = key_from_title(title, Source)
    assert second == "x" * 62 + "-2"
    factories.source_make(key=second)
    assert key_from_title(title, Source) == "x" * 62 + "-3"


def test_the_row_itself_can_be_left_out(db):
    row = factories.source_make(key="joint-statement")
    assert key_from_title("Joint statement", Source, exclude_pk=row.pk) == "joint-statement"


@pytest.mark.parametrize("title", ["a" * 300, "--Hello--World--", "  ", "L’Union européenne"])
def test_every_key_passes_the_fields_validation(db, title):
    key = key_from_title(title, Source)
    Source._meta.get_field("key").run_validators(key)
    assert "--" not in key and key == key.strip("-")
