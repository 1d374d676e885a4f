"""Time zones guessed from a place or from the parties' countries: pure, no ORM.

An agreement's deadlines end at the end of their day in its time zone, and the editor should
not have to find "Asia/Tokyo" in a list of six hundred. :func:`time_zone_guess` reads the tz
database's own tables: a zone's name ends with its city ("Tokyo" is Asia/Tokyo), ``iso3166.tab``
names the countries ("Japan" is JP) and ``zone.tab`` lists each country's zones, most
populous region first (US: America/New_York). A short table covers what those tables cannot
say: capitals and meeting places whose zone is named after another city (Washington is in
America/New_York, Ottawa in America/Toronto) and countries whose first listed zone is not
where their government sits (Canada's first is St John's). When unsure it guesses nothing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

#: Places whose zone is named after another city. Keys are folded (see :func:`_fold`).
PLACE_ZONES = {
    "washington": "America/New_York",
    "washington dc": "America/New_York",
    "washington d c": "America/New_York",
    "camp david": "America/New_York",
    "mar a lago": "America/New_York",
    "palm beach": "America/New_York",
    "san francisco": "America/Los_Angeles",
    "ottawa": "America/Toronto",
    "canberra": "Australia/Sydney",
    "wellington": "Pacific/Auckland",
    "beijing": "Asia/Shanghai",
    "new delhi": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "hanoi": "Asia/Ho_Chi_Minh",
    "osaka": "Asia/Tokyo",
    "kyoto": "Asia/Tokyo",
    "hiroshima": "Asia/Tokyo",
    "yokohama": "Asia/Tokyo",
    "yokosuka": "Asia/Tokyo",
    "geneva": "Europe/Zurich",
    "geneve": "Europe/Zurich",
    "bern": "Europe/Zurich",
    "berne": "Europe/Zurich",
    "davos": "Europe/Zurich",
    "the hague": "Europe/Amsterdam",
    "la haye": "Europe/Amsterdam",
    "strasbourg": "Europe/Paris",
    "munich": "Europe/Berlin",
    "milan": "Europe/Rome",
    "turnberry": "Europe/London",
    "ankara": "Europe/Istanbul",
    "brasilia": "America/Sao_Paulo",
    "pretoria": "Africa/Johannesburg",
    "abu dhabi": "Asia/Dubai",
    "bruxelles": "Europe/Brussels",
    "pekin": "Asia/Shanghai",
    "londres": "Europe/London",
    "varsovie": "Europe/Warsaw",
    "vienne": "Europe/Vienna",
    "moscou": "Europe/Moscow",
}
#: Countries whose government sits elsewhere than in the first zone ``zone.tab`` lists.
COUNTRY_ZONES = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CL": "America/Santiago",
    "EC": "America/Guayaquil",
    "ES": "Europe/Madrid",
    "ID": "Asia/Jakarta",
    "KZ": "Asia/Almaty",
    "MX": "America/Mexico_City",
    "NZ": "Pacific/Auckland",
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
}
_SEPARATORS = re.compile(r"\s*(?:,|;|/|\(|\)|\band\b|\bet\b)\s*")


def _fold(text: str) -> str:
    """Return ``text`` lowercased, without accents, punctuation folded into single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _table(name: str) -> list[list[str]]:
    """Return the rows of one of the tz database's ``.tab`` files (tzdata's, else the system's)."""
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        path = Path("/usr/share/zoneinfo") / name
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@functools.cache
def _city_zones() -> dict[str, str]:
    """Return each zone's city, folded, and its zone ("new york" → America/New_York)."""
    cities: dict[str, str] = {}
    # Zones listed per country first: a city name means its canonical zone, not an alias.
    listed = [row[2] for row in _table("zone.tab") if len(row) > 2]
    for zone in [*listed, *sorted(zoneinfo.available_timezones())]:
        if "/" not in zone or zone.startswith(("Etc/", "SystemV/")):
            continue
        cities.setdefault(_fold(zone.rsplit("/", 1)[1].replace("_", " ")), zone)
    return cities


@functools.cache
def _country_zones() -> dict[str, str]:
    """Return each ISO 3166 code's main zone: ours where set, else the first ``zone.tab`` lists."""
    zones: dict[str, str] = {}
    for row in _table("zone.tab"):
        if len(row) > 2:
            zones.setdefault(row[0], row[2])
    zones.update(COUNTRY_ZONES)
    return zones


@functools.cache
def _country_names() -> dict[str, str]:
    """Return each country's name, folded, and its code ("japan" → JP)."""
    return {_fold(row[1]): row[0] for row in _table("iso3166.tab") if len(row) > 1}


def zone_for_country(code: str) -> str | None:
    """Return the main time zone of the country with ISO 3166-1 alpha-2 ``code``."""
    return _country_zones().get(code.strip().upper()) if code else None


def zone_for_place(place: str) -> str | None:
    """Return the zone of a city or country named in ``place`` ("Tokyo, Japan"), or ``None``.

    The place's parts are tried in order (the city before the country); a part naming no
    known city or country is skipped.
    """
    whole = _fold(place or "")
    parts = [whole, *(_fold(part) for part in _SEPARATORS.split(place or ""))]
    for part in parts:
        if not part:
            continue
        zone = PLACE_ZONES.get(part) or _city_zones().get(part)
        if zone is None and part in _country_names():
            zone = zone_for_country(_country_names()[part])
        if zone is not None:
            return zone
    return None


def time_zone_guess(place: str, country_codes: Iterable[str] = ()) -> str | None:
    """Return the time zone an agreement made at ``place`` by parties of these countries uses.

    The place decides when it names a known city or country; otherwise the parties' countries,
    when they all lie in one zone (Japan and the United States do not: no guess).
    """
    zone = zone_for_place(place)
    if zone is not None:
        return zone
    zones = {zone_for_country(code) for code in country_codes if code}
    zones.discard(None)
    return zones.pop() if len(zones) == 1 else None


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """Return the canonical zone names, sorted: the searchable list the pages offer."""
    listed = {row[2] for row in _table("zone.tab") if len(row) > 2}
    return tuple(sorted(listed | {"UTC"}))
