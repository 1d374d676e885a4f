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
    assert field.clean("$750 bn") == Decimal("750000000000")
    assert field.clean("600bn") == Decimal("600000000000")
    assert field.clean("1.5 million") == Decimal("1500000")
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


@pytest.mark.parametrize("text", ["750 billion", "$750 billion", "750 Billions", "1.5 trillion"])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_form_field_refuses_billion_which_is_10_9_in_english_and_10_12_in_french(text, lang):
    """An English source's "750 billion" typed on a French page must not become 750 × 10^12,
    nor a French « 750 billions » typed on an English page 750 × 10^9."""
    field = AmountField(required=False, max_digits=20, decimal_places=4, min_value=0)
    with translation.override(lang), pytest.raises(ValidationError) as refused:
        field.clean(text)
    assert refused.value.code == "ambiguous_scale"
    message = str(refused.value.messages[0])
    assert ("milliard" in message and "bn" in message), message


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("750 bn", "750000000000"),  # 10^9 in both languages
        ("750 milliards", "750000000000"),  # French only
        ("1,2 milliard", "1200000000"),
        ("750\u202f000\u202f000\u202f000", "750000000000"),
        ("2 millions", "2000000"),
    ],
)
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_form_field_reads_a_scale_word_sure_in_both_languages_on_either_page(
    text, amount, lang
):
    field = AmountField(required=False, max_digits=20, decimal_places=4, min_value=0)
    with translation.override(lang):
        assert field.clean(text) == Decimal(amount)


def test_a_stored_amount_shows_without_its_stored_decimals():
    field = AmountField(required=False, max_digits=20, decimal_places=4, min_value=0)
    assert field.prepare_value(Decimal("750000000000.0000")) == "750000000000"
    assert field.prepare_value(Decimal("2.5000")) == "2.5"
    assert field.prepare_value(None) is None
