"""French is complete: every string we write has a translation, and the catalogue is built."""

from __future__ import annotations

import gettext
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
#: What makemessages reads: the project package, every app and the project templates.
SOURCES = [
    "tracker",
    "templates",
    *sorted(path.parent.name for path in ROOT.glob("*/apps.py")),
]


def _catalog(po_file: Path) -> dict[str, list[str]]:
    """Return msgid → msgstr list (one per plural form) of a .po file, via msgfmt."""
    mo_file = po_file.with_suffix(".check.mo")
    subprocess.run(["msgfmt", "-o", str(mo_file), str(po_file)], check=True)
    with mo_file.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    mo_file.unlink()
    return catalog


def _msgids(po_file: Path) -> set[str]:
    """Return every msgid of a .po file (singular forms), header excluded.

    A message with a context (``pgettext``) is keyed as gettext keys it: ``context\x04msgid``.
    """
    ids, current, reading, context = set(), [], False, ""
    for line in po_file.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgctxt "):
            context = _unquoted([line[8:]])
        elif line.startswith("msgid "):
            current, reading = [line[6:]], True
        elif reading and line.startswith('"'):
            current.append(line)
        elif reading:
            reading = False
            text = _unquoted(current)
            if text:
                ids.add(f"{context}\x04{text}" if context else text)
            context = ""
    return ids


def _unquoted(parts: list[str]) -> str:
    text = "".join(part.strip()[1:-1] for part in parts)
    return text.encode().decode("unicode_escape").encode("latin-1").decode()


@pytest.fixture(scope="module")
def fresh_po(tmp_path_factory) -> Path:
    """Extract the strings of the current sources into a scratch copy of the project."""
    copy = tmp_path_factory.mktemp("messages")
    for name in [*SOURCES, "manage.py"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy(source, copy / name)
    (copy / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-location", "-v", "0"],
        cwd=copy,
        check=True,
        env={"PATH": "/usr/bin:/bin", "TRACKER_VAR_DIR": str(copy / "var"), "PYTHONPATH": ""},
    )
    return copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def test_every_string_in_the_sources_has_a_french_translation(fresh_po):
    translated = {msgid for msgid, text in _catalog(PO).items() if msgid and text}
    plural_ids = {msgid[0] for msgid in _catalog(PO) if isinstance(msgid, tuple)}
    missing = sorted(_msgids(fresh_po) - translated - plural_ids)
    assert not missing, f"No French translation for: {missing}"


def test_the_committed_catalogue_is_compiled_from_the_committed_translations():
    with MO.open("rb") as handle:
        committed = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    assert committed == _catalog(PO), "run: manage.py compilemessages"


@pytest.mark.parametrize(
    ("language", "value", "unit", "expected"),
    [
        ("en", "550000000000", "USD", "$550,000,000,000"),
        ("fr", "550000000000", "USD", "550\xa0000\xa0000\xa0000 $"),
        ("en", "15", "percent", "15%"),
        ("fr", "15", "percent", "15 %"),
        ("fr", "2", "percent_gdp", "2 % du PIB"),
        ("en", "2.5", "percent_gdp", "2.50% of GDP"),
        ("fr", "1", "meetings", "1 réunion"),
    ],
)
def test_amounts_are_written_as_the_reader_language_writes_them(language, value, unit, expected):
    template = Template("{% load tracker %}{{ value|amount:unit }}")
    with translation.override(language):
        assert template.render(Context({"value": Decimal(value), "unit": unit})) == expected
