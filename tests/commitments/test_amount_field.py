"""Target amounts typed as analysts write them ("750 billion"), not as 750000000000."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from commitments.forms import AmountField
from commitments.parsing.targets import read_amount


@pytest.mark.parametrize(
    ("text", "lang", "amount"),
    [
        ("750 billion", "en", "750000000000"),
        ("750bn", "en", "750000000000"),
        ("1.5 trillion", "en", "1500000000000"),
        ("1,2 milliard", "fr", "1200000000"),
        ("550 milliards", "fr", "550000000000"),
        ("750\u202f000\u202f000\u202f000", "fr", "750000000000"),
        ("750000000000", "en", "750000000000"),
        ("2,5", "fr", "2.5"),
    ],
)
def test_amounts_read_with_their_scale_words(text, lang, amount):
    assert read_amount(text, lang) == Decimal(amount)


@pytest.mark.parametrize(
    ("text", "lang"),
    [("1.500", "fr"), ("about 750 billion", "en"), ("750 billion dollars", "en"), ("", "en")],
)
def test_amounts_that_read_two_ways_or_carry_other_words_read_nothing(text, lang):
    assert read_amount(text, lang) is None


def test_the_form_field_takes_words_and_signs_and_refuses_the_rest():
    field = AmountField(required=False, max_digits=20, decimal_places=4, min_value=0)
    assert field.clean("$750 billion") == Decimal("750000000000")
    assert field.clean("600bn") == Decimal("600000000000")
    assert field.clean("1,2 milliard") == Decimal("1200000000")  # a French figure, English page
    assert field.clean("") is None
    with pytest.raises(ValidationError):
        field.clean("a lot")
    with pytest.raises(ValidationError):
        field.clean("-5")
    with translation.override("fr"):
        assert field.clean("2,5") == Decimal("2.5")
        with pytest.raises(ValidationError):
            field.clean("1,500")  # thousands or decimals: it reads two ways in French
