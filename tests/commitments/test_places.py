"""Time zones guessed from an agreement's place or its parties' countries."""

import pytest

from commitments.places import time_zone_guess, time_zone_names, zone_for_country


@pytest.mark.parametrize(
    ("place", "zone"),
    [
        ("Tokyo", "Asia/Tokyo"),
        ("Tokyo, Japan", "Asia/Tokyo"),
        ("Washington", "America/New_York"),
        ("Washington, D.C.", "America/New_York"),
        ("Brussels", "Europe/Brussels"),
        ("Bruxelles", "Europe/Brussels"),
        ("New York", "America/New_York"),
        ("São Paulo", "America/Sao_Paulo"),
        ("Genève", "Europe/Zurich"),
        ("Japan", "Asia/Tokyo"),
        ("Turnberry (Scotland)", "Europe/London"),
    ],
)
def test_a_place_gives_its_zone(place, zone):
    """A city the tz database names, a capital named after another city, or a country."""
    assert time_zone_guess(place) == zone


def test_an_unknown_place_falls_back_on_the_parties_countries():
    """The parties decide when the place says nothing: their country's main zone."""
    assert time_zone_guess("Nowhere in particular", ["US"]) == "America/New_York"
    assert time_zone_guess("", ["CA"]) == "America/Toronto"
    assert time_zone_guess("", ["FR", ""]) == "Europe/Paris"


def test_parties_in_different_zones_give_no_guess():
    """Japan and the United States lie in different zones: no guess rather than a wrong one."""
    assert time_zone_guess("", ["JP", "US"]) is None
    assert time_zone_guess("", []) is None


def test_the_place_wins_over_the_parties():
    assert time_zone_guess("Tokyo", ["US"]) == "Asia/Tokyo"


def test_country_codes_and_the_searchable_list():
    assert zone_for_country("jp") == "Asia/Tokyo"
    assert zone_for_country("RU") == "Europe/Moscow"
    assert zone_for_country("") is None
    names = time_zone_names()
    assert "Asia/Tokyo" in names and "UTC" in names
    assert "US/Eastern" not in names  # aliases are left out of the list
    assert list(names) == sorted(names)
