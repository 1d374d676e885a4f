"""A reviewer's and an editor's day, in a real Chromium, against the live server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from commitments.models import Commitment

pytestmark = pytest.mark.django_db(transaction=True)

MINISTERIAL = "minerals-ministerial-180-days-by-japan"


def _commitment_url(live_server, key):
    return f"{live_server.url}/commitments/{Commitment.objects.get(key=key).pk}/"


def test_overview_agreement_timeline_compliance_and_filtered_list(logged_in, live_server, shoot):
    page = logged_in
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="By agreement")).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile("Critical Minerals and Rare Earths"))
    ).to_be_visible()
    shoot(page, "overview")

    page.get_by_role("link", name=re.compile("Critical Minerals and Rare Earths")).first.click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    timeline = page.locator("svg.timeline")
    expect(timeline).to_be_visible()
    expect(timeline.locator("g.today")).to_have_count(1)
    # Two dated promises, each shared by Japan and the US (one commitment each since issue 13).
    expect(timeline.locator("circle.mark-due")).to_have_count(2)
    # One table per obligor (each shared promise counts for both), with its average.
    compliance = page.locator("section.compliance")
    expect(compliance.get_by_role("heading", name="Japan", exact=True)).to_be_visible()
    expect(compliance.get_by_role("heading", name="United States", exact=True)).to_be_visible()
    expect(compliance.locator("table tr.average")).to_have_count(2)
    shoot(page, "agreement")

    page.get_by_role("link", name="Commitments", exact=True).first.click()
    page.get_by_label("Category").select_option("meeting")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.list tbody tr")
    expect(rows.first).to_contain_text("ministerial")
    for title in rows.locator("td:first-child").all_inner_texts():
        assert "ministerial" in title.lower() or "meet" in title.lower()
    shoot(page, "filtered-list")


def test_editor_records_a_fulfilment_with_evidence_and_sees_it_in_history(
    logged_in, live_server, shoot
):
    page = logged_in
    page.goto(_commitment_url(live_server, MINISTERIAL))
    expect(page.locator("dd.rule")).to_contain_text(
        "180 days after the agreement's date (Oct. 28, 2025)"
    )
    page.get_by_label("Status", exact=True).select_option("fulfilled")
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.get_by_role("alert").first).to_contain_text("evidence")
    shoot(page, "refused-without-evidence")

    # The status form, not the rating form beside it since issue 13.
    form = page.get_by_role("region", name="Record progress or a status")
    form.get_by_label("Status", exact=True).select_option("fulfilled")
    form.get_by_label("Date", exact=True).fill("2026-03-15")
    form.get_by_label("Evidence source").select_option(index=1)
    # A quote of the first source (Gate), as its archived text has it (issue 14).
    form.get_by_label("Quote (original language)").fill("Une démonstration de force en mer")
    form.get_by_label("Note", exact=True).fill("Held in Washington.")
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.locator("dd.status")).to_have_text("Fulfilled")
    history = page.locator("ol.history")
    expect(history).to_contain_text("Fulfilled")
    expect(history).to_contain_text("Une démonstration de force en mer")
    expect(history).to_contain_text("erin")
    shoot(page, "fulfilled")


def test_watch_a_commitment_and_find_it_on_the_watching_page(logged_in, live_server, shoot):
    page = logged_in
    page.goto(_commitment_url(live_server, MINISTERIAL))
    page.get_by_role("button", name="Watch").click()
    expect(page.get_by_role("button", name="Stop watching")).to_be_visible()
    page.get_by_role("link", name="Watching").click()
    expect(page.locator("main")).to_contain_text("bilateral ministerial")
    shoot(page, "watching")


def test_switch_to_french_shows_french_labels_and_dates(logged_in, live_server, shoot):
    page = logged_in
    page.goto(_commitment_url(live_server, MINISTERIAL))
    page.locator("form.lang").get_by_label("Language", exact=True).select_option("fr")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("link", name="Vue d’ensemble")).to_be_visible()
    expect(page.locator("dd.rule")).to_contain_text(
        "180 jours après la date de l’accord (28 octobre 2025)"
    )
    expect(page.locator("dd.rule")).to_contain_text("26 avril 2026")
    shoot(page, "french")
