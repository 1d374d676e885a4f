"""An editor records an extension of a deadline on the dashboard, in a real Chromium.

The seeded ministerial is due 180 days after the 28 Oct 2025 summit: 26 Apr 2026. Extended to
March 2027 (month precision), the page shows the original and the new date, the revision with
its reason and evidence, in English and in French, on a desktop and a phone-sized screen.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from commitments.models import Commitment, DeadlineRevision

pytestmark = pytest.mark.django_db(transaction=True)

MINISTERIAL = "minerals-ministerial-180-days-by-japan"
#: The screenshots' widths: a desktop and a phone.
WIDTHS = {"desktop": 1280, "phone": 390}


def _shoot_widths(page: Page, shoot, step: str) -> None:
    """Save full-page screenshots of the page at a desktop and at a phone width."""
    for name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        shoot(page, f"{step}-{name}")
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def test_editor_extends_a_deadline_with_evidence_and_reads_it_in_english_and_french(
    logged_in, live_server, shoot
):
    page = logged_in
    commitment = Commitment.objects.get(key=MINISTERIAL)
    page.goto(f"{live_server.url}/commitments/{commitment.pk}/")
    expect(page.locator(".deadline-dates")).to_contain_text("April 26, 2026")
    rule = page.locator("dd.rule")
    expect(rule).to_contain_text("→ April 26, 2026")
    page.get_by_role("link", name="Revise the deadline").click()

    page.get_by_label("Kind of revision").select_option("extended")
    page.get_by_role("button", name="Record the revision").click()
    expect(page.get_by_role("alert").first).to_contain_text("required")
    _shoot_widths(page, shoot, "revision-refused")
    assert not DeadlineRevision.objects.exists()

    page.get_by_label("New due date").fill("2027-03-10")
    page.get_by_label("Precision of the new date").select_option("month")
    page.get_by_label("Reason", exact=True).fill(
        "Les deux gouvernements ont prorogé le délai jusqu'en mars 2027."
    )
    page.get_by_label("Evidence source").select_option(index=1)
    # A quote of the first source (Gate), as its archived text has it (issue 14).
    page.get_by_label("Quote (original language)").fill("Une démonstration de force en mer")
    page.get_by_role("button", name="Record the revision").click()

    expect(page.locator(".messages")).to_contain_text("revision of the deadline was recorded")
    dates = page.locator(".deadline-dates")
    expect(dates).to_contain_text("April 26, 2026")
    expect(dates).to_contain_text("March 2027")
    revisions = page.locator("ol.revisions")
    expect(revisions).to_contain_text("Extended")
    expect(revisions).to_contain_text("April 26, 2026 → March 2027")
    expect(revisions).to_contain_text("prorogé le délai jusqu'en mars 2027")
    expect(revisions.locator("blockquote")).to_have_text("Une démonstration de force en mer")
    expect(revisions).to_contain_text("erin")
    # The rule still says what it gives; the revision moved the due date, not the rule.
    expect(rule).to_contain_text("→ April 26, 2026")
    explanation = page.locator(".explanation")
    expect(explanation).to_contain_text("originally April 26, 2026")
    expect(explanation).to_contain_text("extended on")
    expect(explanation).to_contain_text("to March 2027, because Les deux gouvernements")
    _shoot_widths(page, shoot, "revision-english")
    stored = Commitment.objects.get(pk=commitment.pk)
    assert (str(stored.original_due_date), str(stored.due_date)) == ("2026-04-26", "2027-03-31")

    page.locator("form.lang").get_by_label("Language", exact=True).select_option("fr")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    dates = page.locator(".deadline-dates")
    expect(dates).to_contain_text("Date d’échéance initiale")
    expect(dates).to_contain_text("26 avril 2026")
    expect(dates).to_contain_text("mars 2027")
    expect(page.locator("ol.revisions")).to_contain_text("Prorogé")
    expect(page.locator("ol.revisions")).to_contain_text("26 avril 2026 → mars 2027")
    explanation = page.locator(".explanation")
    expect(explanation).to_contain_text("initialement 26 avril 2026")
    expect(explanation).to_contain_text("nouvelle échéance mars 2027")
    _shoot_widths(page, shoot, "revision-french")

    page.get_by_role("link", name="Réviser l’échéance").click()
    expect(page.get_by_label("Nouvelle date d’échéance")).to_be_visible()
    _shoot_widths(page, shoot, "revision-form-french")
