"""The dashboard read in French from the seeds: French titles, party names and descriptions;
an untranslated commitment in English, marked; both at 1,280 and 390 px without sideways
scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from commitments.models import Agreement, Commitment, Party
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

DEFENCE = "japan-defence-spending-2-percent-gdp"
WIDTHS = {"desktop": 1280, "phone": 390}


def _overflow(page: Page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_the_french_list_and_commitment_page_show_the_seeds_in_french(
    logged_in, live_server, shoot
):
    page = logged_in
    defence = Commitment.objects.get(key=DEFENCE)
    summit = Agreement.objects.get(commitments__key=DEFENCE)
    untranslated = factories.commitment_make(
        agreement=summit,
        obligor=Party.objects.get(key="japan"),
        key="untranslated-example",
        title="A commitment nobody has translated yet",
    )
    page.select_option("#language", "fr")
    page.locator("form.lang button").click()
    for name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})

        list_url = f"/commitments/?agreement={summit.pk}&ordering=-agreement_date"
        page.goto(f"{live_server.url}{list_url}")
        assert page.locator("html").get_attribute("lang") == "fr"
        table = page.locator("table.list")
        assert table.get_by_text(defence.title_fr).count() == 1
        assert table.get_by_text(defence.title).count() == 0
        assert table.get_by_text("Japon").count() > 0
        fallback = table.locator('span[lang="en"]', has_text=untranslated.title)
        assert fallback.count() == 1
        assert page.get_by_role("columnheader", name="Date d’échéance").count() == 1
        assert page.get_by_role("columnheader", name="État de l’échéance").count() == 1
        shoot(page, f"list-fr-{name}")
        assert _overflow(page) == 0, name

        page.goto(f"{live_server.url}/commitments/{defence.pk}/")
        assert page.locator("h1").inner_text() == defence.title_fr
        assert page.get_by_text(defence.description_fr[:40]).count() == 1
        assert page.locator(".crumbs").inner_text() == summit.title_fr
        shoot(page, f"commitment-fr-{name}")
        assert _overflow(page) == 0, name


def test_the_french_overview_and_agreement_page_name_parties_and_agreements_in_french(
    logged_in, live_server, shoot
):
    page = logged_in
    summit = Agreement.objects.get(commitments__key=DEFENCE)
    page.select_option("#language", "fr")
    page.locator("form.lang button").click()
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})

    page.goto(f"{live_server.url}/")
    assert page.get_by_role("link", name="Japon", exact=True).count() >= 1
    assert page.get_by_role("link", name=summit.title_fr, exact=True).count() >= 1
    shoot(page, "overview-fr-desktop")

    page.goto(f"{live_server.url}/agreements/{summit.pk}/")
    assert page.locator("h1").inner_text() == summit.title_fr
    assert page.locator("p.summary").inner_text() == summit.summary_fr
    assert page.get_by_role("link", name="États-Unis", exact=True).count() >= 1
    shoot(page, "agreement-fr-desktop")
    assert page.locator('span[lang="en"]').count() == 0
