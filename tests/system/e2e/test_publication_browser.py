"""An editor takes a seeded agreement off the public site and sends it for review, in a real
Chromium: the reason is asked for first, the panel shows each step, and the overview lists
what awaits review; on a desktop and a phone-sized screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from commitments.choices import PublicationState
from commitments.models import Agreement, PublicationEvent

pytestmark = pytest.mark.django_db(transaction=True)

#: The screenshots' widths: a desktop and a phone.
WIDTHS = {"desktop": 1280, "phone": 390}


def _shoot_widths(page: Page, shoot, step: str) -> None:
    for name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        shoot(page, f"{step}-{name}")
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def test_editor_unpublishes_with_a_reason_then_submits_for_review(logged_in, live_server, shoot):
    page = logged_in
    agreement = Agreement.objects.order_by("pk").first()
    assert agreement is not None and agreement.publication_state == PublicationState.PUBLISHED
    page.goto(f"{live_server.url}/agreements/{agreement.pk}/")
    panel = page.locator("section.publication")
    expect(panel).to_contain_text("Published")
    expect(panel.get_by_role("link", name="View on the public site")).to_have_attribute(
        "href", f"/public/en/agreements/{agreement.key}/"
    )

    panel.get_by_role("button", name="Unpublish").click()
    expect(page.get_by_role("alert").first).to_contain_text("Say why")
    _shoot_widths(page, shoot, "unpublish-refused")
    assert Agreement.objects.get(pk=agreement.pk).publication_state == PublicationState.PUBLISHED

    page.get_by_label("Note", exact=True).fill("A date in the summary is being checked.")
    page.locator("section.publication").get_by_role("button", name="Unpublish").click()
    panel = page.locator("section.publication")
    expect(panel).to_contain_text("Draft")
    expect(panel.locator(".publication-events")).to_contain_text("being checked")
    expect(panel.get_by_role("link", name="View on the public site")).to_have_count(0)

    panel.get_by_role("button", name="Submit for review").click()
    expect(page.locator("section.publication")).to_contain_text("In review")
    _shoot_widths(page, shoot, "in-review")
    assert list(
        PublicationEvent.objects.filter(agreement=agreement, user__isnull=False)
        .order_by("at").values_list("action", flat=True)
    ) == ["unpublish", "submit"]

    page.goto(f"{live_server.url}/")
    review = page.locator("section.awaiting-review")
    expect(review).to_contain_text(agreement.title)
    expect(review).to_contain_text("erin")
    _shoot_widths(page, shoot, "overview")
