"""A long unbroken note or URL never widens a page (issue 13, item 8), on a laptop or a phone.

A 5,000-character word once made the commitment page 1.9 million pixels wide. The pages are
also looked at in both languages at 1,280 and 390 px: shared commitments name every obligor,
the countdown says "overdue", and the agreement's timeline lists undated commitments below it.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from commitments.choices import Status
from commitments.models import Agreement, Commitment, Source
from commitments.services.commitments import commitment_change_status, commitment_update

pytestmark = pytest.mark.django_db(transaction=True)

MINISTERIAL = "minerals-ministerial-180-days-by-japan"
SUMMIT = "japan-us-summit-2025-10-28"
WORD = "x" * 5000
URL = "https://example.org/" + "a" * 3000


def _width(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_5000_character_note_and_a_long_url_keep_the_page_in_the_viewport(
    logged_in, live_server, editor_login, shoot, width
):
    page = logged_in
    ministerial = Commitment.objects.get(key=MINISTERIAL)
    commitment_change_status(
        commitment=ministerial,
        status=Status.IN_PROGRESS,
        user=editor_login,
        now=timezone.now(),
        note=f"{WORD} {URL}",
        # A source kept without its text takes any quote: here a very long URL.
        evidence_source=Source.objects.create(
            key="long-url-source", title="A page named by its URL", publisher="Web",
            language="en", published_on=ministerial.agreement.date, kind="press",
        ),
        evidence_quote=URL,
    )
    commitment_update(commitment=ministerial, description=f"{WORD}\n{URL}", user=editor_login)
    page.set_viewport_size({"width": width, "height": 900})
    for name, path in [
        ("commitment", f"/commitments/{ministerial.pk}/"),
        ("agreement", f"/agreements/{ministerial.agreement_id}/"),
        ("list", "/commitments/"),
    ]:
        page.goto(f"{live_server.url}{path}")
        shoot(page, f"{name}-{width}")
        scroll_width, viewport = _width(page)
        assert scroll_width <= viewport, (name, scroll_width, viewport)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_review_pages_in_both_languages(logged_in, live_server, shoot, language, width):
    """The shared commitment names both obligors, is overdue, and fits the screen."""
    page = logged_in
    ministerial = Commitment.objects.get(key=MINISTERIAL)
    if language == "fr":
        page.select_option("#language", "fr")
        page.locator("form.lang button").click()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/commitments/{ministerial.pk}/")
    shoot(page, f"commitment-{language}-{width}")
    # Party names are shown as recorded, in both languages (as the obligor always was).
    # Party names in the reader's language (issue 15): the seeds name both in French too.
    expected = "Japon, États-Unis" if language == "fr" else "Japan, United States"
    assert page.locator("dd.obligors").inner_text() == expected
    countdown = page.locator(".countdown").inner_text()
    today = timezone.now().astimezone(ZoneInfo(ministerial.agreement.time_zone)).date()
    overdue = (today - ministerial.due_date).days
    assert str(overdue) in countdown
    assert ("overdue" if language == "en" else "retard") in countdown
    page.goto(f"{live_server.url}/agreements/{ministerial.agreement_id}/")
    shoot(page, f"agreement-{language}-{width}")
    assert _width(page)[0] <= _width(page)[1]
    # The summit's ongoing commitments have no date: listed under the timeline, not drawn.
    summit = Agreement.objects.get(key=SUMMIT)
    page.goto(f"{live_server.url}/agreements/{summit.pk}/")
    shoot(page, f"summit-{language}-{width}")
    assert _width(page)[0] <= _width(page)[1]
    undated = page.locator("p.undated a")
    no_date = summit.commitments.filter(
        due_date__isnull=True,
        effective_from__isnull=True,
        announced_on__isnull=True,
        signed_on__isnull=True,
        in_force_on__isnull=True,
        ended_on__isnull=True,
    )
    assert undated.count() == no_date.count() > 10
    assert page.locator("svg.timeline g.row").count() < 10
