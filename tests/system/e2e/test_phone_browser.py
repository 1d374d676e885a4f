"""The issue-12 sections read on a phone (390 px) in French without sideways scrolling.

French words are longer than English ones: the header's « Se déconnecter » and the
occurrences table of a recurring purchase target pushed the page wider than the screen.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from commitments.models import Agreement, Commitment, Party
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = 390
DEFENCE = "japan-defence-spending-2-percent-gdp"


def _overflow(page: Page) -> int:
    """How many pixels the page is wider than the screen."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_french_pages_fit_a_phone(logged_in, live_server, shoot):
    page = logged_in
    summit = Agreement.objects.get(commitments__key=DEFENCE)
    purchases = factories.recurring_commitment_make(
        agreement=summit,
        obligor=Party.objects.get(name="Japan"),
        key="farm-purchases-a-year",
        title="Japan buys $8 billion of US farm products a year",
    )
    defence = Commitment.objects.get(key=DEFENCE)
    page.select_option("#language", "fr")
    page.locator("form.lang button").click()
    page.set_viewport_size({"width": PHONE, "height": 900})
    for name, path in [
        ("defence", f"/commitments/{defence.pk}/"),
        ("revise", f"/commitments/{defence.pk}/revise/"),
        ("purchases", f"/commitments/{purchases.pk}/"),
        ("occurrence", f"/commitments/{purchases.pk}/occurrences/1/"),
        ("overview", "/"),
        ("late", "/commitments/?fulfilment_timing=late"),
        ("agreement", f"/agreements/{summit.pk}/"),
    ]:
        page.goto(f"{live_server.url}{path}")
        assert page.locator("html").get_attribute("lang") == "fr"
        shoot(page, f"{name}-fr-phone")
        assert _overflow(page) == 0, name
