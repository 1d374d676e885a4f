"""Every public page type, in English and in French, in a real Chromium: no serious or critical
accessibility violation (axe-core), and screenshots at 1,280 and 390 px to look at.

The seeds load published (the Japan–US summit and its commitments, with French texts); the
investment is rated with evidence and a report frozen and corrected, so every part of the
pages shows. The screenshots go to ``test-artifacts/screenshots/public/``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Page

from commitments.models import Commitment
from commitments.services.assessments import assessment_record
from commitments.services.reports import report_correct, report_freeze
from commitments.visibility import public_citations

from .conftest import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)

INVESTMENT = "japan-investment-550-billion-usd"
WIDTHS = {"desktop": 1280, "phone": 390}
#: The impacts that fail the test; "moderate" and "minor" are reported, not failed.
BLOCKING = {"serious", "critical"}


def _pages() -> dict[str, dict]:
    investment = Commitment.objects.select_related("agreement", "obligor").get(key=INVESTMENT)
    citation = public_citations().filter(commitment=investment).select_related("source").first()
    assessment_record(
        commitment=investment,
        party=investment.obligor,
        rating="in_the_works",
        justification="A first tranche of projects was announced.",
        assessed_on=dt.date(2025, 12, 1),
        evidence=citation,
        now=dt.datetime(2025, 12, 2, 12, tzinfo=dt.UTC),
    )
    now = dt.datetime(2026, 2, 2, 12, tzinfo=dt.UTC)
    report = report_freeze(
        agreement=investment.agreement, title="Interim 2026", cutoff=dt.date(2026, 2, 1), now=now
    )
    report_correct(
        report=report,
        row=None,
        field="report",
        new_value="Japan and the United States.",
        note="A party was missing from the summary.",
        corrected_on=dt.date(2026, 2, 2),
        now=now,
    )
    key = investment.agreement.key
    return {
        "overview": {},
        "agreement": {"key": key},
        "commitment": {"key": investment.key},
        "party": {"key": investment.obligor.key},
        "source": {"key": citation.source.key},
        "report": {"key": key, "report_id": report.pk},
        "methodology": {},
    }


def _shoot(page: Page, name: str) -> None:
    folder = ARTIFACTS / "public"
    folder.mkdir(parents=True, exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
        # Wide tables scroll in their own box; the page never scrolls sideways.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: {overflow}px wider than a {width}px screen"
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def test_every_public_page_type_passes_axe_in_english_and_french(seeded, live_server, page):
    axe = Axe()
    failures = []
    for name, kwargs in _pages().items():
        for lang in ("en", "fr"):
            response = page.goto(
                live_server.url + reverse(f"public:{name}", kwargs={"lang": lang, **kwargs})
            )
            assert response is not None and response.status == 200, (name, lang)
            assert page.locator("html").get_attribute("lang") == lang
            assert page.locator("main h1").count() == 1, (name, lang)
            _shoot(page, f"{name}-{lang}")
            violations = axe.run(page).response["violations"]
            failures += [
                (name, lang, v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                for v in violations
                if v["impact"] in BLOCKING
            ]
    assert failures == []


def test_a_keyboard_reader_skips_to_the_content_and_sees_the_focus(seeded, live_server, page):
    page.goto(live_server.url + reverse("public:overview", kwargs={"lang": "fr"}))
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0
    outline = page.locator("a.skip").evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"
