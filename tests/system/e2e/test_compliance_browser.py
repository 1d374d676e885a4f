"""An editor reads an agreement's compliance as of a date, freezes a report and downloads it.

In a real Chromium against the live server: the Japan–US summit's investment is rated for
Japan in the works on 1 Dec 2025 and stalled on 1 Mar 2026 (through the rating service); the
page as of 31 Jan 2026 shows the first rating, the comparison since then the change; the
frozen report downloads as CSV (with its BOM) and as a PDF. Screenshots in English and in
French, at 1,280 and 390 px, go to the test's temporary directory.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from commitments.models import Commitment, Report
from commitments.services.assessments import assessment_record

pytestmark = pytest.mark.django_db(transaction=True)

SUMMIT = "japan-us-summit-2025-10-28"
INVESTMENT = "japan-investment-550-billion-usd"
WIDTHS = {"desktop": 1280, "phone": 390}


def _shoot(page: Page, folder, step: str) -> None:
    for name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{step}-{name}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def _noon(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")


def _switch_language(page: Page, code: str) -> None:
    page.locator("select#language").select_option(code)
    page.locator("form.lang button").click()
    page.wait_for_load_state()


def test_editor_reads_compliance_as_of_a_date_freezes_a_report_and_downloads_it(
    logged_in, live_server, editor_login, tmp_path
):
    page = logged_in
    investment = Commitment.objects.select_related("agreement", "obligor").get(key=INVESTMENT)
    assessment_record(
        commitment=investment, party=investment.obligor, rating="in_the_works",
        justification="A first tranche of projects was announced.",
        assessed_on=dt.date(2025, 12, 1), user=editor_login, now=_noon("2025-12-02"),
    )
    assessment_record(
        commitment=investment, party=investment.obligor, rating="stalled",
        justification="No project has been financed since December.",
        assessed_on=dt.date(2026, 3, 1), user=editor_login, now=_noon("2026-03-02"),
    )
    agreement = investment.agreement
    page.goto(f"{live_server.url}/agreements/{agreement.pk}/")
    expect(page.locator("#compliance-h")).to_contain_text("Compliance today")
    row = page.locator(".party-compliance tr", has_text=investment.title)
    expect(row).to_contain_text("Stalled")

    page.get_by_label("As of", exact=True).fill("2026-01-31")
    page.get_by_label("What changed since", exact=True).fill("2025-11-15")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#compliance-h")).to_contain_text("Compliance as of Jan. 31, 2026")
    expect(row).to_contain_text("In the works")
    changes = page.locator(".changes")
    expect(changes).to_contain_text("Not yet rated")
    expect(changes).to_contain_text("A first tranche of projects was announced.")
    _shoot(page, tmp_path, "agreement-as-of-en")

    page.get_by_label("As of", exact=True).fill("2999-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("form.as-of .errorlist")).to_contain_text("in the future")

    page.goto(f"{live_server.url}/agreements/{agreement.pk}/")
    page.get_by_label("Title", exact=True).fill("Interim 2026")
    page.get_by_label("Cut-off date").fill("2026-01-31")
    page.get_by_role("button", name="Freeze the report").click()
    expect(page.locator(".messages")).to_contain_text("The report was frozen.")
    expect(page.locator("h1")).to_have_text("Interim 2026")
    report = Report.objects.get()
    assert report.rows.get(commitment_key=INVESTMENT).rating == "in_the_works"
    expect(page.locator(".report-table tr", has_text=investment.title)).to_contain_text(
        "In the works")
    _shoot(page, tmp_path, "report-en")

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Download CSV").click()
    csv_bytes = open(csv_download.value.path(), "rb").read()  # noqa: SIM115
    assert csv_bytes.startswith(b"\xef\xbb\xbfreport,cutoff,commitment_key")
    assert INVESTMENT.encode() in csv_bytes
    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Download PDF").click()
    pdf_bytes = open(pdf_download.value.path(), "rb").read()  # noqa: SIM115
    assert pdf_bytes.startswith(b"%PDF-") and b"%%EOF" in pdf_bytes[-32:]
    (tmp_path / "report-en.pdf").write_bytes(pdf_bytes)

    _switch_language(page, "fr")
    expect(page.locator(".downloads")).to_contain_text("Télécharger le PDF")
    _shoot(page, tmp_path, "report-fr")
    with page.expect_download() as pdf_fr:
        page.get_by_role("link", name="Télécharger le PDF").click()
    (tmp_path / "report-fr.pdf").write_bytes(open(pdf_fr.value.path(), "rb").read())  # noqa: SIM115
    page.goto(f"{live_server.url}/agreements/{agreement.pk}/?as_of=2026-01-31&since=2025-11-15")
    expect(page.locator("#compliance-h")).to_contain_text("Conformité au")
    _shoot(page, tmp_path, "agreement-as-of-fr")
    print(f"screenshots and PDFs in {tmp_path}")
