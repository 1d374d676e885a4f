"""The week page and the corrections log in a browser, English and French: axe-core finds no
serious or critical violation, the pages fit a phone (390 px) without sideways scrolling, and
screenshots at 1,280 and 390 px go to ``test-artifacts/screenshots``."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from commitments.models import Commitment
from commitments.services.commitments import commitment_change_status
from commitments.services.corrections import correction_record
from commitments.visibility import public_commitments

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (1280, 390)


def _serious(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.fixture
def changed(seeded: Any, editor_login: Any) -> Commitment:
    """A seeded public commitment with a status change and a correction made now."""
    commitment = public_commitments().filter(status="not_started").order_by("key").first()
    assert commitment is not None
    commitment_change_status(
        commitment=commitment, status="in_progress",
        note="Officials met in Tokyo & agreed on a <timetable>.", user=editor_login,
    )
    correction_record(
        target=commitment, changes={"title": f"{commitment.title} (corrected)"},
        note="The title left out a word.", user=editor_login,
    )
    return commitment


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("path", ["changes", "corrections"])
def test_public_change_pages_are_accessible_and_fit(
    live_server: Any, page: Page, shoot: Any, changed: Commitment, lang: str, path: str
) -> None:
    page.goto(f"{live_server.url}/public/{lang}/{path}/")
    assert page.locator("html").get_attribute("lang") == lang
    assert "The title left out a word." in page.locator("main").inner_text()
    assert page.locator(f"main a[href$='/public/{lang}/commitments/{changed.key}/']").count()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        shoot(page, f"{width}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow}px wider than a {width}px screen"
        assert _serious(page) == []
